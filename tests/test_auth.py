"""Browser login: CSRF, lockout after repeated failures, session cookie flags, logout."""
from __future__ import annotations

import re

import sqlalchemy as sa

from foundation.models import Account, AuditEntry
from tests.conftest import PASSWORD, login_of


def _token(client) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)


def test_login_without_csrf_token_is_refused(client, demo):
    resp = client.post("/login", data={"username": login_of(demo, "school_admin"), "password": PASSWORD})
    assert resp.status_code == 400
    assert client.get("/api/v1/me").status_code == 401


def test_login_sets_a_hardened_session_cookie_and_logout_ends_it(client, demo, auth):
    resp = auth.login(login_of(demo, "school_admin"))
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert client.get("/api/v1/me").status_code == 200
    page = client.get("/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/api/v1/me").status_code == 401


def test_api_writes_from_a_browser_session_need_the_csrf_header(login):
    auth = login("school_admin")
    sid = auth.get("/api/v1/students").get_json()["items"][0]["id"]
    resp = auth.client.patch(f"/api/v1/students/{sid}", json={"boarding": True})
    assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "csrf_failed"
    assert auth.patch(f"/api/v1/students/{sid}", json={"boarding": True}).status_code == 200


def test_wrong_password_gives_one_message_for_unknown_and_known_users(client, auth, demo):
    known = auth.login(login_of(demo, "school_admin"), "wrong-password-1")
    unknown = auth.login("nobody-here", "wrong-password-1")
    assert known.status_code == unknown.status_code == 401
    assert "用户名或密码错误" in known.get_data(as_text=True)
    assert "用户名或密码错误" in unknown.get_data(as_text=True)


def test_account_locks_after_repeated_failures_even_for_the_right_password(app, runner, auth, demo, db_session):
    username = login_of(demo, "homeroom_teacher")
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert auth.login(username, "not-the-password").status_code == 401
    locked = auth.login(username, PASSWORD)
    assert locked.status_code == 401
    assert "锁定" in locked.get_data(as_text=True)
    acct = db_session.scalar(sa.select(Account).where(Account.username == username))
    assert acct.locked_until is not None
    assert db_session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "account.locked"))
    # an administrator lifts it from the CLI
    result = runner.invoke(["accounts", "unlock", username])
    assert result.exit_code == 0, result.output
    assert auth.login(username, PASSWORD).status_code == 302


def test_login_page_is_chinese_by_default_with_an_english_switch(client):
    zh = client.get("/login").get_data(as_text=True)
    assert "用户名" in zh and 'lang="zh-CN"' in zh
    en = client.get("/login?lang=en")
    assert "Username" in en.get_data(as_text=True)
    assert "lang=en" in en.headers["Set-Cookie"]
    assert "Username" in client.get("/login").get_data(as_text=True)  # the choice is remembered


def test_pages_need_login_and_redirect_back(client):
    resp = client.get("/classes/1")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login?next=/classes/1")


def test_open_redirect_after_login_is_refused(client, demo):
    token = _token(client)
    resp = client.post("/login?next=//evil.example/x",
                       data={"username": login_of(demo, "school_admin"), "password": PASSWORD, "csrf_token": token})
    assert resp.headers["Location"] == "/"


def test_junk_usernames_get_the_ordinary_refusal(client):
    for username in ("x" * 500, "   ", "' OR 1=1 --"):
        token = _token(client)
        resp = client.post("/login", data={"username": username, "password": "whatever-1", "csrf_token": token})
        assert resp.status_code == 401, username
    # a control character is refused before any account is looked at (foundation/inputs.py): the 400 page
    resp = client.post("/login", data={"username": "\x00admin", "password": "whatever-1", "csrf_token": _token(client)})
    assert resp.status_code == 400


def test_many_failures_from_one_address_throttle_every_account_from_it(app, auth, demo, runner):
    app.config["LOGIN_IP_MAX_FAILURES"] = 6
    for i in range(6):  # spread over accounts, so no single account locks
        assert auth.login(f"someone-{i}", "wrong-password-1").status_code == 401
    refused = auth.login(login_of(demo, "school_admin"), PASSWORD)
    assert refused.status_code == 401 and "网络地址" in refused.get_data(as_text=True)
    # another address is not affected
    other = auth.client.post  # the test client can present a different REMOTE_ADDR
    token = _token(auth.client)
    resp = other("/login", data={"username": login_of(demo, "school_admin"), "password": PASSWORD,
                                 "csrf_token": token}, environ_base={"REMOTE_ADDR": "10.9.8.7"})
    assert resp.status_code == 302
