"""Each attack or mistake is refused with the standard OAuth error, and nothing leaks."""
from __future__ import annotations

import base64
import json
import time

import requests
from joserfc import jwt
from joserfc.jwk import RSAKey

from tests.conftest import login_of
from tests.oidc_support import REDIRECT, RP, query_of


def _code(live_server, browser_http, demo, client, scope="openid profile offline_access", **extra):
    rp = RP(live_server, client, scope=scope)
    browser_http.login(login_of(demo, "homeroom_teacher"))
    answer = browser_http.visit(rp.authorization_url(**extra))
    return rp, answer


def _b64(obj: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def test_reused_code_is_refused_and_revokes_what_it_gave(live_server, make_client, browser_http, demo):
    rp, answer = _code(live_server, browser_http, demo, make_client())
    token = rp.fetch_token(answer.headers["Location"])
    assert rp.session.get(rp.meta["userinfo_endpoint"]).status_code == 200
    again = requests.post(rp.meta["token_endpoint"], data={
        "grant_type": "authorization_code", "code": query_of(answer)["code"], "redirect_uri": REDIRECT,
        "code_verifier": rp.verifier}, auth=(rp.client["client_id"], rp.client["client_secret"]))
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    assert requests.get(rp.meta["userinfo_endpoint"],
                        headers={"Authorization": f"Bearer {token['access_token']}"}).status_code == 401
    refresh = requests.post(rp.meta["token_endpoint"], data={"grant_type": "refresh_token",
                            "refresh_token": token["refresh_token"]}, auth=(rp.client["client_id"], rp.client["client_secret"]))
    assert refresh.json()["error"] == "invalid_grant"


def test_wrong_pkce_verifier_is_invalid_grant(live_server, make_client, browser_http, demo):
    rp, answer = _code(live_server, browser_http, demo, make_client())
    resp = requests.post(rp.meta["token_endpoint"], data={
        "grant_type": "authorization_code", "code": query_of(answer)["code"], "redirect_uri": REDIRECT,
        "code_verifier": "x" * 50}, auth=(rp.client["client_id"], rp.client["client_secret"]))
    assert resp.status_code == 400 and resp.json()["error"] == "invalid_grant"


def test_no_pkce_or_plain_pkce_is_refused_even_for_confidential_clients(live_server, make_client, browser_http, demo):
    client = make_client()
    browser_http.login(login_of(demo, "homeroom_teacher"))
    base = live_server + "/oauth/authorize"
    common = {"response_type": "code", "client_id": client["client_id"], "redirect_uri": REDIRECT, "scope": "openid",
              "state": "s"}
    for extra in ({}, {"code_challenge": "a" * 43, "code_challenge_method": "plain"}, {"code_challenge": "a" * 43}):
        answer = browser_http.http.get(base, params=common | extra, allow_redirects=False)
        assert answer.status_code == 302, extra
        assert query_of(answer)["error"] == "invalid_request", extra


def test_scope_not_granted_or_unknown_is_an_error_not_a_silent_drop(live_server, make_client, browser_http, demo):
    client = make_client(scopes=["openid", "profile"])
    for scope in ("openid students.read", "openid no.such.scope"):
        rp, answer = _code(live_server, browser_http, demo, client, scope=scope)
        assert answer.status_code == 302
        assert query_of(answer)["error"] == "invalid_scope", scope


def test_redirect_uris_must_match_exactly(live_server, make_client, browser_http, demo):
    client = make_client()
    browser_http.login(login_of(demo, "homeroom_teacher"))
    for bad in (REDIRECT + "x", REDIRECT[:-1], "http://127.0.0.1:9@evil.example/callback",
                "http://good@127.0.0.1:9/callback", REDIRECT.upper()):
        rp = RP(live_server, client, scope="openid")
        rp.session.redirect_uri = bad
        answer = browser_http.http.get(rp.authorization_url(), allow_redirects=False)
        assert answer.status_code == 400, bad  # an error page: never a redirect to an unregistered place
        assert "Location" not in answer.headers


def test_forged_expired_and_tampered_tokens_are_rejected(live_server, make_client, browser_http, demo):
    rp, answer = _code(live_server, browser_http, demo, make_client(), scope="openid students.read")
    good = rp.fetch_token(answer.headers["Location"])["access_token"]
    api = live_server + "/api/v1/students"
    assert requests.get(api, headers={"Authorization": f"Bearer {good}"}).status_code == 200
    header, payload, sig = good.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    attacker = RSAKey.generate_key(2048, private=True)
    forged = {
        "tampered": f"{header}.{_b64(claims | {'scope': 'openid students.read audit.read'})}.{sig}",
        "alg none": f"{_b64({'alg': 'none', 'typ': 'at+jwt'})}.{payload}.",
        "key in header": jwt.encode({"alg": "RS256", "typ": "at+jwt", "jwk": attacker.as_dict(private=False)},
                                    claims, attacker),
        "other key, same kid": jwt.encode({"alg": "RS256", "typ": "at+jwt",
                                           "kid": json.loads(base64.urlsafe_b64decode(header + "==="))["kid"]},
                                          claims, attacker),
        "garbage": "not.a.token",
    }
    for name, token in forged.items():
        resp = requests.get(api, headers={"Authorization": f"Bearer {token}"})
        assert resp.status_code == 401, name
        assert 'error="invalid_token"' in resp.headers["WWW-Authenticate"], name


def test_an_expired_token_is_rejected(app, live_server, make_client, browser_http, demo):
    from foundation.oidc import keys

    rp, answer = _code(live_server, browser_http, demo, make_client(), scope="openid students.read")
    good = rp.fetch_token(answer.headers["Location"])["access_token"]
    claims = jwt.decode(good, requests.get(rp.meta["jwks_uri"]).json() and
                        __import__("joserfc.jwk", fromlist=["KeySet"]).KeySet.import_key_set(
                            requests.get(rp.meta["jwks_uri"]).json())).claims
    with app.test_request_context(base_url=live_server):
        kid, key = keys.active_key()
        expired = jwt.encode({"alg": "RS256", "typ": "at+jwt", "kid": kid},
                             claims | {"exp": int(time.time()) - 10, "iat": int(time.time()) - 4000}, key)
    assert requests.get(live_server + "/api/v1/students",
                        headers={"Authorization": f"Bearer {expired}"}).status_code == 401


def test_refresh_token_reuse_revokes_the_whole_family(live_server, make_client, browser_http, demo):
    rp, answer = _code(live_server, browser_http, demo, make_client())
    first = rp.fetch_token(answer.headers["Location"])
    second = rp.session.refresh_token(rp.meta["token_endpoint"])
    creds = (rp.client["client_id"], rp.client["client_secret"])
    replay = requests.post(rp.meta["token_endpoint"], data={"grant_type": "refresh_token",
                           "refresh_token": first["refresh_token"]}, auth=creds)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    # the legitimate newer tokens die with it: someone holds a copy of the chain
    after = requests.post(rp.meta["token_endpoint"], data={"grant_type": "refresh_token",
                          "refresh_token": second["refresh_token"]}, auth=creds)
    assert after.json()["error"] == "invalid_grant"
    assert requests.get(rp.meta["userinfo_endpoint"],
                        headers={"Authorization": f"Bearer {second['access_token']}"}).status_code == 401


def test_another_client_cannot_refresh_revoke_or_introspect_a_token(live_server, make_client, browser_http, demo):
    rp, answer = _code(live_server, browser_http, demo, make_client())
    token = rp.fetch_token(answer.headers["Location"])
    other = make_client()
    creds = (other["client_id"], other["client_secret"])
    refresh = requests.post(rp.meta["token_endpoint"], data={"grant_type": "refresh_token",
                            "refresh_token": token["refresh_token"]}, auth=creds)
    assert refresh.status_code == 400 and refresh.json()["error"] == "invalid_grant"
    requests.post(rp.meta["revocation_endpoint"], data={"token": token["access_token"]}, auth=creds)
    assert requests.get(rp.meta["userinfo_endpoint"],
                        headers={"Authorization": f"Bearer {token['access_token']}"}).status_code == 200
    peek = requests.post(rp.meta["introspection_endpoint"], data={"token": token["access_token"]}, auth=creds)
    assert peek.json() == {"active": False}
    own = requests.post(rp.meta["introspection_endpoint"], data={"token": token["access_token"]},
                        auth=(rp.client["client_id"], rp.client["client_secret"])).json()
    assert own["active"] is True and own["client_id"] == rp.client["client_id"]


def test_logout_never_redirects_to_an_unregistered_uri(live_server, make_client, browser_http, demo):
    rp, answer = _code(live_server, browser_http, demo, make_client(), scope="openid")
    id_token = rp.fetch_token(answer.headers["Location"])["id_token"]
    for target in ("https://evil.example/", "http://127.0.0.1:9/bye/../evil", "http://127.0.0.1:9/by"):
        resp = browser_http.http.get(rp.meta["end_session_endpoint"], allow_redirects=False,
                                     params={"id_token_hint": id_token, "post_logout_redirect_uri": target})
        assert resp.status_code == 400 and "Location" not in resp.headers, target
    # without an id_token_hint the person is asked, and nothing redirects
    ask = browser_http.http.get(rp.meta["end_session_endpoint"], allow_redirects=False)
    assert ask.status_code == 200 and "csrf_token" in ask.text
    assert browser_http.http.get(live_server + "/api/v1/me").status_code == 200  # still logged in


def test_client_secret_must_be_right(live_server, make_client):
    client = make_client(grant_types=["client_credentials"], scopes=["students.read"], redirect_uris=[])
    meta = requests.get(live_server + "/.well-known/openid-configuration").json()
    resp = requests.post(meta["token_endpoint"], data={"grant_type": "client_credentials", "scope": "students.read"},
                         auth=(client["client_id"], client["client_secret"] + "x"))
    assert resp.status_code == 401 and resp.json()["error"] == "invalid_client"
