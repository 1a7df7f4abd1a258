"""确认收到: a notice that asks its recipients to confirm it. A recipient confirms once (again is a no-op
that answers the same time); the sender sees who has and has not (sent.py) and may remind those who have
not — once, with a ``notice.reminder`` that links back to the notice."""
from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.db import utcnow
from foundation.errors import ValidationFailed
from foundation.messaging.service import send
from foundation.models import Account
from foundation.models.messages import InboxItem, Message

REMINDER = "notice.reminder"


def notice_link(message_id: int) -> str:
    """The page where a recipient opens one notice (and confirms it)."""
    return f"/messages/m/{message_id}"


def acknowledge(sess: so.Session, item: InboxItem) -> bool:
    """Confirm ``item`` (which is the caller's own); True the first time. Confirming also reads it."""
    if not item.message.ack_required:
        raise ValidationFailed({"item_id": ["messages.ack.not_asked"]})
    if item.acked_at is not None:
        return False
    now = utcnow()
    t = InboxItem.__table__.c
    first = sess.execute(sa.update(InboxItem.__table__).where(t.id == item.id, t.acked_at.is_(None))
                         .values(acked_at=now, read_at=sa.func.coalesce(t.read_at, now))).rowcount
    sess.refresh(item, ["acked_at", "read_at"])
    return bool(first)


def waiting(sess: so.Session, message_id: int) -> list[int]:
    """The accounts that received the notice and have not confirmed it."""
    return list(sess.scalars(sa.select(InboxItem.account_id).where(
        InboxItem.message_id == message_id, InboxItem.acked_at.is_(None)).order_by(InboxItem.account_id)))


def remind(sess: so.Session, sender_account_id: int, msg: Message) -> Message:
    """The one reminder to those who have not confirmed. A second one, or one with nobody left, is a 422
    on ``reminder``; two clicks at once send one."""
    if not msg.ack_required:
        raise ValidationFailed({"reminder": ["messages.reminder.not_asked"]})
    if msg.reminded_at is not None:
        raise ValidationFailed({"reminder": ["messages.reminder.already"]})
    accounts = waiting(sess, msg.id)
    if not accounts:
        raise ValidationFailed({"reminder": ["messages.reminder.nobody"]})
    m = Message.__table__.c
    claimed = sess.execute(sa.update(Message.__table__).where(m.id == msg.id, m.reminded_at.is_(None))
                           .values(reminded_at=utcnow())).rowcount
    sess.refresh(msg, ["reminded_at"])
    if not claimed:
        raise ValidationFailed({"reminder": ["messages.reminder.already"]})
    name = sess.scalar(sa.select(Account.display_name).where(Account.id == sender_account_id)) or ""
    return send(sess, REMINDER, recipients=[{"accounts": accounts}],
                variables={"subject": msg.subject_zh, "sender": name}, school_id=msg.school_id,
                class_id=msg.class_id, sender_account_id=sender_account_id, link=notice_link(msg.id),
                dedupe_key=f"{REMINDER}:{msg.id}")
