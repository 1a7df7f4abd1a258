"""Stable, opaque ``sub`` per person, stored (``oidc_subjects``): the same person gets the same ``sub`` in
every client and every session for life, whatever becomes of the secret key, and nothing about them can
be read from it. Accounts that existed before subjects were stored keep the one they had (migration 0019
backfilled it); a new account gets a random one, or the one another account of the same person has."""
from __future__ import annotations

import base64
import secrets

import sqlalchemy as sa

from foundation import db
from foundation.models import Account
from foundation.models.oauth import OIDCSubject


def _new_subject() -> str:
    return base64.b32encode(secrets.token_bytes(15)).decode().lower()


def subject_of(account: Account) -> str:
    sess = db.session()
    found = sess.scalar(sa.select(OIDCSubject.subject).where(OIDCSubject.account_id == account.id))
    if found is not None:
        return found
    subject = None
    if account.person_id:
        subject = sess.scalar(
            sa.select(OIDCSubject.subject).join(Account, Account.id == OIDCSubject.account_id)
            .where(Account.person_kind == account.person_kind, Account.person_id == account.person_id).limit(1))
    subject = subject or _new_subject()
    try:
        with sess.begin_nested():  # two first requests at once: the one that lands first wins
            sess.add(OIDCSubject(account_id=account.id, subject=subject))
    except sa.exc.IntegrityError:
        return sess.scalar(sa.select(OIDCSubject.subject).where(OIDCSubject.account_id == account.id))
    return subject
