"""What the authorization server (server.py) and the bearer-token check (bearer.py) must agree on: who
the issuer is, the audience an API token carries, and how secrets are hashed for storage. Both import it,
so the server can use the bearer check (introspection) without the check reaching back into the server."""
from __future__ import annotations

import hashlib

from flask import current_app, request


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def issuer() -> str:
    return current_app.config.get("OIDC_ISSUER") or request.host_url.rstrip("/")


def api_audience() -> str:
    """The ``aud`` an access token must carry to be accepted by the open API (/api/v1)."""
    return issuer() + "/api/v1"
