"""One account's inbox and choices: listing and search, unread count, read receipts, archive, replies,
per-type per-channel preferences and the e-mail address. Every function takes the account id and touches
only that account's rows (a parent never sees another's inbox)."""
from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.db import utcnow
from foundation.messaging.types import SWITCHABLE, all_types, get_type
from foundation.models.messages import InboxItem, Message, MessageContact, MessagePreference


class InboxError(ValueError):
    def __init__(self, field: str, key: str) -> None:
        super().__init__(f"{field}: {key}")
        self.field, self.key = field, key


def items(account_id: int, *, box: str = "inbox", q: str | None = None, unread: bool = False) -> sa.Select:
    """The account's inbox rows, newest first. ``box``: inbox (not archived), archive, or all."""
    stmt = (sa.select(InboxItem).join(Message, Message.id == InboxItem.message_id)
            .where(InboxItem.account_id == account_id).order_by(InboxItem.id.desc()))
    if box == "inbox":
        stmt = stmt.where(InboxItem.archived_at.is_(None))
    elif box == "archive":
        stmt = stmt.where(InboxItem.archived_at.is_not(None))
    if unread:
        stmt = stmt.where(InboxItem.read_at.is_(None))
    if q:
        like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(sa.or_(*(col.like(like, escape="\\") for col in (
            Message.subject_zh, Message.body_zh, Message.subject_en, Message.body_en))))
    return stmt


def unread_count(sess: so.Session, account_id: int) -> int:
    return sess.scalar(sa.select(sa.func.count()).select_from(InboxItem).where(
        InboxItem.account_id == account_id, InboxItem.read_at.is_(None), InboxItem.archived_at.is_(None)))


def get_item(sess: so.Session, account_id: int, item_id: int) -> InboxItem | None:
    return sess.scalar(sa.select(InboxItem).where(InboxItem.id == item_id, InboxItem.account_id == account_id))


def item_for_message(sess: so.Session, account_id: int, message_id: int) -> InboxItem | None:
    """The account's own inbox row of a message (a link names the message; each inbox row is personal)."""
    return sess.scalar(sa.select(InboxItem).where(InboxItem.message_id == message_id,
                                                  InboxItem.account_id == account_id))


def mark_read(item: InboxItem) -> None:
    """The read receipt: the first read counts (re-reading does not move it)."""
    if item.read_at is None:
        item.read_at = utcnow()


def set_archived(item: InboxItem, archived: bool) -> None:
    item.archived_at = (item.archived_at or utcnow()) if archived else None


def mark_all_read(sess: so.Session, account_id: int) -> int:
    return sess.execute(sa.update(InboxItem.__table__).where(
        InboxItem.__table__.c.account_id == account_id, InboxItem.__table__.c.read_at.is_(None),
        InboxItem.__table__.c.archived_at.is_(None)).values(read_at=utcnow())).rowcount


def preferences(sess: so.Session, account_id: int) -> list[dict]:
    """Every type with its switchable channels and whether each is on for this person."""
    chosen = {(p.type_key, p.channel): p.enabled for p in sess.scalars(
        sa.select(MessagePreference).where(MessagePreference.account_id == account_id))}
    out = []
    for spec in all_types():
        channels = {ch: (True if spec["mandatory"] else chosen.get((spec["key"], ch), True))
                    for ch in SWITCHABLE if ch in spec["channels"]}
        out.append({"type": spec["key"], "title": spec["title"], "mandatory": spec["mandatory"],
                    "channels": channels})
    return out


def set_preference(sess: so.Session, account_id: int, type_key: str, channel: str, enabled: bool) -> None:
    """Switch one channel of one type on or off; mandatory types and the inbox cannot be switched off."""
    try:
        spec = get_type(type_key)
    except ValueError:
        raise InboxError("type", "messages.type.unknown") from None
    if channel not in SWITCHABLE or channel not in spec["channels"]:
        raise InboxError("channel", "messages.channel.unknown")
    if spec["mandatory"] and not enabled:
        raise InboxError("enabled", "messages.pref.mandatory")
    row = sess.scalar(sa.select(MessagePreference).where(
        MessagePreference.account_id == account_id, MessagePreference.type_key == type_key,
        MessagePreference.channel == channel))
    if row is None:
        sess.add(MessagePreference(account_id=account_id, type_key=type_key, channel=channel, enabled=enabled))
    else:
        row.enabled = enabled


def push_muted(sess: so.Session, account_id: int) -> set[str]:
    """Types whose live push this person switched off (never a mandatory one)."""
    keys = set(sess.scalars(sa.select(MessagePreference.type_key).where(
        MessagePreference.account_id == account_id, MessagePreference.channel == "push",
        MessagePreference.enabled.is_(False))))
    return {k for k in keys if not _mandatory(k)}


def _mandatory(key: str) -> bool:
    try:
        return get_type(key)["mandatory"]
    except ValueError:
        return False


def email_of(sess: so.Session, account_id: int) -> str | None:
    row = sess.get(MessageContact, account_id)
    return row.email if row else None


def set_email(sess: so.Session, account_id: int, email: str | None) -> None:
    row = sess.get(MessageContact, account_id)
    if row is None:
        sess.add(MessageContact(account_id=account_id, email=email))
    else:
        row.email = email
