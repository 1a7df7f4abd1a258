"""The message center's tables: messages, inbox rows, channel deliveries, preferences and contacts.

These rows belong to accounts, not to one school (a district notice reaches every school and district
staff hold no school), so they are not ``SchoolScoped``: every query filters on the caller's account
(inbox, preferences) or checks the school explicitly (figures, dead letters). ``school_id`` columns
record the recipient's school for figures and for a school admin's dead-letter list.

A message is stored (subject and body rendered in zh and en at send time, so later template changes
never rewrite history) before anything is delivered. ``message_deliveries`` is the ground truth of
delivery: one row per message × account × channel (unique), so a replay or a redelivery can never
send twice.

A notice may ask its recipients to confirm it (``ack_required``, 确认收到): each inbox row then keeps its
``acked_at``, and the sender may remind the rest once (``reminded_at``). ``reach`` keeps what the sender was
told when sending (people reached, families without an account). Attachments (images, PDF) are stored in
the database with their message, so a rolled-back send leaves no file behind and every app server sees them.

The two fan-out tables (``message_inbox``, ``message_deliveries``) carry no foreign keys: a district
notice writes 100,000 rows in one ``INSERT … SELECT`` and three foreign-key checks per row tripled its
time (docs/benchmarks.md). Their ids are correct by construction — the message is inserted in the same
transaction, the accounts and schools come out of the join that resolves the recipients — accounts are
deactivated, never deleted, and :func:`foundation.messaging.service.delete_message` removes a message's
rows together.
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.db import Base, utcnow

CHANNELS = ("inbox", "push", "webhook", "email")
DELIVERY_STATES = ("pending", "sending", "sent", "dead")


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (sa.UniqueConstraint("dedupe_key", name="uq_messages_dedupe_key"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    type_key: so.Mapped[str] = so.mapped_column(sa.String(80), index=True)
    school_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("org_units.id"), index=True)
    class_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("org_units.id"), index=True)
    sender_account_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("accounts.id"), index=True)
    reply_to_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("messages.id"), index=True)
    subject_zh: so.Mapped[str] = so.mapped_column(sa.String(300))
    body_zh: so.Mapped[str] = so.mapped_column(sa.Text)
    subject_en: so.Mapped[str] = so.mapped_column(sa.String(300))
    body_en: so.Mapped[str] = so.mapped_column(sa.Text)
    variables: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)
    link: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    dedupe_key: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    recipient_count: so.Mapped[int] = so.mapped_column(default=0)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow, index=True)
    ack_required: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())
    reminded_at: so.Mapped[datetime | None] = so.mapped_column()
    reach: so.Mapped[dict | None] = so.mapped_column(sa.JSON)


class InboxItem(Base):
    """One message in one account's inbox: the in-app channel, with read receipt and archive."""

    __tablename__ = "message_inbox"
    __table_args__ = (
        sa.UniqueConstraint("message_id", "account_id", name="uq_message_inbox_pair"),
        sa.Index("ix_message_inbox_account_state", "account_id", "archived_at", "read_at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    message_id: so.Mapped[int] = so.mapped_column()  # no foreign keys on fan-out rows: see the module doc
    account_id: so.Mapped[int] = so.mapped_column()
    school_id: so.Mapped[int | None] = so.mapped_column(index=True)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    read_at: so.Mapped[datetime | None] = so.mapped_column()
    archived_at: so.Mapped[datetime | None] = so.mapped_column()
    acked_at: so.Mapped[datetime | None] = so.mapped_column()  # 确认收到, when the message asked for it

    message: so.Mapped[Message] = so.relationship(
        lazy="joined", primaryjoin="foreign(InboxItem.message_id) == Message.id")


class MessageAttachment(Base):
    """A file sent with a notice: an image (PNG, JPEG, WebP) or a PDF, its type read from its content. Served
    only to the message's sender and recipients, by the message and an unguessable ``key``."""

    __tablename__ = "message_attachments"
    __table_args__ = (sa.UniqueConstraint("message_id", "key", name="uq_message_attachments_key"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    message_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    key: so.Mapped[str] = so.mapped_column(sa.String(32))
    seq: so.Mapped[int] = so.mapped_column(default=0)
    filename: so.Mapped[str] = so.mapped_column(sa.String(200))
    content_type: so.Mapped[str] = so.mapped_column(sa.String(40))
    size: so.Mapped[int] = so.mapped_column()
    sha256: so.Mapped[str] = so.mapped_column(sa.String(64))
    data: so.Mapped[bytes] = so.mapped_column(sa.LargeBinary, deferred=True)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)


class Delivery(Base):
    """One message to one account through one outside channel (webhook, email). ``status``: pending
    (due at ``next_attempt_at``), sending (claimed by a worker until ``lease_until``), sent, dead
    (attempts exhausted: the dead-letter list)."""

    __tablename__ = "message_deliveries"
    __table_args__ = (
        sa.UniqueConstraint("message_id", "account_id", "channel", name="uq_message_deliveries_key"),
        sa.Index("ix_message_deliveries_due", "status", "next_attempt_at"),
        sa.CheckConstraint(f"status IN {DELIVERY_STATES}", name="status"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    message_id: so.Mapped[int] = so.mapped_column(index=True)  # no foreign keys: see the module doc
    account_id: so.Mapped[int] = so.mapped_column()
    channel: so.Mapped[str] = so.mapped_column(sa.String(16))
    school_id: so.Mapped[int | None] = so.mapped_column(index=True)
    status: so.Mapped[str] = so.mapped_column(sa.String(16), default="pending")
    attempts: so.Mapped[int] = so.mapped_column(default=0)
    next_attempt_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    lease_until: so.Mapped[datetime | None] = so.mapped_column()
    last_error: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    delivered_at: so.Mapped[datetime | None] = so.mapped_column()
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    message: so.Mapped[Message] = so.relationship(
        lazy="joined", primaryjoin="foreign(Delivery.message_id) == Message.id")


class MessagePreference(Base):
    """A person's choice for one message type on one channel (absent → the type's default: on)."""

    __tablename__ = "message_preferences"
    __table_args__ = (
        sa.UniqueConstraint("account_id", "type_key", "channel", name="uq_message_preferences_choice"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    account_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    type_key: so.Mapped[str] = so.mapped_column(sa.String(80))
    channel: so.Mapped[str] = so.mapped_column(sa.String(16))
    enabled: so.Mapped[bool] = so.mapped_column(default=True)


class MessageContact(Base):
    """Where the e-mail channel reaches a person (set by the person on the preferences page)."""

    __tablename__ = "message_contacts"

    account_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("accounts.id", ondelete="CASCADE"),
                                                  primary_key=True)
    email: so.Mapped[str | None] = so.mapped_column(sa.String(254))
    phone_enc: so.Mapped[str | None] = so.mapped_column(sa.Text)  # field cipher; from a roster import
    updated_at: so.Mapped[datetime] = so.mapped_column(default=utcnow, onupdate=utcnow)
