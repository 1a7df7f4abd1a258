"""Inbox rows as JSON, and the server-sent-events stream that pushes new ones to an open browser.

The stream keeps a cursor (the last inbox row id it sent, resumable with ``Last-Event-ID``) and, each
time the live fan-out wakes it (or every ``poll`` seconds, so it also works while Redis is down), sends
the account's rows past the cursor. A stream ends after ``max_seconds``; the browser's EventSource
reconnects by itself with the last id, so no row is skipped or repeated. A stopping process ends its
streams at once (``Notifier.stop``), so a graceful restart does not wait on open browsers.
"""
from __future__ import annotations

import json
import time
from collections.abc import Iterator

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.messaging.attachments import listing
from foundation.messaging.hub import hub
from foundation.messaging.inbox import items, push_muted, unread_count
from foundation.messaging.types import get_type
from foundation.models import Account
from foundation.models.messages import InboxItem
from foundation.tenancy import unscoped

# the stream reads one account's own inbox rows (filtered on the account, not on schools)
LIVE = unscoped("the live stream reads one account's own inbox")


def _iso(value) -> str | None:
    return value.isoformat() + "Z" if value else None


def view(sess: so.Session, rows: list[InboxItem], lang: str) -> list[dict]:
    """Inbox rows as the page and the API show them: texts in ``lang``, the sender's name, the link with its
    words, whether the notice asks to be confirmed (and when it was), and its attachments."""
    senders = {m.sender_account_id for m in (r.message for r in rows) if m.sender_account_id}
    names = dict(sess.execute(sa.select(Account.id, Account.display_name).where(Account.id.in_(senders)))
                 .all()) if senders else {}
    files = listing(sess, [r.message_id for r in rows])
    out = []
    for r in rows:
        m = r.message
        try:
            spec = get_type(m.type_key)
            title, mandatory, label = spec["title"][lang], spec["mandatory"], spec["link_label"][lang]
        except ValueError:
            title, mandatory, label = m.type_key, False, None
        out.append({"id": r.id, "message_id": m.id, "type": m.type_key, "type_title": title,
                    "mandatory": mandatory, "subject": m.subject_en if lang == "en" else m.subject_zh,
                    "body": m.body_en if lang == "en" else m.body_zh, "link": m.link or None,
                    "link_label": label if m.link else None,
                    "sender": names.get(m.sender_account_id), "replyable": m.type_key in ("notice", "emergency")
                    and m.sender_account_id is not None, "reply_to_id": m.reply_to_id,
                    "created_at": _iso(m.created_at), "read_at": _iso(r.read_at),
                    "archived_at": _iso(r.archived_at), "ack_required": bool(m.ack_required),
                    "acked_at": _iso(r.acked_at), "attachments": files.get(m.id, [])})
    return out


def latest_id(sess: so.Session, account_id: int) -> int:
    return sess.scalar(sa.select(sa.func.max(InboxItem.id)).where(InboxItem.account_id == account_id)) or 0


def events(app, account_id: int, after: int, lang: str, *, poll: float = 15.0,
           max_seconds: float = 300.0) -> Iterator[str]:
    """The SSE body: ``message`` events (an inbox row + the unread count), keep-alive comments."""
    h = hub(app)
    h.live.listen()
    notifier, engine = h.live.notifier, app.extensions["jizuo.engine"]
    yield "retry: 3000\n\n"
    seen, deadline = notifier.version, time.monotonic() + max_seconds
    while time.monotonic() < deadline and not notifier.stopping:
        with LIVE.session(engine) as sess:
            rows = sess.scalars(items(account_id, box="inbox").where(InboxItem.id > after)
                                .order_by(None).order_by(InboxItem.id).limit(50)).unique().all()
            muted = push_muted(sess, account_id) if rows else set()
            payloads = view(sess, rows, lang)
            unread = unread_count(sess, account_id) if rows else None
        for row, data in zip(rows, payloads, strict=True):
            after = row.id
            if row.message.type_key in muted:
                continue
            data["unread"] = unread
            yield f"id: {row.id}\nevent: message\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"
        if len(rows) == 50:
            continue
        now = notifier.wait(seen, min(poll, max(deadline - time.monotonic(), 0.01)))
        if notifier.stopping:
            return  # the browser reconnects (``retry``) to a process that serves, with its last id
        if now == seen:
            yield ": keep-alive\n\n"
        seen = now


class Slot:
    """A response body holding one of the hub's stream slots, given back exactly once: when the server
    closes the response (WSGI ``close()``), or when the body is dropped without ever being read."""

    def __init__(self, body: Iterator[str], release) -> None:
        self.body, self._release = body, release

    def __iter__(self) -> Slot:
        return self

    def __next__(self) -> str:
        return next(self.body)

    def close(self) -> None:
        release, self._release = self._release, None
        if release is not None:
            self.body.close()
            release()

    __del__ = close
