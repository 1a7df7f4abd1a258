"""Signing a person's other browser sessions out when their password changes.

A browser session is a signed cookie: the server cannot recall it. Each session therefore carries a stamp
derived from the account's password hash (an HMAC under the secret key, never the hash itself); when the
password changes, every session holding the old stamp no longer matches and is cleared on its next request.
A session without a stamp (just signed in) receives the current one. Federated-only accounts (no local
password) keep one constant stamp: their sessions end through the upstream portal and logout.
"""
from __future__ import annotations

import hashlib
import hmac

from flask import current_app, session

from foundation.models import Account

KEY = "pw_stamp"


def stamp(account: Account) -> str:
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, (account.password_hash or "-").encode(), hashlib.sha256).hexdigest()[:24]


def current(account: Account) -> bool:
    """True when the request's session belongs to the account's present password (stamping a new session)."""
    have = session.get(KEY)
    want = stamp(account)
    if have is None:
        session[KEY] = want
        return True
    return hmac.compare_digest(have, want)


def keep_this_one(account: Account) -> None:
    """After a password change: this session stays signed in, the others are not current any more."""
    session[KEY] = stamp(account)
