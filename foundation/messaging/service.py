"""Sending: store the message and its inbox rows in the caller's transaction, record one delivery row per
outside channel, and hand the message to the hub (live fan-out + delivery queue) only after the commit —
so nothing is ever delivered that was not stored, and a rolled-back send leaves no trace anywhere.
"""
from __future__ import annotations

import logging

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app, has_app_context

from foundation.db import utcnow
from foundation.messaging.hub import hub
from foundation.messaging.recipients import resolve
from foundation.messaging.settings import Settings, settings
from foundation.messaging.types import get_type, render
from foundation.models.messages import (
    Delivery,
    InboxItem,
    Message,
    MessageAttachment,
    MessageContact,
    MessagePreference,
)

log = logging.getLogger("jizuo.messaging")
_PENDING = "jizuo.messages.after_commit"
_COUNT = {"preserve_rowcount": True}  # INSERT … SELECT row counts (psycopg reports -1 otherwise)


def _opted_out(type_key: str, channel: str, account_col):
    p = MessagePreference.__table__.c
    return sa.exists().where(p.account_id == account_col, p.type_key == type_key, p.channel == channel,
                             p.enabled.is_(False))


def _deliveries(sess: so.Session, msg: Message, spec: dict, cfg: Settings) -> int:
    """One delivery row per recipient per configured outside channel the type uses and the person has
    not switched off (mandatory types cannot be switched off); e-mail only where an address is known."""
    inbox, c = InboxItem.__table__.c, MessageContact.__table__.c
    total = 0
    for channel in ("webhook", "email"):
        if channel not in spec["channels"] or not cfg.configured(channel):
            continue
        rows = sa.select(inbox.message_id, inbox.account_id, sa.literal(channel), inbox.school_id,
                         sa.literal("pending"), sa.literal(0), sa.literal(msg.created_at),
                         sa.literal(msg.created_at)).where(inbox.message_id == msg.id)
        if not spec["mandatory"]:
            rows = rows.where(~_opted_out(spec["key"], channel, inbox.account_id))
        if channel == "email":
            rows = rows.where(sa.exists().where(c.account_id == inbox.account_id, c.email.is_not(None)))
        cols = ["message_id", "account_id", "channel", "school_id", "status", "attempts", "next_attempt_at",
                "created_at"]
        total += sess.execute(sa.insert(Delivery.__table__).from_select(cols, rows), execution_options=_COUNT).rowcount
    return total


def send(sess: so.Session, type_key: str, *, recipients: list[dict], variables: dict, school_id: int | None,
         sender_account_id: int | None = None, dedupe_key: str | None = None, link: str | None = None,
         class_id: int | None = None, reply_to_id: int | None = None) -> Message:
    """Store the message and one inbox row per resolved recipient account in the caller's transaction,
    then (after the commit) publish it live and queue its deliveries. Idempotent on ``dedupe_key``: a
    second send with the same key returns the first message and adds nothing. Raises MessageTypeError /
    RecipientError (ValueError) for an unknown type, missing variables or a malformed selector. The outside
    channels' configuration is the app's: outside an app context only the inbox (and live push) apply."""
    spec = get_type(type_key)
    if dedupe_key is not None:
        found = sess.scalar(sa.select(Message).where(Message.dedupe_key == dedupe_key))
        if found is not None:
            return found
    rendered = render(spec, variables)
    audience = resolve(recipients)  # validated before anything is written
    msg = Message(type_key=type_key, school_id=school_id, class_id=class_id, sender_account_id=sender_account_id,
                  reply_to_id=reply_to_id, variables={k: _plain(v) for k, v in variables.items()}, link=link or None,
                  dedupe_key=dedupe_key, created_at=utcnow(), **rendered)
    try:
        with sess.begin_nested():
            sess.add(msg)
            sess.flush()
    except sa.exc.IntegrityError:
        if dedupe_key is None:
            raise
        return sess.scalar(sa.select(Message).where(Message.dedupe_key == dedupe_key))  # a concurrent twin
    rows = audience.subquery()
    sel = sa.select(sa.literal(msg.id), rows.c.account_id, rows.c.school_id, sa.literal(msg.created_at))
    inserted = sess.execute(sa.insert(InboxItem.__table__).from_select(
        ["message_id", "account_id", "school_id", "created_at"], sel), execution_options=_COUNT).rowcount
    msg.recipient_count = inserted
    cfg = settings()
    _deliveries(sess, msg, spec, cfg)
    sess.flush()
    _after(sess, "message", msg.id)
    return msg


def delete_message(sess: so.Session, message_id: int) -> None:
    """Remove a message with its inbox, delivery and attachment rows (the fan-out tables have no cascading
    keys, and SQLite does not cascade unless told to)."""
    for table in (InboxItem.__table__, Delivery.__table__, MessageAttachment.__table__):
        sess.execute(sa.delete(table).where(table.c.message_id == message_id))
    sess.execute(sa.delete(Message.__table__).where(Message.__table__.c.id == message_id))


def requeue(sess: so.Session, delivery_ids: list[int]) -> int:
    """Replay dead (or stuck) deliveries: pending again with fresh attempts, queued after the commit. The
    row keeps its key, so a replay of something already sent is impossible (only dead rows move)."""
    d = Delivery.__table__.c
    count = sess.execute(sa.update(Delivery.__table__).where(d.id.in_(delivery_ids), d.status == "dead").values(
        status="pending", attempts=0, next_attempt_at=utcnow(), lease_until=None)).rowcount
    if count:
        _after(sess, "deliveries", list(delivery_ids))
    return count


def _after(sess: so.Session, kind: str, what) -> None:
    app = current_app._get_current_object() if has_app_context() else None
    sess.info.setdefault(_PENDING, []).append((app, kind, what))


def _plain(value):
    return value if isinstance(value, str | int | float | bool | type(None)) else str(value)


@sa.event.listens_for(so.Session, "after_commit")
def _after_commit(sess: so.Session) -> None:
    pending, batches = sess.info.pop(_PENDING, []), {}
    for app, kind, what in pending:  # every send_many of the transaction: one dispatch per app
        if kind == "messages" and app is not None:
            batches.setdefault(app, []).extend(what)
    pending = [p for p in pending if p[1] != "messages"] + [(app, "messages", ids) for app, ids in batches.items()]
    for app, kind, what in pending:
        if app is None:
            continue  # no app (a bare script): open streams find the rows on their next poll
        try:
            if kind == "message":
                hub(app).dispatch(what)
            elif kind == "messages":
                hub(app).dispatch_many(what)
            else:
                hub(app).enqueue(what)
        except Exception:  # noqa: BLE001 - stored is what matters; the sweep and the SSE poll catch up
            log.exception("dispatching %s %s failed; the worker sweep will deliver it", kind, what)


@sa.event.listens_for(so.Session, "after_rollback")
def _after_rollback(sess: so.Session) -> None:
    sess.info.pop(_PENDING, None)
