"""Optional TOTP second factor: enrol with an authenticator, then a login needs the code; codes are
single-use; a wrong code does not log in."""
from __future__ import annotations

import re

import pyotp

from tests.conftest import PASSWORD, login_of


def _form_token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_enrol_then_login_needs_the_code(client, auth, demo):
    username = login_of(demo, "school_admin")
    auth.login(username)
    page = client.get("/account/security").get_data(as_text=True)
    assert "未开启" in page
    page = client.post("/account/security", data={"action": "start", "csrf_token": _form_token(page)}).get_data(as_text=True)
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    assert "<svg" in page  # the QR code to scan
    bad = client.post("/account/security", data={"action": "confirm", "code": "000000", "csrf_token": _form_token(page)})
    assert bad.status_code == 422
    ok = client.post("/account/security", data={"action": "confirm", "code": pyotp.TOTP(secret).now(),
                                                "csrf_token": _form_token(page)})
    assert ok.status_code == 200 and "已开启" in ok.get_data(as_text=True)

    token = _form_token(client.get("/").get_data(as_text=True))
    client.post("/logout", data={"csrf_token": token})
    first = auth.login(username, PASSWORD)
    assert first.status_code == 302 and first.headers["Location"] == "/login/2fa"
    assert client.get("/api/v1/me").status_code == 401  # the password alone grants nothing
    step = client.get("/login/2fa").get_data(as_text=True)
    wrong = client.post("/login/2fa", data={"code": "123456", "csrf_token": _form_token(step)})
    assert wrong.status_code == 401
    # the code used at enrolment is spent; the next time step's code is accepted (clock drift window)
    totp = pyotp.TOTP(secret)
    import time

    next_code = totp.at(int(time.time()) + 30)
    right = client.post("/login/2fa", data={"code": next_code, "csrf_token": _form_token(step)})
    assert right.status_code == 302
    assert client.get("/api/v1/me").get_json()["username"] == username
    # the same code cannot be replayed for another login
    client.post("/logout", data={"csrf_token": _form_token(client.get("/").get_data(as_text=True))})
    auth.login(username, PASSWORD)
    step = client.get("/login/2fa").get_data(as_text=True)
    replay = client.post("/login/2fa", data={"code": next_code, "csrf_token": _form_token(step)})
    assert replay.status_code == 401
