"""OIDC fixtures: registered clients, a person's browser (requests.Session) and a relying party built
from Authlib's OAuth2Session — a client library this project did not write."""
from __future__ import annotations

import re
import secrets
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import sqlalchemy as sa
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.jwk import KeySet

from foundation.models import OrgUnit
from foundation.oidc.clients import register
from foundation.tenancy import unscoped
from tests.conftest import PASSWORD

REDIRECT = "http://127.0.0.1:9/callback"  # nothing listens there: the test reads the redirect itself


@pytest.fixture
def schools(app) -> list[int]:
    with app.app_context():
        from foundation import db

        return sorted(unscoped("test setup").mark(db.session()).scalars(sa.select(OrgUnit.id).where(OrgUnit.kind == "school")))


@pytest.fixture
def make_client(app):
    def _make(**kw) -> dict:
        data = {"name": "测试应用", "redirect_uris": [REDIRECT], "grant_types": ["authorization_code", "refresh_token"],
                "scopes": ["openid", "profile", "roles", "students.read", "org.read", "offline_access"],
                "post_logout_redirect_uris": ["http://127.0.0.1:9/bye"], "first_party": True} | kw
        with app.app_context():
            from foundation import db

            unscoped("test setup").mark(db.session())
            reg = register(data)
            db.session().commit()
            return {"client_id": reg.client.client_id, "client_secret": reg.secret}

    return _make


class Browser:
    """A person's user agent: logs in with the form, follows Jizuo's redirects, stops at the client's."""

    def __init__(self, base: str) -> None:
        self.base, self.http = base, requests.Session()

    def login(self, username: str, password: str = PASSWORD) -> None:
        page = self.http.get(self.base + "/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        resp = self.http.post(self.base + "/login", data={"username": username, "password": password,
                                                          "csrf_token": token}, allow_redirects=False)
        assert resp.status_code == 302, resp.text[:300]

    def visit(self, url: str) -> requests.Response:
        """Follow redirects inside Jizuo; return the first answer that leaves it (or a page)."""
        resp = self.http.get(url, allow_redirects=False)
        while resp.status_code in (302, 303) and resp.headers["Location"].startswith((self.base, "/")):
            nxt = resp.headers["Location"]
            resp = self.http.get(nxt if nxt.startswith("http") else self.base + nxt, allow_redirects=False)
        return resp

    def consent(self, page: requests.Response, decision: str = "allow") -> requests.Response:
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        return self.http.post(page.url, data={"csrf_token": token, "decision": decision}, allow_redirects=False)


def query_of(resp: requests.Response) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(resp.headers["Location"]).query).items()}


class RP:
    """A relying party: discovery, then Authlib's OAuth2Session for every protocol step."""

    def __init__(self, base: str, client: dict, scope: str) -> None:
        self.meta = requests.get(base + "/.well-known/openid-configuration").json()
        self.client = client
        self.session = OAuth2Session(client["client_id"], client.get("client_secret"), scope=scope,
                                     redirect_uri=REDIRECT, code_challenge_method="S256")
        self.verifier = secrets.token_urlsafe(48)
        self.nonce = secrets.token_urlsafe(16)

    def authorization_url(self, **extra) -> str:
        url, self.state = self.session.create_authorization_url(
            self.meta["authorization_endpoint"], code_verifier=self.verifier, nonce=self.nonce, **extra)
        return url

    def fetch_token(self, callback: str, verifier: str | None = None) -> dict:
        return self.session.fetch_token(self.meta["token_endpoint"], authorization_response=callback,
                                        code_verifier=verifier or self.verifier)

    def id_token_claims(self, id_token: str) -> dict:
        jwks = KeySet.import_key_set(requests.get(self.meta["jwks_uri"]).json())
        decoded = jwt.decode(id_token, jwks, algorithms=["RS256"])
        jwt.JWTClaimsRegistry(iss={"essential": True, "value": self.meta["issuer"]},
                              aud={"essential": True, "value": self.client["client_id"]},
                              nonce={"essential": True, "value": self.nonce}).validate(decoded.claims)
        return decoded.claims


@pytest.fixture
def browser_http(live_server) -> Browser:
    return Browser(live_server)
