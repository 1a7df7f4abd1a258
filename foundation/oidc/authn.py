"""When and how the person in this browser session logged in: what ``max_age``, ``prompt=login``,
``auth_time`` and ``amr`` are about. Every login path calls :func:`remember_login` right after
``login_user`` (password, password + second factor, a portal's federated login)."""
from __future__ import annotations

import time

from flask import current_app, session
from itsdangerous import BadSignature, URLSafeTimedSerializer

# RFC 8176 method references; "fed" is a login federated from another provider (the city portal)
AMR = {"pwd": ["pwd"], "pwd+otp": ["pwd", "otp", "mfa"], "fed": ["fed"]}
REAUTH_PARAM = "jz_reauth"  # carried on the authorize URL through a login the provider asked for
REAUTH_VALID = 3600  # the person may take this long on the login page


def remember_login(method: str) -> None:
    session["auth_time"] = int(time.time())
    session["amr"] = AMR[method]


def login_facts() -> tuple[int | None, list[str] | None]:
    """(auth_time, amr) of this session; (None, None) for one from before they were kept."""
    auth_time, amr = session.get("auth_time"), session.get("amr")
    if not isinstance(auth_time, int) or not isinstance(amr, list):
        return None, None
    return auth_time, amr


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="jizuo-oidc-reauth")


def reauth_marker() -> str:
    """A signed 'the provider sent this person to log in again, now'."""
    return _signer().dumps(int(time.time()))


def logged_in_again(marker: str | None, auth_time: int | None) -> bool:
    """Did this session's login happen after the provider asked for it (a marker of ours, recent)?"""
    if not marker or auth_time is None:
        return False
    try:
        asked_at = _signer().loads(marker, max_age=REAUTH_VALID)
    except BadSignature:
        return False
    return isinstance(asked_at, int) and auth_time >= asked_at
