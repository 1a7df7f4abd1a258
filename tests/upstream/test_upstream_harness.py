"""The stand-in city portal really is a standards-following OpenID provider: checked over plain HTTP only."""
from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar

import pytest
from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.jwk import KeySet

from .fixtures import (
    CLIENT_ID,
    CLIENT_SECRET,
    demo_portal_config,
    require_upstream,
    upstream_provider_fixture,
)
from .harness import UpstreamProvider

# Nothing listens there: sign_in() stops at the redirect, as a browser would hand it to Jizuo.
REDIRECT_URI = "http://127.0.0.1:9/auth/upstream/callback"
PARENT = "sh-parent-0001"

portal = upstream_provider_fixture(lambda request: demo_portal_config([REDIRECT_URI]), scope="module")


def get_json(url: str, headers: dict | None = None) -> dict:
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=10) as resp:
        return json.load(resp)


def post_form(url: str, data: dict, headers: dict | None = None) -> tuple[int, dict]:
    req = urllib.request.Request(url, data=urllib.parse.urlencode(data).encode(), headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.load(resp)
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.load(exc)


def basic(client_id: str, secret: str) -> dict:
    quote = urllib.parse.quote  # RFC 6749 2.3.1: form-encode before base64
    raw = f"{quote(client_id, safe='')}:{quote(secret, safe='')}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def authorize(portal: UpstreamProvider, scope: str = "openid", login_hint: str | None = PARENT,
              cookies: CookieJar | None = None) -> dict:
    """One authorization request with state, nonce and S256 PKCE; returns what came back plus the secrets."""
    meta = get_json(portal.issuer + "/.well-known/openid-configuration")
    state, nonce, verifier = generate_token(24), generate_token(24), generate_token(64)
    url = meta["authorization_endpoint"] + "?" + urllib.parse.urlencode({
        "response_type": "code", "client_id": CLIENT_ID, "redirect_uri": REDIRECT_URI, "scope": scope,
        "state": state, "nonce": nonce,
        "code_challenge": create_s256_code_challenge(verifier), "code_challenge_method": "S256",
    })
    callback = portal.sign_in(url, login_hint=login_hint, cookies=cookies)
    assert callback.startswith(REDIRECT_URI + "?"), callback
    params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(callback).query))
    return {"params": params, "state": state, "nonce": nonce, "verifier": verifier, "meta": meta}


def redeem(flow: dict, verifier: str | None = None) -> tuple[int, dict]:
    return post_form(flow["meta"]["token_endpoint"], {
        "grant_type": "authorization_code", "code": flow["params"]["code"], "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier or flow["verifier"],
    }, basic(CLIENT_ID, CLIENT_SECRET))


def verify_id_token(portal: UpstreamProvider, id_token: str, nonce: str) -> dict:
    keys = KeySet.import_key_set(get_json(portal.issuer + "/jwks"))
    token = jwt.decode(id_token, keys, algorithms=["RS256"])
    jwt.JWTClaimsRegistry(iss={"essential": True, "value": portal.issuer},
                          aud={"essential": True, "value": CLIENT_ID},
                          nonce={"essential": True, "value": nonce},
                          sub={"essential": True}, exp={"essential": True}).validate(token.claims)
    assert token.header["alg"] == "RS256"
    return token.claims


def test_discovery_names_the_loopback_issuer(portal):
    meta = get_json(portal.issuer + "/.well-known/openid-configuration")
    assert portal.issuer.startswith("http://127.0.0.1:")
    assert meta["issuer"] == portal.issuer
    assert meta["response_types_supported"] == ["code"]
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert {"openid", "profile", "email", "phone", "identity"} <= set(meta["scopes_supported"])
    assert {"id_card_number", "id_card_verified", "email_verified"} <= set(meta["claims_supported"])
    assert {"client_secret_basic", "client_secret_post"} <= set(meta["token_endpoint_auth_methods_supported"])


def test_jwks_publishes_public_rs256_keys_only(portal):
    keys = get_json(portal.issuer + "/jwks")["keys"]
    assert keys and all(k["kty"] == "RSA" and k["alg"] == "RS256" and "d" not in k for k in keys)


def test_code_flow_with_pkce_and_nonce_yields_a_verifiable_id_token(portal):
    flow = authorize(portal, scope="openid identity email")
    assert flow["params"]["state"] == flow["state"]
    assert flow["params"]["iss"] == portal.issuer  # RFC 9207, for mix-up defence
    status, tokens = redeem(flow)
    assert status == 200, tokens
    claims = verify_id_token(portal, tokens["id_token"], flow["nonce"])
    assert claims["sub"] == PARENT
    # Conforming default: scope-requested claims come from userinfo, not the ID token.
    assert "id_card_number" not in claims and "email" not in claims

    info = get_json(flow["meta"]["userinfo_endpoint"], {"Authorization": f"Bearer {tokens['access_token']}"})
    assert info == {"sub": PARENT, "email": "wangli@example.cn", "email_verified": True,
                    "id_card_number": "310104198503121024", "id_card_verified": True}


def test_userinfo_releases_only_the_granted_scopes(portal):
    flow = authorize(portal, scope="openid profile", login_hint="sh-parent-0002")
    tokens = redeem(flow)[1]
    info = get_json(flow["meta"]["userinfo_endpoint"], {"Authorization": f"Bearer {tokens['access_token']}"})
    assert info == {"sub": "sh-parent-0002", "name": "李强"}


def test_wrong_pkce_verifier_is_refused(portal):
    flow = authorize(portal)
    status, body = redeem(flow, verifier=generate_token(64))
    assert (status, body["error"]) == (400, "invalid_grant")


def test_code_is_single_use(portal):
    flow = authorize(portal)
    assert redeem(flow)[0] == 200
    assert redeem(flow)[1]["error"] == "invalid_grant"


def test_token_endpoint_takes_the_secret_in_the_body_too(portal):
    # oidc-provider 8 treats client_secret_basic and client_secret_post as one: either is accepted.
    flow = authorize(portal)
    status, tokens = post_form(flow["meta"]["token_endpoint"], {
        "grant_type": "authorization_code", "code": flow["params"]["code"], "redirect_uri": REDIRECT_URI,
        "code_verifier": flow["verifier"], "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})
    assert status == 200 and verify_id_token(portal, tokens["id_token"], flow["nonce"])["sub"] == PARENT


def test_wrong_client_secret_is_refused(portal):
    flow = authorize(portal)
    status, body = post_form(flow["meta"]["token_endpoint"], {
        "grant_type": "authorization_code", "code": flow["params"]["code"], "redirect_uri": REDIRECT_URI,
        "code_verifier": flow["verifier"]}, basic(CLIENT_ID, "not-the-secret"))
    assert (status, body["error"]) == (401, "invalid_client")


def test_unknown_login_hint_is_denied_back_to_the_client(portal):
    meta = get_json(portal.issuer + "/.well-known/openid-configuration")
    url = meta["authorization_endpoint"] + "?" + urllib.parse.urlencode({
        "response_type": "code", "client_id": CLIENT_ID, "redirect_uri": REDIRECT_URI, "scope": "openid",
        "state": "s1", "nonce": "n1"})
    callback = portal.sign_in(url, login_hint="nobody")
    params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(callback).query))
    assert (params["error"], params["state"]) == ("access_denied", "s1")


def test_a_kept_portal_session_follows_login_hint_to_another_parent(portal):
    jar = CookieJar()
    first = authorize(portal, cookies=jar)
    second = authorize(portal, login_hint="sh-parent-0003", cookies=jar)
    assert verify_id_token(portal, redeem(first)[1]["id_token"], first["nonce"])["sub"] == PARENT
    assert verify_id_token(portal, redeem(second)[1]["id_token"], second["nonce"])["sub"] == "sh-parent-0003"


def test_login_form_for_a_browser(portal):
    """Without login_hint a person (or Playwright) fills `login` and `password` on /interaction/<uid>."""
    meta = get_json(portal.issuer + "/.well-known/openid-configuration")
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    url = meta["authorization_endpoint"] + "?" + urllib.parse.urlencode({
        "response_type": "code", "client_id": CLIENT_ID, "redirect_uri": REDIRECT_URI, "scope": "openid",
        "state": "s2", "nonce": "n2"})
    with opener.open(url, timeout=10) as resp:
        form_url = resp.url
        assert 'name="login"' in resp.read().decode()
    assert urllib.parse.urlsplit(form_url).path.startswith("/interaction/")
    # The form posts to /interaction/<uid>/login; the interaction cookie ties it to this request.
    body = urllib.parse.urlencode({"login": "sh-parent-0002", "password": "wrong"}).encode()
    with opener.open(form_url + "/login", data=body, timeout=10) as resp:
        assert "账号或密码错误" in resp.read().decode()
    body = urllib.parse.urlencode({"login": "sh-parent-0002", "password": "Portal-2"}).encode()
    no_redirect = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar),
                                              _StopAtCallback())
    with pytest.raises(urllib.error.HTTPError) as stopped:
        no_redirect.open(form_url + "/login", data=body, timeout=10)
    stopped.value.close()
    location = stopped.value.headers["Location"]
    params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))
    assert location.startswith(REDIRECT_URI) and params["state"] == "s2" and "code" in params


class _StopAtCallback(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if newurl.startswith(REDIRECT_URI):
            return None
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def test_id_token_carries_scope_claims_when_configured():
    require_upstream()
    with UpstreamProvider() as other:
        other.start(demo_portal_config([REDIRECT_URI], conform_id_token_claims=False, pkce_required=True))
        flow = authorize(other, scope="openid identity email")
        claims = verify_id_token(other, redeem(flow)[1]["id_token"], flow["nonce"])
        assert (claims["id_card_number"], claims["id_card_verified"]) == ("310104198503121024", True)
        assert (claims["email"], claims["email_verified"]) == ("wangli@example.cn", True)

        # pkce_required: an authorization request without a code_challenge is refused at the portal.
        meta = flow["meta"]
        url = meta["authorization_endpoint"] + "?" + urllib.parse.urlencode({
            "response_type": "code", "client_id": CLIENT_ID, "redirect_uri": REDIRECT_URI, "scope": "openid",
            "state": "s3", "nonce": "n3"})
        params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(other.sign_in(url, PARENT)).query))
        assert (params["error"], params["state"]) == ("invalid_request", "s3")
        assert "PKCE" in params["error_description"]
