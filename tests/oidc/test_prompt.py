"""What an authorization request asks of the login: prompt=login and max_age make the person log in
again, prompt=none never shows a page, and the ID token tells when (auth_time) and how (amr) the person
really logged in."""
from __future__ import annotations

import re
import time

import pyotp
import sqlalchemy as sa

from foundation.models import Account
from foundation.security.fields import cipher_for
from tests.conftest import PASSWORD, SECRET, login_of
from tests.oidc_support import REDIRECT, RP, Browser, query_of


def _log_in_at(browser: Browser, location: str, username: str):
    """The login page the provider sent the person to: sign in there and follow ``next`` back."""
    page = browser.http.get(browser.base + location).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    resp = browser.http.post(browser.base + location, data={"username": username, "password": PASSWORD,
                                                            "csrf_token": token}, allow_redirects=False)
    assert resp.status_code == 302, resp.text[:300]
    return browser.visit(browser.base + resp.headers["Location"]) if resp.headers["Location"] != "/login/2fa" \
        else resp


def test_max_age_and_prompt_login_ask_for_a_new_login_and_auth_time_is_the_real_one(live_server, make_client,
                                                                                   browser_http, demo):
    client, user = make_client(), login_of(demo, "homeroom_teacher")
    before = int(time.time())
    browser_http.login(user)
    logged_in = int(time.time())
    time.sleep(1.2)
    # an ordinary request: the ID token's auth_time is the login, not the moment the code was issued
    rp = RP(live_server, client, scope="openid")
    answer = browser_http.visit(rp.authorization_url())
    claims = rp.id_token_claims(rp.fetch_token(answer.headers["Location"])["id_token"])
    assert before <= claims["auth_time"] <= logged_in < claims["iat"]
    assert claims["amr"] == ["pwd"]

    for extra in ({"max_age": "1"}, {"prompt": "login"}):
        rp = RP(live_server, client, scope="openid")
        ask = browser_http.http.get(rp.authorization_url(**extra), allow_redirects=False)
        assert ask.status_code == 302 and ask.headers["Location"].startswith("/login?next="), extra  # no code
        again = int(time.time())
        answer = _log_in_at(browser_http, ask.headers["Location"], user)
        assert answer.headers["Location"].startswith(REDIRECT), extra  # one login, then the code
        claims = rp.id_token_claims(rp.fetch_token(answer.headers["Location"])["id_token"])
        assert claims["auth_time"] >= again, extra
    # a session younger than max_age goes straight through
    rp = RP(live_server, client, scope="openid")
    assert browser_http.visit(rp.authorization_url(max_age="600")).headers["Location"].startswith(REDIRECT)


def test_prompt_none_redirects_with_the_reason_instead_of_showing_a_page(live_server, make_client, browser_http,
                                                                        demo):
    third_party = make_client(first_party=False, name="家校通")
    rp = RP(live_server, third_party, scope="openid profile")
    stranger = Browser(live_server).http.get(rp.authorization_url(prompt="none"), allow_redirects=False)
    assert query_of(stranger)["error"] == "login_required" and query_of(stranger)["state"] == rp.state

    browser_http.login(login_of(demo, "parent"))
    no_consent = browser_http.http.get(rp.authorization_url(prompt="none"), allow_redirects=False)
    assert no_consent.status_code == 302 and no_consent.headers["Location"].startswith(REDIRECT)
    assert query_of(no_consent)["error"] == "consent_required"

    first_party = RP(live_server, make_client(), scope="openid")
    too_old = browser_http.http.get(first_party.authorization_url(prompt="none", max_age="0"), allow_redirects=False)
    assert query_of(too_old)["error"] == "login_required"
    fine = browser_http.http.get(first_party.authorization_url(prompt="none"), allow_redirects=False)
    assert "code" in query_of(fine)


def test_a_second_factor_login_says_so_in_amr_and_prompt_none_midway_is_interaction_required(
        live_server, make_client, db_session, demo):
    username = login_of(demo, "school_admin")
    secret = pyotp.random_base32()
    acct = db_session.scalar(sa.select(Account).where(Account.username == username))
    acct.totp_secret_enc = cipher_for(SECRET).encrypt(secret)
    db_session.commit()
    rp = RP(live_server, make_client(), scope="openid")
    person = Browser(live_server)
    ask = person.http.get(rp.authorization_url(), allow_redirects=False)
    step = _log_in_at(person, ask.headers["Location"], username)
    assert step.headers["Location"] == "/login/2fa"
    midway = person.http.get(RP(live_server, rp.client, scope="openid").authorization_url(prompt="none"),
                             allow_redirects=False)
    assert query_of(midway)["error"] == "interaction_required"
    page = person.http.get(live_server + "/login/2fa").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    done = person.http.post(live_server + "/login/2fa", data={"code": pyotp.TOTP(secret).now(), "csrf_token": token},
                            allow_redirects=False)
    answer = person.visit(live_server + done.headers["Location"])
    claims = rp.id_token_claims(rp.fetch_token(answer.headers["Location"])["id_token"])
    assert claims["amr"] == ["pwd", "otp", "mfa"]
