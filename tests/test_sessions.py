"""Sessions end on the server (logout, password resets, age); a login sends people back only to our own
pages; lockout tells nothing about which usernames exist; the portal-binding and second-factor limits are
kept on the server; pages and API answers carry the security headers."""
from __future__ import annotations

import re
import statistics
import time

import pyotp
import pytest
import sqlalchemy as sa

from foundation.models import Account, AuditEntry
from tests.conftest import PASSWORD, AuthActions, login_of

COOKIE = "jizuo_session"


def _token(client, url: str = "/login") -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(url).get_data(as_text=True)).group(1)


def _replay(app, cookie: str):
    """Another browser presenting a saved copy of a session cookie."""
    other = app.test_client()
    other.set_cookie(COOKIE, cookie)
    return other


# ---- sessions end on the server ---------------------------------------------------------------------

def test_a_cookie_saved_before_logout_signs_nobody_in(app, demo):
    username = login_of(demo, "homeroom_teacher")
    here, phone = AuthActions(app.test_client()), AuthActions(app.test_client())
    assert here.login(username).status_code == 302 and phone.login(username).status_code == 302
    saved = here.client.get_cookie(COOKIE).value
    assert _replay(app, saved).get("/api/v1/me").status_code == 200

    assert here.client.post("/logout", data={"csrf_token": _token(here.client, "/")}).status_code == 302
    stolen = _replay(app, saved)
    assert stolen.get("/api/v1/me").status_code == 401
    assert stolen.get("/").headers["Location"].startswith("/login")
    assert phone.get("/api/v1/me").status_code == 200  # logging out here leaves the phone signed in


def test_an_administrators_password_reset_signs_the_person_out_everywhere(app, demo, runner, db_session):
    username = login_of(demo, "parent")
    user = AuthActions(app.test_client())
    assert user.login(username).status_code == 302
    result = runner.invoke(["accounts", "set-password", username, "--password", "Reset-by-admin-9"])
    assert result.exit_code == 0, result.output
    assert user.get("/api/v1/me").status_code == 401
    entry = db_session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "accounts.set_password"))
    assert entry.detail == {"sessions_ended": 1}


def test_a_session_ends_at_its_maximum_age_however_active(app, login):
    user = login("subject_teacher")
    assert user.get("/api/v1/me").status_code == 200
    app.config["SESSION_MAX_HOURS"] = 0.0003  # about a second
    time.sleep(1.2)
    assert user.get("/api/v1/me").status_code == 401


# ---- only our own pages after login -----------------------------------------------------------------

# (what the login is asked to go back to, where it may send the browser; None → the home page)
NEXT = [
    ("/classes/1", "/classes/1"),
    ("/oauth/authorize?client_id=a&redirect_uri=https://app.example/cb", None),  # checked below as kept
    ("//evil.example", None),
    ("///evil.example", None),
    ("/\t/evil.example", None),
    ("/\n/evil.example", None),
    ("/\r\n/evil.example", None),
    ("\t//evil.example", None),
    (" //evil.example", None),
    ("\x00//evil.example", None),
    ("/\\evil.example", None),
    ("\\\\evil.example", None),
    ("\\/evil.example", None),
    ("/\\/evil.example", None),
    ("https://evil.example/", None),
    ("HTTPS:evil.example", None),
    ("javascript:alert(1)", None),
    (" javascript:alert(1)", None),
    ("java\tscript:alert(1)", None),
    ("data:text/html,<script>alert(1)</script>", None),
    ("evil.example", None),
    ("/o\x01k", None),
    ("/ok\x01", "/ok"),  # trailing controls are trimmed, as browsers do
    ("/%09/evil.example", "/%09/evil.example"),  # stays a path: browsers do not decode %09 there
    ("/a\\b", "/a/b"),
    ("", None),
]


@pytest.mark.parametrize("raw, expected", NEXT[2:], ids=[repr(r) for r, _ in NEXT[2:]])
def test_classic_open_redirect_bypasses_are_refused(raw, expected):
    from foundation.security.redirects import local_path

    assert local_path(raw) == expected


def test_login_and_second_factor_send_back_only_to_our_pages(app, demo, client, db_session):
    username = login_of(demo, "school_admin")
    # as typed in the address bar: %09 is a tab, %5C a backslash (Location //evil.example before the fix)
    for query, expected in (("/classes/1", "/classes/1"), ("/%09/evil.example", "/"), ("/%5Cevil.example", "/"),
                            ("%2F%2Fevil.example", "/"), ("/%0A/evil.example", "/")):
        resp = client.post("/login?next=" + query,
                           data={"username": username, "password": PASSWORD, "csrf_token": _token(client)})
        assert resp.headers["Location"] == expected, query
    kept = NEXT[1][0]
    resp = client.post("/login", query_string={"next": kept},
                       data={"username": username, "password": PASSWORD, "csrf_token": _token(client)})
    assert resp.headers["Location"] == kept  # a URL inside the query is no reason to refuse

    # the second factor: the step after the password sends back by the same rule
    from foundation.security.fields import cipher_for
    from tests.conftest import SECRET

    secret = pyotp.random_base32()
    acct = db_session.scalar(sa.select(Account).where(Account.username == username))
    acct.totp_secret_enc = cipher_for(SECRET).encrypt(secret)
    db_session.commit()
    browser = app.test_client()
    first = browser.post("/login", query_string={"next": "/\t/evil.example"},
                         data={"username": username, "password": PASSWORD, "csrf_token": _token(browser)})
    assert first.headers["Location"] == "/login/2fa"
    done = browser.post("/login/2fa", data={"code": pyotp.TOTP(secret).now(),
                                            "csrf_token": _token(browser, "/login/2fa")})
    assert done.status_code == 302 and done.headers["Location"] == "/"


def test_wrong_second_factor_codes_count_on_the_server(app, demo, db_session):
    """Five wrong codes lock the account, however often an older cookie is presented again."""
    from foundation.security.fields import cipher_for
    from tests.conftest import SECRET

    username = login_of(demo, "school_admin")
    acct = db_session.scalar(sa.select(Account).where(Account.username == username))
    acct.totp_secret_enc = cipher_for(SECRET).encrypt(pyotp.random_base32())
    db_session.commit()
    browser = app.test_client()
    browser.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": _token(browser)})
    token, saved = _token(browser, "/login/2fa"), browser.get_cookie(COOKIE).value
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        again = _replay(app, saved)  # each try from the cookie as it was before the first wrong code
        assert again.post("/login/2fa", data={"code": "000000", "csrf_token": token}).status_code == 401
    db_session.expire_all()
    assert db_session.scalar(sa.select(Account.locked_until).where(Account.username == username)) is not None
    locked = app.test_client()
    refused = locked.post("/login", data={"username": username, "password": PASSWORD,
                                          "csrf_token": _token(locked)})
    assert refused.status_code == 401 and "锁定" in refused.get_data(as_text=True)


# ---- lockout says nothing about which usernames exist --------------------------------------------------

def _attempt(client, username: str, password: str = "wrong-Pass-1"):
    return client.post("/login", data={"username": username, "password": password, "csrf_token": _token(client)})


def test_unknown_and_real_usernames_lock_alike_in_the_same_words(app, demo):
    real, unknown = login_of(demo, "homeroom_teacher"), "no-such-teacher"
    for lang in ("zh", "en"):
        answers = {}
        for username in (real, unknown):
            client = app.test_client()
            client.set_cookie("lang", lang)
            seen = [_attempt(client, username) for _ in range(app.config["LOGIN_MAX_FAILURES"] + 1)]
            seen.append(_attempt(client, username, PASSWORD if username == real else "Any-pass-2026"))
            answers[username] = [(r.status_code, re.search(r'role="alert">([^<]+)<', r.get_data(as_text=True))
                                  .group(1)) for r in seen]
        assert answers[real] == answers[unknown], lang
        assert answers[real][-1][0] == 401
        assert answers[real][-1][1] in ("连续输错次数过多，账号已临时锁定，请稍后再试",
                                        "Too many failed attempts; the account is locked for a while")
        real, unknown = login_of(demo, "homeroom_teacher", 1), "no-such-teacher-2"


def test_a_locked_account_answers_as_slowly_as_an_unknown_one(app, demo, db_session):
    """With production-strength hashing, medians of a few attempts each stay within a factor of two."""
    from foundation.security.passwords import hash_password

    app.config["PASSWORD_HASH_FAST"] = False
    username = login_of(demo, "subject_teacher")
    acct = db_session.scalar(sa.select(Account).where(Account.username == username))
    acct.password_hash = hash_password(PASSWORD)  # a real account's strong hash, not the demo's fast one
    db_session.commit()
    client = app.test_client()
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        _attempt(client, username)

    def median(username: str) -> float:
        took = []
        for _ in range(5):
            token = _token(client)
            start = time.perf_counter()
            client.post("/login", data={"username": username, "password": "wrong-Pass-1", "csrf_token": token})
            took.append(time.perf_counter() - start)
        return statistics.median(took)

    locked, unknown = median(username), median("nobody-at-all")
    assert max(locked, unknown) < 2 * min(locked, unknown), (locked, unknown)


# ---- the portal-binding limit is kept on the server ------------------------------------------------------

def test_replaying_an_older_cookie_does_not_reset_the_binding_code_limit(app, db_session):
    from foundation.federation.routes import MAX_CODE_TRIES
    from foundation.models import UpstreamProvider

    provider = UpstreamProvider(slug="portal", name="随申办", issuer="http://127.0.0.1:9/portal", client_id="jizuo",
                                client_secret_enc="-")
    db_session.add(provider)
    db_session.commit()
    browser = app.test_client()
    with browser.session_transaction() as s:  # as the callback leaves it: the portal vouches for this visitor
        s["fed_pending"] = {"provider": provider.id, "sub": "visitor-1", "name": "李强", "at": int(time.time())}
    token = _token(browser, "/bind")
    saved = browser.get_cookie(COOKIE).value
    statuses = [_replay(app, saved).post("/bind", data={"code": f"ABCDE-FGH{i}K", "csrf_token": token}).status_code
                for i in range(2, 2 + MAX_CODE_TRIES + 1)]
    assert statuses == [400] * (MAX_CODE_TRIES - 1) + [429, 429]
    assert db_session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "federation.bind_blocked")) == 2


# ---- security headers -------------------------------------------------------------------------------------

def _csp(resp) -> dict[str, str]:
    return {d.split()[0]: d for d in (p.strip() for p in resp.headers["Content-Security-Policy"].split(";")) if d}


def test_pages_carry_a_strict_csp_with_a_fresh_nonce_and_are_not_stored(client, login):
    first, second = client.get("/login"), client.get("/login")
    policy = _csp(first)
    for directive in ("script-src", "style-src"):
        assert "'unsafe-inline'" not in policy[directive] and "'nonce-" in policy[directive]
    assert policy["object-src"] == "object-src 'none'" and policy["frame-ancestors"] == "frame-ancestors 'none'"
    assert _csp(second)["script-src"] != policy["script-src"]  # one nonce per answer
    assert first.headers["Cache-Control"] == "no-store"
    # an inline <style> that must stay carries the answer's nonce
    logout = client.get("/oauth/logout")
    nonce = re.search(r"'nonce-([^']+)'", _csp(logout)["style-src"]).group(1)
    assert f'<style nonce="{nonce}">' in logout.get_data(as_text=True)

    user = login("school_admin")
    for url in ("/", "/api/v1/me", "/api/v1/students"):
        assert user.get(url).headers["Cache-Control"] == "no-store", url
    css = user.get("/static/shell/app.css")
    assert css.status_code == 200 and "no-store" not in css.headers.get("Cache-Control", "")


def test_a_bearer_token_call_sets_no_session_cookie(app, client, demo, runner):
    app.config["OIDC_ISSUER"] = "http://localhost"
    issued = runner.invoke(["token", "--account", login_of(demo, "homeroom_teacher")])
    assert issued.exit_code == 0, issued.output
    resp = client.get("/api/v1/me", headers={"Authorization": "Bearer " + issued.output.strip()})
    assert resp.status_code == 200 and resp.get_json()["username"] == login_of(demo, "homeroom_teacher")
    assert "Set-Cookie" not in resp.headers and resp.headers["Cache-Control"] == "no-store"
    refused = client.get("/api/v1/me", headers={"Authorization": "Bearer not-a-token"})
    assert refused.status_code == 401 and "Set-Cookie" not in refused.headers


# what a strict CSP refuses in markup: inline handlers, style attributes, javascript: URLs, and <script> /
# <style> elements without the nonce (JSON data blocks are not run, so they may stay)
_REFUSED = [re.compile(r"\son[a-z]+\s*=\s*[\"']", re.I), re.compile(r"\sstyle\s*=\s*[\"'{$]", re.I),
            re.compile(r"javascript:", re.I),
            re.compile(r"<(script|style)(?![^>]*\bnonce=)(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I)]


def test_no_template_or_script_needs_what_the_csp_refuses():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    files = [p for folder in ("admin", "foundation", "plugins") for pattern in ("*.html", "*.js")
             for p in (root / folder).rglob(pattern)
             # the vendored ECharts (not our code): its tooltips' colour dots are HTML with a style attribute,
             # which the policy drops (the dot loses its colour); its charts draw on canvas and style by CSSOM
             if p.name != "echarts.min.js"]
    assert len(files) > 50
    found = [f"{p.relative_to(root)}: {m.group(0)!r}" for p in files for rx in _REFUSED
             for m in rx.finditer(p.read_text("utf-8"))]
    assert found == []
