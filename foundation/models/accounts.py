"""Accounts (login identities) and memberships (a role held at an org unit)."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.db import Base
from foundation.models.base import Timestamps
from foundation.models.org import OrgUnit

PERSON_KINDS = ("staff", "student", "guardian")


class Account(Timestamps, Base):
    __tablename__ = "accounts"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    username: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    password_hash: so.Mapped[str | None] = so.mapped_column(sa.String(255))
    display_name: so.Mapped[str] = so.mapped_column(sa.String(60))
    person_kind: so.Mapped[str | None] = so.mapped_column(sa.String(16))
    person_id: so.Mapped[int | None] = so.mapped_column()
    active: so.Mapped[bool] = so.mapped_column(default=True)
    failed_logins: so.Mapped[int] = so.mapped_column(default=0)
    locked_until: so.Mapped[datetime | None] = so.mapped_column()
    last_login_at: so.Mapped[datetime | None] = so.mapped_column()
    # TOTP second factor (RFC 6238): the secret encrypted with the field cipher; NULL = not enrolled
    totp_secret_enc: so.Mapped[str | None] = so.mapped_column(sa.Text)
    totp_last_step: so.Mapped[int | None] = so.mapped_column()  # the last accepted time step: no replay

    memberships: so.Mapped[list[Membership]] = so.relationship(
        back_populates="account", cascade="all, delete-orphan", lazy="selectin"
    )


class Membership(Base):
    """``account`` holds ``role`` at ``org_unit``; ``school_id`` is NULL for district roles."""

    __tablename__ = "memberships"
    __table_args__ = (sa.UniqueConstraint("account_id", "role", "org_unit_id", name="uq_memberships_grant"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    account_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    role: so.Mapped[str] = so.mapped_column(sa.String(32))
    org_unit_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("org_units.id"), index=True)
    school_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("org_units.id"), index=True)

    account: so.Mapped[Account] = so.relationship(back_populates="memberships")
    org_unit: so.Mapped[OrgUnit] = so.relationship(foreign_keys=[org_unit_id], lazy="joined")


class LoginFailure(Base):
    """A failed password login, by address: throttles guessing across many accounts from one place. By
    username too: an unknown username locks exactly as a real account does (foundation/auth.py)."""

    __tablename__ = "login_failures"
    __table_args__ = (sa.Index("ix_login_failures_ip_at", "ip", "at"),
                      sa.Index("ix_login_failures_username_at", "username", "at"))

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    ip: so.Mapped[str] = so.mapped_column(sa.String(64))
    username: so.Mapped[str] = so.mapped_column(sa.String(64))
    at: so.Mapped[datetime] = so.mapped_column()


class WebSession(Base):
    """A browser session, kept on the server (foundation/security/sessions.py): the signed cookie carries a
    random id, this row its SHA-256. Logout and password changes end rows; a request whose row is ended,
    missing or too old is signed out."""

    __tablename__ = "web_sessions"

    id: so.Mapped[str] = so.mapped_column(sa.String(64), primary_key=True)
    account_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    created_at: so.Mapped[datetime] = so.mapped_column()
    ended_at: so.Mapped[datetime | None] = so.mapped_column()
