"""Requests the provider does not support are refused, not silently ignored: request objects, response
modes other than query, an OpenID request without redirect_uri, two client authentications at once; and
refresh tokens are issued only for offline_access, introspected with their own expiry."""
from __future__ import annotations

import time

import requests

from tests.conftest import login_of
from tests.oidc_support import REDIRECT, RP, query_of


def test_request_objects_and_other_response_modes_are_refused_and_discovery_says_so(live_server, make_client,
                                                                                    browser_http, demo):
    meta = requests.get(live_server + "/.well-known/openid-configuration").json()
    assert meta["request_parameter_supported"] is False and meta["request_uri_parameter_supported"] is False
    assert meta["response_modes_supported"] == ["query"]
    client = make_client()
    browser_http.login(login_of(demo, "homeroom_teacher"))
    for extra, error in (({"request": "eyJhbGciOiJub25lIn0.e30."}, "request_not_supported"),
                         ({"request_uri": "https://rp.example/req.jwt"}, "request_not_supported"),
                         ({"response_mode": "fragment"}, "invalid_request"),
                         ({"response_mode": "form_post"}, "invalid_request"),
                         ({"response_mode": "nonsense"}, "invalid_request")):
        rp = RP(live_server, client, scope="openid")
        answer = browser_http.http.get(rp.authorization_url(**extra), allow_redirects=False)
        assert answer.status_code == 302 and answer.headers["Location"].startswith(REDIRECT + "?"), extra
        assert query_of(answer)["error"] == error and query_of(answer)["state"] == rp.state, extra
        assert "code" not in query_of(answer)
    rp = RP(live_server, client, scope="openid")
    rp.session.redirect_uri = None  # the client has one registered URI, but OpenID requires naming it
    answer = browser_http.http.get(rp.authorization_url(), allow_redirects=False)
    assert answer.status_code == 400 and "Location" not in answer.headers and "invalid_request" in answer.text


def test_a_client_authenticating_two_ways_at_once_is_refused(live_server, make_client):
    client = make_client(grant_types=["client_credentials"], scopes=["students.read"], redirect_uris=[])
    creds = (client["client_id"], client["client_secret"])
    base = {"grant_type": "client_credentials", "scope": "students.read"}
    assert requests.post(live_server + "/oauth/token", data=base, auth=creds).status_code == 200
    other = make_client(grant_types=["client_credentials"], scopes=["students.read"], redirect_uris=[])
    for path, data in (("/oauth/token", base | {"client_secret": client["client_secret"]}),
                       ("/oauth/token", base | {"client_id": other["client_id"]}),
                       ("/oauth/introspect", {"token": "x", "client_secret": client["client_secret"]}),
                       ("/oauth/revoke", {"token": "x", "client_secret": client["client_secret"]})):
        resp = requests.post(live_server + path, data=data, auth=creds)
        assert resp.status_code == 400 and resp.json()["error"] == "invalid_request", (path, data)


def test_refresh_tokens_only_for_offline_access_and_introspected_with_their_own_expiry(live_server, make_client,
                                                                                      browser_http, demo):
    client = make_client()
    browser_http.login(login_of(demo, "homeroom_teacher"))
    rp = RP(live_server, client, scope="openid profile")
    online = rp.fetch_token(browser_http.visit(rp.authorization_url()).headers["Location"])
    assert "refresh_token" not in online and online["access_token"]

    rp = RP(live_server, client, scope="openid offline_access")
    offline = rp.fetch_token(browser_http.visit(rp.authorization_url()).headers["Location"])
    creds = (client["client_id"], client["client_secret"])
    about = requests.post(live_server + "/oauth/introspect", data={"token": offline["refresh_token"]},
                          auth=creds).json()
    assert about["active"] is True and about["exp"] > time.time() + 29 * 86400  # 30 days, not the hour
    assert "jti" not in about  # the access token's id is not the refresh token's
    access = requests.post(live_server + "/oauth/introspect", data={"token": offline["access_token"]},
                           auth=creds).json()
    assert access["exp"] <= time.time() + 3600 and access["token_type"] == "Bearer"
