"""OpenID Connect provider state: signing keys, registered clients, codes, tokens, consents."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.db import Base, utcnow


class SigningKey(Base):
    """An RS256 key. Retired keys stay published in the JWKS until every token they signed expired."""

    __tablename__ = "oidc_signing_keys"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    kid: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    private_pem_enc: so.Mapped[str] = so.mapped_column(sa.Text)  # encrypted with the field cipher
    public_jwk: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    retired_at: so.Mapped[datetime | None] = so.mapped_column()


class OAuthClient(Base):
    """A relying party: an app, a plugin, a vendor's system. ``school_id`` NULL = district-wide."""

    __tablename__ = "oidc_clients"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    client_id: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    secret_hash: so.Mapped[str | None] = so.mapped_column(sa.String(128))  # SHA-256 of a 256-bit secret
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    name_en: so.Mapped[str | None] = so.mapped_column(sa.String(120))
    redirect_uris: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)
    post_logout_redirect_uris: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)
    grant_types: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)
    scopes: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)
    public: so.Mapped[bool] = so.mapped_column(default=False)
    first_party: so.Mapped[bool] = so.mapped_column(default=False)
    school_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("org_units.id"), index=True)
    active: so.Mapped[bool] = so.mapped_column(default=True)
    created_by: so.Mapped[int | None] = so.mapped_column()
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)


class AuthorizationCode(Base):
    __tablename__ = "oidc_codes"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    code_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    client_id: so.Mapped[str] = so.mapped_column(sa.String(64), index=True)
    account_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("accounts.id", ondelete="CASCADE"))
    redirect_uri: so.Mapped[str] = so.mapped_column(sa.Text)
    scope: so.Mapped[str] = so.mapped_column(sa.Text)
    nonce: so.Mapped[str | None] = so.mapped_column(sa.String(255))
    code_challenge: so.Mapped[str | None] = so.mapped_column(sa.String(128))
    code_challenge_method: so.Mapped[str | None] = so.mapped_column(sa.String(10))
    auth_time: so.Mapped[int] = so.mapped_column()  # when the person really logged in (the session's)
    amr: so.Mapped[list[str] | None] = so.mapped_column(sa.JSON)  # how: ["pwd"], ["pwd","otp","mfa"], ["fed"]
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    used_at: so.Mapped[datetime | None] = so.mapped_column()


class OAuthToken(Base):
    """One issued access token (by ``jti``) and its refresh token (by hash). ``family`` ties a chain of
    rotated refresh tokens (and the code it started from) so a reuse can revoke all of it."""

    __tablename__ = "oidc_tokens"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    jti: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    refresh_hash: so.Mapped[str | None] = so.mapped_column(sa.String(64), unique=True)
    client_id: so.Mapped[str] = so.mapped_column(sa.String(64), index=True)
    account_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    scope: so.Mapped[str] = so.mapped_column(sa.Text)
    family: so.Mapped[str] = so.mapped_column(sa.String(64), index=True)
    code_id: so.Mapped[int | None] = so.mapped_column(index=True)
    issued_at: so.Mapped[int] = so.mapped_column()
    expires_in: so.Mapped[int] = so.mapped_column()
    refresh_expires_at: so.Mapped[int | None] = so.mapped_column()
    access_revoked: so.Mapped[bool] = so.mapped_column(default=False)
    refresh_revoked: so.Mapped[bool] = so.mapped_column(default=False)
    rotated: so.Mapped[bool] = so.mapped_column(default=False)  # refresh used once, replaced by a newer one


class Consent(Base):
    __tablename__ = "oidc_consents"
    __table_args__ = (sa.UniqueConstraint("account_id", "client_id", name="uq_oidc_consents_pair"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    account_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("accounts.id", ondelete="CASCADE"))
    client_id: so.Mapped[str] = so.mapped_column(sa.String(64))
    scopes: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)
    granted_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)


class OIDCSubject(Base):
    """The ``sub`` an account has in every ID token, userinfo answer and introspection, stored so that it
    stays the same for life (a rotated secret key, a re-linked person, nothing changes it)."""

    __tablename__ = "oidc_subjects"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    account_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("accounts.id", ondelete="CASCADE"), unique=True)
    subject: so.Mapped[str] = so.mapped_column(sa.String(64))  # two accounts of one person share theirs
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
