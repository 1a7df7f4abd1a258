"""A real relying-party library signs into Jizuo: discovery → authorize → login → code → token →
ID token → userinfo → refresh → revoke → logout."""
from __future__ import annotations

import requests

from tests.conftest import login_of
from tests.oidc_support import REDIRECT, RP, query_of


def test_full_code_flow_with_a_real_rp_library(live_server, make_client, browser_http, demo):
    client = make_client()
    rp = RP(live_server, client, scope="openid profile roles offline_access students.read")
    assert rp.meta["issuer"] == live_server and rp.meta["code_challenge_methods_supported"] == ["S256"]
    browser_http.login(login_of(demo, "homeroom_teacher"))
    answer = browser_http.visit(rp.authorization_url())
    assert answer.status_code == 302 and answer.headers["Location"].startswith(REDIRECT)
    assert query_of(answer)["state"] == rp.state
    token = rp.fetch_token(answer.headers["Location"])
    assert token["token_type"].lower() == "bearer" and token["refresh_token"] and token["expires_in"] == 3600

    claims = rp.id_token_claims(token["id_token"])
    # minors' data stays out of tokens: the ID token carries sub and protocol claims only
    assert set(claims) <= {"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "amr"}

    info = rp.session.get(rp.meta["userinfo_endpoint"]).json()
    assert info["sub"] == claims["sub"] and info["name"]
    assert {r["role"] for r in info["roles"]} == {"homeroom_teacher"}
    assert "children" not in info  # not asked for

    # the access token works on the open API, within the teacher's reach
    students = rp.session.get(live_server + "/api/v1/students").json()
    assert students["total"] > 0

    refreshed = rp.session.refresh_token(rp.meta["token_endpoint"])
    assert refreshed["access_token"] != token["access_token"]
    assert refreshed["refresh_token"] != token["refresh_token"]
    assert rp.session.get(rp.meta["userinfo_endpoint"]).status_code == 200

    revoked = rp.session.revoke_token(rp.meta["revocation_endpoint"], refreshed["refresh_token"],
                                      token_type_hint="refresh_token")
    assert revoked.status_code == 200
    assert rp.session.get(rp.meta["userinfo_endpoint"]).status_code == 401  # the family went with it

    bye = browser_http.http.get(rp.meta["end_session_endpoint"], allow_redirects=False, params={
        "id_token_hint": token["id_token"], "post_logout_redirect_uri": "http://127.0.0.1:9/bye", "state": "s1"})
    assert bye.status_code == 302 and bye.headers["Location"] == "http://127.0.0.1:9/bye?state=s1"
    assert browser_http.http.get(live_server + "/api/v1/me").status_code == 401  # Jizuo session ended


def test_the_same_person_gets_the_same_sub_in_every_client(live_server, make_client, browser_http, demo):
    subs = []
    for _ in range(2):
        rp = RP(live_server, make_client(), scope="openid")
        browser_http.login(login_of(demo, "parent"))
        answer = browser_http.visit(rp.authorization_url())
        subs.append(rp.id_token_claims(rp.fetch_token(answer.headers["Location"])["id_token"])["sub"])
    assert subs[0] == subs[1] and len(subs[0]) >= 20


def test_parents_get_their_childrens_ids_only_through_the_children_scope(live_server, make_client, browser_http,
                                                                        demo):
    client = make_client(scopes=["openid", "children", "profile"])
    browser_http.login(login_of(demo, "parent"))
    for scope, expect in (("openid profile", False), ("openid children", True)):
        rp = RP(live_server, client, scope=scope)
        answer = browser_http.visit(rp.authorization_url())
        rp.fetch_token(answer.headers["Location"])
        info = rp.session.get(rp.meta["userinfo_endpoint"]).json()
        assert ("children" in info) is expect
        if expect:
            me = browser_http.http.get(live_server + "/api/v1/me").json()
            assert info["children"] == me["children"]


def test_third_party_clients_ask_consent_in_chinese_and_deny_is_access_denied(live_server, make_client,
                                                                              browser_http, demo):
    client = make_client(first_party=False, name="家校通", name_en="HomeSchool")
    browser_http.login(login_of(demo, "parent"))
    rp = RP(live_server, client, scope="openid profile")
    page = browser_http.visit(rp.authorization_url())
    assert page.status_code == 200 and "家校通" in page.text and "您的姓名" in page.text
    denied = browser_http.consent(page, "deny")
    assert query_of(denied)["error"] == "access_denied"
    page = browser_http.visit(rp.authorization_url())
    allowed = browser_http.consent(page, "allow")
    assert "code" in query_of(allowed)
    # consent is remembered for the same scopes
    again = browser_http.visit(RP(live_server, client, scope="openid profile").authorization_url())
    assert again.status_code == 302 and "code=" in again.headers["Location"]


def test_not_logged_in_goes_to_the_login_page_and_comes_back(live_server, make_client, demo):
    from tests.oidc_support import Browser

    rp = RP(live_server, make_client(), scope="openid")
    person = Browser(live_server)
    first = person.http.get(rp.authorization_url(), allow_redirects=False)
    assert first.status_code == 302 and first.headers["Location"].startswith("/login?next=/oauth/authorize")
    person.login(login_of(demo, "school_admin"))
    from urllib.parse import unquote

    answer = person.visit(live_server + unquote(first.headers["Location"].split("next=", 1)[1]))
    assert answer.status_code == 302 and answer.headers["Location"].startswith(REDIRECT)


def test_discovery_and_jwks(live_server):
    meta = requests.get(live_server + "/.well-known/openid-configuration").json()
    keys = requests.get(meta["jwks_uri"]).json()["keys"]
    assert keys and all(k["kty"] == "RSA" and k["alg"] == "RS256" and k["kid"] and "d" not in k for k in keys)
    assert meta["id_token_signing_alg_values_supported"] == ["RS256"]


def test_withdrawing_consent_kills_the_apps_tokens_and_asks_again(live_server, make_client, browser_http, demo):
    import re

    client = make_client(first_party=False, name="家校通")
    rp = RP(live_server, client, scope="openid profile")
    browser_http.login(login_of(demo, "parent"))
    page = browser_http.visit(rp.authorization_url())
    rp.fetch_token(browser_http.consent(page, "allow").headers["Location"])
    assert rp.session.get(rp.meta["userinfo_endpoint"]).status_code == 200
    links = browser_http.http.get(live_server + "/account/links").text
    assert "家校通" in links
    consent_id = re.search(r'name="consent_id" value="(\d+)"', links).group(1)
    token = re.search(r'name="csrf_token" value="([^"]+)"', links).group(1)
    browser_http.http.post(live_server + "/account/links", data={"consent_id": consent_id, "csrf_token": token})
    assert rp.session.get(rp.meta["userinfo_endpoint"]).status_code == 401
    again = browser_http.visit(RP(live_server, client, scope="openid profile").authorization_url())
    assert again.status_code == 200 and "同意" in again.text  # the consent screen again
