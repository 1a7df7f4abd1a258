"""Registering relying parties (apps, plugins, vendors' systems). Used by the CLI and the API."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa

from foundation import db
from foundation.audit import record
from foundation.models import OAuthClient, OAuthToken, OrgUnit
from foundation.oidc.common import sha256
from foundation.oidc.scopes import unknown

GRANTS = ("authorization_code", "refresh_token", "client_credentials")


class ClientError(ValueError):
    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields


@dataclass
class Registered:
    client: OAuthClient
    secret: str | None  # shown once; only its hash is kept


def _redirect_problem(uri: str) -> str | None:
    parts = urlsplit(uri)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return "client.redirect_uri_absolute"
    if parts.username or parts.password or parts.fragment:
        return "client.redirect_uri_parts"
    if parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        return "client.redirect_uri_https"
    return None


def validate(data: dict[str, Any]) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not (data.get("name") or "").strip():
        errors["name"] = "field.required"
    grants = data.get("grant_types") or []
    if not grants or any(gr not in GRANTS for gr in grants):
        errors["grant_types"] = "client.grant_types"
    uris = data.get("redirect_uris") or []
    if "authorization_code" in grants and not uris:
        errors["redirect_uris"] = "client.redirect_uris_required"
    for uri in list(uris) + list(data.get("post_logout_redirect_uris") or []):
        problem = _redirect_problem(uri)
        if problem:
            errors["redirect_uris"] = problem
    if unknown(" ".join(data.get("scopes") or [])):
        errors["scopes"] = "client.scope_unknown"
    if data.get("public") and "client_credentials" in grants:
        errors["public"] = "client.public_no_credentials"
    return errors


def register(data: dict[str, Any], created_by: int | None = None) -> Registered:
    errors = validate(data)
    if errors:
        raise ClientError(errors)
    sess = db.session()
    if data.get("school_id") is not None:
        school = sess.scalar(sa.select(OrgUnit).where(OrgUnit.id == data["school_id"], OrgUnit.kind == "school"))
        if school is None:
            raise ClientError({"school_id": "org.school_unknown"})
    secret = None if data.get("public") else secrets.token_urlsafe(32)
    row = OAuthClient(
        client_id=data.get("client_id") or "jz_" + secrets.token_hex(10), secret_hash=sha256(secret) if secret else None,
        name=data["name"].strip(), name_en=data.get("name_en"), redirect_uris=list(data.get("redirect_uris") or []),
        post_logout_redirect_uris=list(data.get("post_logout_redirect_uris") or []),
        grant_types=list(data["grant_types"]), scopes=list(dict.fromkeys(data.get("scopes") or ["openid"])),
        public=bool(data.get("public")), first_party=bool(data.get("first_party")), school_id=data.get("school_id"),
        created_by=created_by,
    )
    if sess.scalar(sa.select(OAuthClient.id).where(OAuthClient.client_id == row.client_id)):
        raise ClientError({"client_id": "client.id_taken"})
    sess.add(row)
    sess.flush()
    record("oidc.client.register", "client", row.client_id, school_id=row.school_id,
           detail={"grants": row.grant_types, "scopes": row.scopes, "first_party": row.first_party})
    return Registered(row, secret)


def rotate_secret(client: OAuthClient) -> str:
    secret = secrets.token_urlsafe(32)
    client.secret_hash = sha256(secret)
    record("oidc.client.rotate_secret", "client", client.client_id, school_id=client.school_id)
    return secret


def disable(client: OAuthClient) -> int:
    """Disable a client and revoke every token it holds (so enabling it again revives none of them).
    Returns how many tokens were still live."""
    client.active = False
    live = db.session().execute(
        sa.update(OAuthToken).where(OAuthToken.client_id == client.client_id,
                                    sa.or_(OAuthToken.access_revoked.is_(False), OAuthToken.refresh_revoked.is_(False)))
        .values(access_revoked=True, refresh_revoked=True)).rowcount
    record("oidc.client.disable", "client", client.client_id, school_id=client.school_id, detail={"tokens_revoked": live})
    return live
