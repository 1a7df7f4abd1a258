"""What a person sent: their notices with read counts and replies, and one notice's read receipts. Only
the sender sees these (another person's message is simply not found)."""
from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.models import Account
from foundation.models.messages import InboxItem, Message

RECEIPTS_SHOWN = 2000


def sent_by(sess: so.Session, account_id: int, limit: int = 100) -> list[tuple[Message, int, int]]:
    """``(message, read, replies)``, newest first."""
    read = sa.func.count(InboxItem.read_at)
    rows = sess.execute(sa.select(Message, read).outerjoin(InboxItem, InboxItem.message_id == Message.id)
                        .where(Message.sender_account_id == account_id).group_by(Message.id)
                        .order_by(Message.id.desc()).limit(limit)).all()
    replies = dict(sess.execute(sa.select(Message.reply_to_id, sa.func.count()).where(
        Message.reply_to_id.in_([m.id for m, _ in rows])).group_by(Message.reply_to_id)).all()) if rows else {}
    return [(m, n, replies.get(m.id, 0)) for m, n in rows]


def receipts(sess: so.Session, account_id: int, message_id: int) -> dict | None:
    """The sender's view of one message: who read it when (the first 2,000, readers first), how many read
    it in all, and the replies. None when it is not this person's message."""
    msg = sess.scalar(sa.select(Message).where(Message.id == message_id, Message.sender_account_id == account_id)) \
        if 0 < message_id < 2**31 else None
    if msg is None:
        return None
    people = sess.execute(sa.select(Account.display_name, InboxItem.read_at)
                          .join(Account, Account.id == InboxItem.account_id).where(InboxItem.message_id == msg.id)
                          .order_by(InboxItem.read_at.is_(None), InboxItem.read_at, Account.id)
                          .limit(RECEIPTS_SHOWN)).all()
    read = sess.scalar(sa.select(sa.func.count(InboxItem.read_at)).where(InboxItem.message_id == msg.id))
    replies = sess.scalars(sa.select(Message).where(Message.reply_to_id == msg.id).order_by(Message.id)).all()
    return {"message": msg, "people": people, "read": read, "replies": replies}
