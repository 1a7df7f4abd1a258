"""A person changes their own password on the account security page: the login's check of the current one
(lockout included), the one password policy, errors naming the field in zh and en, the other sessions and
apps' tokens signed out, audited; a portal-only account is told why there is nothing to change; and a
parent does it on a phone."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from tests.conftest import PASSWORD, AuthActions, browser_login, login_of

NEW = "Neu-passwort-77"
PAGE = "/account/security"


def _token(client) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(PAGE).get_data(as_text=True)).group(1)


def _change(client, current: str, new: str, confirm: str | None = None, lang: str | None = None):
    data = {"action": "password", "current_password": current, "new_password": new,
            "new_password_confirm": new if confirm is None else confirm, "csrf_token": _token(client)}
    return client.post(PAGE + (f"?lang={lang}" if lang else ""), data=data)


def test_change_signs_other_sessions_out_and_is_audited(app, demo, db_session):
    from foundation.models import Account, AuditEntry, OAuthToken

    username = login_of(demo, "homeroom_teacher")
    here, elsewhere = AuthActions(app.test_client()), AuthActions(app.test_client())
    assert here.login(username).status_code == 302 and elsewhere.login(username).status_code == 302
    assert elsewhere.get("/api/v1/me").status_code == 200
    acct = db_session.scalar(sa.select(Account).where(Account.username == username))
    db_session.add(OAuthToken(jti="pw-test", refresh_hash="pw-test-r", client_id="app", account_id=acct.id,
                              scope="openid", family="f", issued_at=0, expires_in=3600))
    db_session.commit()

    # every refusal names the field and changes nothing
    for args, field, zh, en in (
        (("wrong-Pass-1", NEW), "current_password", "当前密码不正确", "The current password is not correct"),
        ((PASSWORD, "short1"), "new_password", "密码至少 8 位", "A password has at least 8 characters"),
        ((PASSWORD, "onlyletters"), "new_password", "须同时包含字母和数字", "mixes letters with digits"),
        ((PASSWORD, NEW, NEW + "x"), "new_password_confirm", "两次输入的新密码不一致", "The two new passwords differ"),
        ((PASSWORD, PASSWORD), "new_password", "新密码不能与当前密码相同", "must differ from the current one"),
    ):
        for lang, text in (("en", en), ("zh", zh)):  # ?lang= sticks as a cookie: Chinese again after
            resp = _change(here.client, *args, lang=lang)
            page = resp.get_data(as_text=True)
            assert resp.status_code == 422 and text in page, (args, lang)
            assert f'id="{field}" name="{field}"' in page and f'{field}-error' in page
    db_session.expire_all()
    acct = db_session.scalar(sa.select(Account).where(Account.username == username))
    assert acct.failed_logins == 2  # the two wrong current passwords (one per language) count like logins

    done = _change(here.client, PASSWORD, NEW)
    assert done.status_code == 302 and done.headers["Location"].endswith(PAGE)
    assert "密码已修改" in here.client.get(PAGE).get_data(as_text=True)  # the flash, shown as a toast
    assert here.get("/api/v1/me").status_code == 200  # this session stays
    assert elsewhere.get("/api/v1/me").status_code == 401  # the other one is signed out
    assert elsewhere.client.get("/").headers["Location"].startswith("/login")
    assert AuthActions(app.test_client()).login(username, PASSWORD).status_code == 401
    assert AuthActions(app.test_client()).login(username, NEW).status_code == 302

    db_session.expire_all()
    token = db_session.scalar(sa.select(OAuthToken).where(OAuthToken.jti == "pw-test"))
    assert token.access_revoked and token.refresh_revoked
    entry = db_session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "account.password.change"))
    assert entry.username == username and entry.resource_id == str(acct.id)
    assert entry.detail["tokens_revoked"] == 1


def test_wrong_current_password_locks_like_a_login(app, demo, db_session):
    from foundation.models import Account

    username = login_of(demo, "parent")
    user = AuthActions(app.test_client())
    user.login(username)
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert _change(user.client, "not-it-123", NEW).status_code == 422
    locked = _change(user.client, PASSWORD, NEW)
    assert locked.status_code == 422 and "账号已临时锁定" in locked.get_data(as_text=True)
    acct = db_session.scalar(sa.select(Account).where(Account.username == username))
    assert acct.locked_until is not None
    assert AuthActions(app.test_client()).login(username, PASSWORD).status_code == 401


def test_a_portal_only_account_is_told_there_is_no_password_here(app, demo, db_session):
    from foundation.models import Account

    acct = db_session.scalar(sa.select(Account).where(Account.username == login_of(demo, "parent")))
    acct.password_hash = None  # as accounts made by signing in through the city portal are
    db_session.commit()
    client = app.test_client()
    with app.test_request_context("/"):  # signed in as the portal would sign them in
        from flask import session

        from foundation import db
        from foundation.auth import login_user

        login_user(db.session().get(Account, acct.id))
        db.session().commit()
        signed_in = dict(session)
    with client.session_transaction() as s:
        s.update(signed_in)
    page = client.get(PAGE).get_data(as_text=True)
    assert "没有单独的基座密码" in page and 'name="current_password"' not in page
    english = client.get(PAGE + "?lang=en").get_data(as_text=True)
    assert "have no separate Jizuo password" in english


@pytest.mark.browser
def test_a_parent_changes_their_password_on_a_phone(app, demo, live_server, browser, shot):
    ctx = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = ctx.new_page()
    try:
        browser_login(page, live_server, login_of(demo, "parent"))
        page.goto(f"{live_server}{PAGE}")
        page.fill("#current_password", PASSWORD)
        page.fill("#new_password", NEW)
        page.fill("#new_password_confirm", NEW + "?")
        page.click("#password button[type=submit]")
        assert "两次输入的新密码不一致" in page.inner_text("#password-errors")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        shot(page, "account-password-error-390")
        page.fill("#current_password", PASSWORD)
        page.fill("#new_password", NEW)
        page.fill("#new_password_confirm", NEW)
        page.click("#password button[type=submit]")
        page.wait_for_selector(".toast >> text=密码已修改")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        shot(page, "account-password-changed-390")
        page.set_viewport_size({"width": 1366, "height": 900})
        page.goto(f"{live_server}{PAGE}")
        shot(page, "account-security-1366")
    finally:
        ctx.close()
