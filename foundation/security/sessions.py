"""Browser sessions, kept on the server, so that signing out really ends them.

The signed cookie carries a random session id (``sid``); the server keeps a row for it (``web_sessions``:
the id's SHA-256, the account, when it began, when it ended). Every request that presents a cookie looks its
row up by primary key (:func:`current`) and is signed out when the row is missing, ended, of another account
or older than ``SESSION_MAX_HOURS`` however active it was. Logout ends the row (:func:`end`), a person's
own password change ends their other rows (:func:`end_others`), an administrator's password reset ends all
of them (:func:`end_all`). A cookie saved before any of those is worth nothing afterwards.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app, session

from foundation import db
from foundation.models.accounts import Account, WebSession

KEY = "sid"


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _oldest_alive():
    return db.utcnow() - timedelta(hours=current_app.config["SESSION_MAX_HOURS"])


def begin(account: Account) -> None:
    """A new session for ``account`` in this (freshly cleared) cookie; the account's ended and expired rows
    are removed on the way, so the table holds about one row per signed-in browser."""
    sess = db.session()
    sess.execute(sa.delete(WebSession).where(WebSession.account_id == account.id, sa.or_(
        WebSession.ended_at.is_not(None), WebSession.created_at < _oldest_alive())))
    raw = secrets.token_urlsafe(32)
    sess.add(WebSession(id=_digest(raw), account_id=account.id, created_at=db.utcnow()))
    session[KEY] = raw


def current(account_id: int) -> bool:
    """True when this request's cookie is a live session of ``account_id`` (one primary-key lookup)."""
    raw = session.get(KEY)
    if not isinstance(raw, str):
        return False
    row = db.session().get(WebSession, _digest(raw))
    return (row is not None and row.account_id == account_id and row.ended_at is None
            and row.created_at > _oldest_alive())


def end() -> None:
    """Logout: this browser's session ends on the server (then the cookie is cleared by the caller)."""
    raw = session.get(KEY)
    if isinstance(raw, str):
        db.session().execute(sa.update(WebSession).where(WebSession.id == _digest(raw), WebSession.ended_at.is_(None))
                             .values(ended_at=db.utcnow()))


def end_others(account: Account) -> int:
    """After a person changes their own password: this session stays, their others end. Returns how many."""
    raw = session.get(KEY)
    keep = _digest(raw) if isinstance(raw, str) else ""
    return _end(sa.and_(WebSession.account_id == account.id, WebSession.id != keep))


def end_all(account_id: int) -> int:
    """After an administrator sets someone's password (or disables them): every session of theirs ends."""
    return _end(WebSession.account_id == account_id)


def _end(where) -> int:
    return db.session().execute(sa.update(WebSession).where(where, WebSession.ended_at.is_(None))
                                .values(ended_at=db.utcnow())).rowcount
