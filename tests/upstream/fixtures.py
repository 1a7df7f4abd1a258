"""pytest fixtures for the stand-in city portal. In a conftest:

    from tests.upstream.fixtures import demo_portal_config, upstream_provider_fixture

    upstream = upstream_provider_fixture(lambda request: demo_portal_config(["http://127.0.0.1:5000/cb"]))

The config may be a dict or a callable taking pytest's ``request`` (to read other fixtures, e.g. a live
server's URL for redirect_uris; give such a fixture the same or a narrower scope than theirs).
Without Node.js/npm the fixture skips, unless JIZUO_REQUIRE_UPSTREAM=1, where it fails instead.
"""
from __future__ import annotations

import os
from collections.abc import Callable

import pytest

from .harness import UpstreamProvider, ensure_installed, resident_id, upstream_available

CLIENT_ID = "jizuo"
CLIENT_SECRET = "jizuo-portal-secret-for-tests"


def demo_portal_config(redirect_uris: list[str], token_endpoint_auth_method: str = "client_secret_basic",
                       **options) -> dict:
    """Jizuo registered as the portal's one client, with three parents: verified, unverified, no e-mail."""
    return {
        "clients": [{"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uris": redirect_uris,
                     "token_endpoint_auth_method": token_endpoint_auth_method}],
        "accounts": [
            {"sub": "sh-parent-0001", "name": "王丽", "email": "wangli@example.cn", "email_verified": True,
             "phone_number": "+8613800000001", "phone_number_verified": True,
             "id_card_number": resident_id("31010419850312102"), "id_card_verified": True, "password": "Portal-1"},
            {"sub": "sh-parent-0002", "name": "李强", "email": "liqiang@example.cn", "email_verified": False,
             "id_card_number": resident_id("31011519870726201"), "id_card_verified": False, "password": "Portal-2"},
            {"sub": "sh-parent-0003", "name": "陈静",
             "id_card_number": resident_id("31010119900101302"), "id_card_verified": True},
        ],
        **options,
    }


def require_upstream() -> None:
    """Install oidc-provider if needed; skip (or fail under JIZUO_REQUIRE_UPSTREAM=1) when that can't be."""
    try:
        ensure_installed()
        ok, reason = upstream_available()
    except RuntimeError as exc:
        ok, reason = False, str(exc)
    if not ok:
        if os.environ.get("JIZUO_REQUIRE_UPSTREAM") == "1":
            pytest.fail(f"upstream OpenID provider required but unavailable: {reason}")
        pytest.skip(f"upstream OpenID provider unavailable: {reason}")


def upstream_provider_fixture(config: dict | Callable[[pytest.FixtureRequest], dict], scope: str = "session",
                              name: str | None = None):
    """A fixture yielding a running UpstreamProvider (``.issuer``, ``.sign_in()``, ``.stop()``)."""

    @pytest.fixture(scope=scope, name=name)
    def _upstream(request):
        require_upstream()
        provider = UpstreamProvider()
        provider.start(config(request) if callable(config) else config)
        try:
            yield provider
        finally:
            provider.stop()

    return _upstream
