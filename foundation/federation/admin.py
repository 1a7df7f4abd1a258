"""Configuring upstream providers (district admins; CLI and tests)."""
from __future__ import annotations

from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app

from foundation import db
from foundation.audit import record
from foundation.models import UpstreamProvider
from foundation.security.fields import cipher_for


class UpstreamConfigError(ValueError):
    pass


def add_provider(*, slug: str, name: str, issuer: str, client_id: str, client_secret: str, scopes: str = "openid profile",
                 id_claim: str | None = None, id_verified_claim: str | None = None) -> UpstreamProvider:
    parts = urlsplit(issuer)
    local = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if parts.scheme not in ("https", "http") or (parts.scheme == "http" and not local) or parts.query or parts.fragment:
        raise UpstreamConfigError("issuer must be an https URL (http only on loopback), without query or fragment")
    if not slug.replace("-", "").isalnum():
        raise UpstreamConfigError("slug: letters, digits and '-' only")
    if "openid" not in scopes.split():
        raise UpstreamConfigError("scope must include openid")
    if bool(id_claim) != bool(id_verified_claim):
        raise UpstreamConfigError("--id-claim needs --id-verified-claim (a verified flag), and the other way round")
    sess = db.session()
    if sess.scalar(sa.select(UpstreamProvider.id).where(sa.or_(UpstreamProvider.slug == slug,
                                                                UpstreamProvider.issuer == issuer))):
        raise UpstreamConfigError("an upstream with this slug or issuer exists")
    row = UpstreamProvider(slug=slug, name=name, issuer=issuer, client_id=client_id,
                           client_secret_enc=cipher_for(current_app.config["SECRET_KEY"]).encrypt(client_secret),
                           scopes=scopes, id_claim=id_claim, id_verified_claim=id_verified_claim)
    sess.add(row)
    sess.flush()
    record("federation.provider.add", "provider", slug, detail={"issuer": issuer, "id_claim": id_claim})
    return row
