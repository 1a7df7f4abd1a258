"""Bearer access tokens for the open API: verify (RS256 against our JWKS only, issuer, audience,
expiry, not revoked, its client active) and turn into a Principal limited by the token's scope and its client's school."""
from __future__ import annotations

import base64
import json

import sqlalchemy as sa
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwt import JWTClaimsRegistry

from foundation import db
from foundation.models import OAuthClient, OAuthToken
from foundation.oidc import keys
from foundation.oidc.common import api_audience, issuer
from foundation.oidc.scopes import capabilities_of
from foundation.permissions import Principal


def verify_access_token(token: str) -> OAuthToken | None:
    """The token's row if the JWT is ours, unexpired and not revoked; else None. Only RS256 with a key
    from our own JWKS is accepted: ``alg: none``, HMAC tricks and keys embedded in the header fail."""
    try:
        header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "==="))
        kid = header.get("kid") if isinstance(header, dict) else None
        decoded = jwt.decode(token, keys.verification_keys(kid if isinstance(kid, str) else None),
                             algorithms=["RS256"])
        if decoded.header.get("typ") != "at+jwt":
            return None
        JWTClaimsRegistry(
            iss={"essential": True, "value": issuer()}, exp={"essential": True}, jti={"essential": True},
        ).validate(decoded.claims)
        if api_audience() not in (decoded.claims.get("aud") or []):
            return None
    except (JoseError, ValueError, TypeError, IndexError):
        return None
    row = db.session().scalar(sa.select(OAuthToken).where(OAuthToken.jti == decoded.claims["jti"]))
    if row is None or row.access_revoked or not client_active(row.client_id):
        return None
    return row


def client_active(client_id: str) -> bool:
    """Is the client still registered and not disabled? Every endpoint refuses a disabled client's tokens."""
    return bool(db.session().scalar(sa.select(OAuthClient.active).where(OAuthClient.client_id == client_id)))


def principal_for(row: OAuthToken, load_principal) -> Principal | None:
    client = db.session().scalar(sa.select(OAuthClient).where(OAuthClient.client_id == row.client_id))
    if client is None or not client.active:
        return None
    caps = capabilities_of(row.scope)
    if row.account_id is not None:
        principal = load_principal(row.account_id)
        if principal is None:
            return None
    else:
        principal = Principal(account_id=None, username=f"client:{client.client_id}", display_name=client.name,
                              person_kind=None, person_id=None, grants=[], machine=True)
    principal.token_caps = caps
    principal.client_school_id = client.school_id
    principal.client_id = client.client_id
    return principal
