"""Talking to an upstream provider as a relying party: discovery, the code flow with state, nonce and
PKCE, ID-token validation (upstream JWKS, issuer, audience, expiry, nonce) and userinfo."""
from __future__ import annotations

import secrets
import time
from typing import Any

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from flask import current_app
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from foundation.models import UpstreamProvider
from foundation.security.fields import cipher_for

TIMEOUT = 8
_DISCOVERY: dict[str, tuple[float, dict]] = {}


class UpstreamError(Exception):
    """The upstream answered something we must not trust; the message names what."""


def discovery(provider: UpstreamProvider) -> dict:
    cached = _DISCOVERY.get(provider.issuer)
    if cached and cached[0] > time.time():
        return cached[1]
    try:
        meta = requests.get(provider.issuer.rstrip("/") + "/.well-known/openid-configuration", timeout=TIMEOUT).json()
    except (requests.RequestException, ValueError) as err:
        raise UpstreamError(f"discovery failed: {type(err).__name__}") from err
    if meta.get("issuer") != provider.issuer:
        raise UpstreamError("discovery issuer does not match the configured issuer")
    _DISCOVERY[provider.issuer] = (time.time() + 300, meta)
    return meta


def _session(provider: UpstreamProvider, redirect_uri: str) -> OAuth2Session:
    secret = cipher_for(current_app.config["SECRET_KEY"]).decrypt(provider.client_secret_enc)
    return OAuth2Session(provider.client_id, secret, scope=provider.scopes, redirect_uri=redirect_uri,
                         code_challenge_method="S256")


def start(provider: UpstreamProvider, redirect_uri: str) -> tuple[str, dict]:
    """The URL to send the browser to, and what to keep in the session until the callback."""
    flow = {"state": generate_token(32), "nonce": generate_token(32), "verifier": secrets.token_urlsafe(64),
            "provider": provider.id, "at": int(time.time())}
    url, _ = _session(provider, redirect_uri).create_authorization_url(
        discovery(provider)["authorization_endpoint"], state=flow["state"], nonce=flow["nonce"],
        code_verifier=flow["verifier"])
    return url, flow


def finish(provider: UpstreamProvider, redirect_uri: str, flow: dict, callback_url: str, state: str | None) -> dict:
    """Exchange the code and validate everything; returns the verified claims (ID token + userinfo)."""
    if not state or not secrets.compare_digest(state, flow["state"]) or flow["at"] + 600 < time.time():
        raise UpstreamError("state does not match this browser's login")
    meta = discovery(provider)
    sess = _session(provider, redirect_uri)
    try:
        token = sess.fetch_token(meta["token_endpoint"], authorization_response=callback_url,
                                 code_verifier=flow["verifier"], timeout=TIMEOUT)
    except Exception as err:  # noqa: BLE001 - any failure of the exchange is one outcome for the person
        raise UpstreamError(f"token exchange failed: {type(err).__name__}") from err
    claims = validate_id_token(provider, meta, token.get("id_token"), flow["nonce"])
    try:
        info = sess.get(meta["userinfo_endpoint"], timeout=TIMEOUT).json() if meta.get("userinfo_endpoint") else {}
    except (requests.RequestException, ValueError) as err:
        raise UpstreamError("userinfo failed") from err
    if info and info.get("sub") != claims["sub"]:
        raise UpstreamError("userinfo is about someone else")
    return {**info, **claims}


def validate_id_token(provider: UpstreamProvider, meta: dict, id_token: str | None, nonce: str) -> dict[str, Any]:
    if not id_token:
        raise UpstreamError("no ID token")
    algs = [a for a in meta.get("id_token_signing_alg_values_supported", ["RS256"]) if a != "none" and not a.startswith("HS")]
    try:
        jwks = KeySet.import_key_set(requests.get(meta["jwks_uri"], timeout=TIMEOUT).json())
        decoded = jwt.decode(id_token, jwks, algorithms=algs or ["RS256"])
        jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": provider.issuer}, aud={"essential": True, "value": provider.client_id},
            sub={"essential": True}, exp={"essential": True}, nonce={"essential": True, "value": nonce},
        ).validate(decoded.claims)
    except (JoseError, ValueError, requests.RequestException) as err:
        raise UpstreamError(f"ID token rejected: {type(err).__name__}") from err
    aud = decoded.claims["aud"]
    if isinstance(aud, list) and len(aud) > 1 and decoded.claims.get("azp") != provider.client_id:
        raise UpstreamError("ID token issued to another party (azp)")
    return dict(decoded.claims)
