"""Federated login: upstream OpenID providers (city / parent portals), the identities they vouch for,
and one-time binding codes (家长绑定码) that a school gives a parent."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.db import Base, utcnow
from foundation.models.base import SchoolScoped


class UpstreamProvider(Base):
    __tablename__ = "fed_providers"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    slug: so.Mapped[str] = so.mapped_column(sa.String(40), unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(80))  # button label, e.g. 随申办
    issuer: so.Mapped[str] = so.mapped_column(sa.String(255), unique=True)
    client_id: so.Mapped[str] = so.mapped_column(sa.String(255))
    client_secret_enc: so.Mapped[str] = so.mapped_column(sa.Text)
    scopes: so.Mapped[str] = so.mapped_column(sa.String(255), default="openid profile")
    # the verified claim that identifies a person, and the claim saying it was verified (实名认证)
    id_claim: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    id_verified_claim: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    enabled: so.Mapped[bool] = so.mapped_column(default=True)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)


class FederatedIdentity(Base):
    """(issuer, sub) → account. Never keyed on e-mail or name."""

    __tablename__ = "fed_identities"
    __table_args__ = (sa.UniqueConstraint("issuer", "subject", name="uq_fed_identities_issuer_sub"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    provider_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("fed_providers.id", ondelete="CASCADE"))
    issuer: so.Mapped[str] = so.mapped_column(sa.String(255))
    subject: so.Mapped[str] = so.mapped_column(sa.String(255))
    account_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    linked_by: so.Mapped[str] = so.mapped_column(sa.String(20))  # verified_id | binding_code | admin
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    last_login_at: so.Mapped[datetime | None] = so.mapped_column()


class BindingCode(SchoolScoped, Base):
    """A one-time code for one guardian, issued by the school; stored as a hash."""

    __tablename__ = "fed_binding_codes"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    code_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    guardian_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("guardians.id", ondelete="CASCADE"), index=True)
    student_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("students.id", ondelete="CASCADE"))
    created_by: so.Mapped[int | None] = so.mapped_column()
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    expires_at: so.Mapped[datetime] = so.mapped_column()
    used_at: so.Mapped[datetime | None] = so.mapped_column()
    failed_attempts: so.Mapped[int] = so.mapped_column(default=0)


class BindFailure(Base):
    """A wrong binding code typed by a visitor an upstream identity vouches for. Counted on the server, per
    identity (SHA-256 of issuer and subject), so that replaying an older cookie does not reset the count."""

    __tablename__ = "fed_bind_failures"
    __table_args__ = (sa.Index("ix_fed_bind_failures_identity_at", "identity", "at"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    identity: so.Mapped[str] = so.mapped_column(sa.String(64))
    at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
