"""Jizuo as an OpenID Connect provider (Authlib): discovery, JWKS, authorize (code + PKCE S256),
token (code, refresh with rotation, client credentials), userinfo, revocation, introspection,
RP-initiated logout; and bearer tokens for the open API."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from foundation.oidc import routes
    from foundation.oidc.server import init_server

    init_server(app)
    app.register_blueprint(routes.bp)
