"""Signing keys: RS256, ``kid`` = RFC 7638 thumbprint, private part encrypted at rest.

The newest unretired key signs; every key not retired longer than the longest token lifetime stays in
the JWKS, so tokens it signed keep verifying until they expire (``jizuo keys rotate``).
"""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from joserfc.jwk import KeySet, RSAKey

from foundation import db
from foundation.models import SigningKey
from foundation.security.fields import cipher_for

# retired keys stay published this long: longer than any token they can have signed
PUBLISH_RETIRED_FOR = timedelta(days=31)


def _cipher():
    return cipher_for(current_app.config["SECRET_KEY"])


def create_key() -> SigningKey:
    key = RSAKey.generate_key(2048, private=True, auto_kid=True)
    pem = key.as_pem(private=True).decode()
    public = key.as_dict(private=False)
    public.update({"use": "sig", "alg": "RS256"})
    row = SigningKey(kid=key.kid, private_pem_enc=_cipher().encrypt(pem), public_jwk=public)
    db.session().add(row)
    db.session().flush()
    return row


def _system_rows(stmt):
    return db.session().scalars(stmt, execution_options={"jizuo_all_schools": True}).all()


def active_key() -> tuple[str, RSAKey]:
    """The signing key (created on first use)."""
    rows = _system_rows(sa.select(SigningKey).where(SigningKey.retired_at.is_(None)).order_by(SigningKey.id.desc()))
    row = rows[0] if rows else create_key()
    pem = _cipher().decrypt(row.private_pem_enc)
    return row.kid, RSAKey.import_key(pem, {"kid": row.kid, "use": "sig", "alg": "RS256"})


def public_jwks() -> dict:
    cutoff = db.utcnow() - PUBLISH_RETIRED_FOR
    rows = _system_rows(sa.select(SigningKey).where(
        sa.or_(SigningKey.retired_at.is_(None), SigningKey.retired_at > cutoff)).order_by(SigningKey.id.desc()))
    if not rows:
        active_key()
        return public_jwks()
    return {"keys": [r.public_jwk for r in rows]}


def verification_keys() -> KeySet:
    return KeySet.import_key_set(public_jwks())


def rotate() -> str:
    """Retire the current key(s) and make a new one; returns the new kid."""
    now = db.utcnow()
    for row in _system_rows(sa.select(SigningKey).where(SigningKey.retired_at.is_(None))):
        row.retired_at = now
    return create_key().kid
