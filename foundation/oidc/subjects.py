"""Stable, opaque ``sub`` per person: the same person gets the same ``sub`` in every client and every
session, and nothing about them can be read from it."""
from __future__ import annotations

import base64
import hashlib
import hmac

from flask import current_app

from foundation.models import Account


def subject_of(account: Account) -> str:
    who = f"{account.person_kind}:{account.person_id}" if account.person_id else f"account:{account.id}"
    key = hashlib.sha256(("jizuo-sub:" + current_app.config["SECRET_KEY"]).encode()).digest()
    digest = hmac.new(key, who.encode(), hashlib.sha256).digest()[:15]
    return base64.b32encode(digest).decode().lower()
