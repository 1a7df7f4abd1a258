"""Signing keys: RS256, ``kid`` = RFC 7638 thumbprint, private part encrypted at rest.

The newest unretired key signs; every key not retired longer than the longest token lifetime stays in
the JWKS, so tokens it signed keep verifying until they expire (``jizuo keys rotate``).
"""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app, g, has_app_context
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
    return db.session().scalars(stmt).all()


# Parsed private keys by kid. A kid is the key's RFC 7638 thumbprint, so one kid is always one key;
# parsing is slow (OpenSSL checks the whole RSA key: ~35 ms), so it happens once per process.
_PARSED: dict[str, RSAKey] = {}


_KID = "oidc_active_kid"  # flask.g: the active kid, read with the client in this request (server.query_client)


def note_active_kid(kid: str | None) -> None:
    if has_app_context() and kid is not None:
        g.setdefault(_KID, kid)


def active_key() -> tuple[str, RSAKey]:
    """The signing key (created on first use)."""
    kid = g.get(_KID) if has_app_context() else None
    if kid is None:
        kid = db.session().scalar(sa.select(SigningKey.kid).where(SigningKey.retired_at.is_(None))
                                  .order_by(SigningKey.id.desc()).limit(1))
    if kid is None:
        kid = create_key().kid
    if kid not in _PARSED:
        row = _system_rows(sa.select(SigningKey).where(SigningKey.kid == kid))[0]
        pem = _cipher().decrypt(row.private_pem_enc)
        _PARSED[kid] = RSAKey.import_key(pem, {"kid": kid, "use": "sig", "alg": "RS256"})
    return kid, _PARSED[kid]


def public_jwks() -> dict:
    cutoff = db.utcnow() - PUBLISH_RETIRED_FOR
    rows = _system_rows(sa.select(SigningKey).where(
        sa.or_(SigningKey.retired_at.is_(None), SigningKey.retired_at > cutoff)).order_by(SigningKey.id.desc()))
    if not rows:
        active_key()
        return public_jwks()
    return {"keys": [r.public_jwk for r in rows]}


_VERIFY: dict[str, tuple[float, KeySet, frozenset[str]]] = {}


def verification_keys(kid: str | None = None) -> KeySet:
    """Our public keys, cached per process for a minute and reloaded at once for an unknown ``kid``."""
    import time

    url = str(db.engine().url)
    cached = _VERIFY.get(url)
    if cached is None or cached[0] < time.time() or (kid is not None and kid not in cached[2]):
        jwks = public_jwks()
        cached = (time.time() + 60, KeySet.import_key_set(jwks), frozenset(k["kid"] for k in jwks["keys"]))
        _VERIFY[url] = cached
    return cached[1]


def rotate() -> str:
    """Retire the current key(s) and make a new one; returns the new kid."""
    now = db.utcnow()
    if has_app_context():
        g.pop(_KID, None)
    for row in _system_rows(sa.select(SigningKey).where(SigningKey.retired_at.is_(None))):
        row.retired_at = now
    return create_key().kid
