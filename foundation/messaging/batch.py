"""Sending many messages in one call (``send_many``): what ``send`` does for one message, set-wise — a
scheduled alert scan tells two thousand teachers, each their own digest, in a handful of statements
instead of a dozen per message.

Every message is checked first (type, variables, recipient selectors); nothing is written unless all are
sound. Messages whose ``dedupe_key`` is already stored (or repeated earlier in the same call) are not sent
again. The new messages, their inbox rows and their delivery rows are then written with COPY on
PostgreSQL (ids drawn from the sequences first) and multi-row inserts elsewhere. After the commit, one
live publish wakes every open stream and one query queues every pending delivery.
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.db import utcnow
from foundation.messaging.recipients import RecipientError, resolve
from foundation.messaging.service import _after, _plain, send
from foundation.messaging.settings import settings
from foundation.messaging.types import get_type, render
from foundation.models.messages import Delivery, InboxItem, Message, MessageContact, MessagePreference
from foundation.plugin_models import in_parts, insert_ids, write_rows

_KEYS = {"type_key", "recipients", "variables", "school_id", "sender_account_id", "dedupe_key", "link",
         "class_id", "reply_to_id"}
def _direct(recipients: list[dict]) -> list[int] | None:
    """The account ids of a recipient list made only of ``account``/``accounts`` selectors (resolved for
    the whole batch in one query), else None (resolved by its own query)."""
    out: list[int] = []
    for sel in recipients:
        if isinstance(sel, dict) and set(sel) == {"accounts"} and isinstance(sel["accounts"], list):
            out += sel["accounts"]
        elif isinstance(sel, dict) and set(sel) == {"account"}:
            out.append(sel["account"])
        else:
            return None
    return out


def send_many(sess: so.Session, messages: list[dict[str, Any]]) -> list[int]:
    """Send every message of ``messages`` (dicts with the keyword arguments of ``send``: ``type_key``,
    ``recipients``, ``variables``, ``school_id``, optional ``sender_account_id``, ``dedupe_key``, ``link``,
    ``class_id``, ``reply_to_id``) in the caller's transaction. Returns the message ids in order (for a
    ``dedupe_key`` already stored: that message's id). Raises as ``send`` does, before writing anything."""
    prepared = []
    for item in messages:
        if unknown := set(item) - _KEYS:
            raise TypeError(f"send_many: unknown keys {sorted(unknown)}")
        spec = get_type(item["type_key"])
        rendered = render(spec, item["variables"])
        direct = _direct(item["recipients"])
        if direct is None or not direct:
            resolve(item["recipients"])  # validates the selectors (raises RecipientError)
        elif not all(isinstance(a, int) and not isinstance(a, bool) for a in direct):
            raise RecipientError(f"selector {item['recipients']!r}: account ids must be integers")
        prepared.append((item, spec, rendered, direct))
    keys = [i["dedupe_key"] for i in messages if i.get("dedupe_key") is not None]
    known: dict[str, int] = {}
    for part in in_parts(sess, Message.dedupe_key, keys):
        known.update(sess.execute(sa.select(Message.dedupe_key, Message.id).where(part)).all())
    try:
        with sess.begin_nested():
            return _write(sess, prepared, known)
    except sa.exc.IntegrityError:
        pass  # a concurrent sender stored one of the keys meanwhile: one at a time, each finding its twin
    except Exception as err:
        if type(err).__name__ != "UniqueViolation":  # psycopg's, from a COPY
            raise
    return [send(sess, **item).id for item, *_ in prepared]


def _write(sess: so.Session, prepared: list, known: dict[str, int]) -> list[int]:
    now = utcnow()
    fresh, order = [], []  # order: per input, ("old", id) or ("new", index into fresh)
    for item, spec, rendered, direct in prepared:
        key = item.get("dedupe_key")
        if key is not None and key in known:
            order.append(known[key])
            continue
        if key is not None:
            known[key] = -1 - len(fresh)  # a later twin in this call gets this message
        order.append(-1 - len(fresh))
        fresh.append((item, spec, rendered, direct))
    if not fresh:
        return order
    # who gets each new message: (account_id, school_id) rows, as resolve() gives them
    wanted = {a for _, _, _, direct in fresh for a in (direct or [])}
    active: set[int] = set()
    from foundation.models import Account

    for part in in_parts(sess, Account.id, sorted(wanted)):
        active.update(sess.scalars(sa.select(Account.id).where(part, Account.active.is_(True))))
    audiences = []
    for item, _, _, direct in fresh:
        if direct is not None:
            audiences.append([(a, None) for a in sorted(set(direct)) if a in active])
        else:
            audiences.append(sorted(tuple(r) for r in sess.execute(resolve(item["recipients"]))))
    rows = [{"type_key": item["type_key"], "school_id": item.get("school_id"), "class_id": item.get("class_id"),
             "sender_account_id": item.get("sender_account_id"), "reply_to_id": item.get("reply_to_id"),
             "variables": {k: _plain(v) for k, v in item["variables"].items()}, "link": item.get("link") or None,
             "dedupe_key": item.get("dedupe_key"), "recipient_count": len(people), "created_at": now,
             "ack_required": False, "reminded_at": None, "reach": None, **rendered}
            for (item, _, rendered, _), people in zip(fresh, audiences, strict=True)]
    ids = insert_ids(sess, Message.__table__, rows)
    inbox = [{"message_id": mid, "account_id": a, "school_id": s, "created_at": now}
             for mid, people in zip(ids, audiences, strict=True) for a, s in people]
    write_rows(sess, InboxItem.__table__, inbox)
    _deliveries(sess, fresh, ids, audiences, now)
    _after(sess, "messages", ids)
    return [ids[-1 - o] if o < 0 else o for o in order]


def _deliveries(sess: so.Session, fresh: list, ids: list[int], audiences: list, now) -> int:
    """One delivery row per recipient per configured outside channel the type uses and the person has not
    switched off (not for mandatory types); e-mail only where an address is known — as ``send``."""
    cfg = settings()
    channels = [c for c in ("webhook", "email") if cfg.configured(c)]
    used = [(spec, mid, people) for (_, spec, _, _), mid, people in zip(fresh, ids, audiences, strict=True)
            if people and any(c in spec["channels"] for c in channels)]
    if not used:
        return 0
    accounts = sorted({a for _, _, people in used for a, _ in people})
    off: set[tuple[int, str, str]] = set()
    mailable: set[int] = set()
    p, c = MessagePreference.__table__.c, MessageContact.__table__.c
    for part in in_parts(sess, p.account_id, accounts):
        off.update(tuple(r) for r in sess.execute(sa.select(p.account_id, p.type_key, p.channel).where(
            part, p.enabled.is_(False))))
    if "email" in channels:
        for part in in_parts(sess, c.account_id, accounts):
            mailable.update(sess.scalars(sa.select(c.account_id).where(part, c.email.is_not(None))))
    rows = []
    for channel in channels:
        for spec, mid, people in used:
            if channel not in spec["channels"]:
                continue
            rows += [{"message_id": mid, "account_id": a, "channel": channel, "school_id": s, "status": "pending",
                      "attempts": 0, "next_attempt_at": now, "created_at": now} for a, s in people
                     if (spec["mandatory"] or (a, spec["key"], channel) not in off)
                     and (channel != "email" or a in mailable)]
    return write_rows(sess, Delivery.__table__, rows)


_ITEM_KEYS = {"recipients", "variables", "dedupe_key", "link", "class_id"}


def send_messages(sess: so.Session, type_key: str, batch: list[dict[str, Any]], *, school_id: int | None,
                  sender_account_id: int | None = None, link: str | None = None) -> list[int]:
    """Plugins' batch form of ``send_message``: one message of type ``type_key`` per item of ``batch``
    (``{recipients, variables, dedupe_key?, link?, class_id?}``), all for ``school_id``, in one
    :func:`send_many`. The school must be in the session's reach (a plugin's job or event handler runs for
    one school); raises as ``send_message`` does, before anything is written. Returns the message ids."""
    from foundation.tenancy import TenancyError, get_scope, is_unscoped

    if school_id is not None and not is_unscoped(sess) and school_id not in get_scope(sess).school_ids:
        raise TenancyError(f"messages for school {school_id} outside scope {sorted(get_scope(sess).school_ids)}")
    if not isinstance(batch, list):
        raise TypeError("send_messages: batch is a list of {recipients, variables, …}")
    messages = []
    for i, item in enumerate(batch):
        if not isinstance(item, dict) or not {"recipients", "variables"} <= set(item) or set(item) - _ITEM_KEYS:
            raise TypeError(f"send_messages: batch[{i}] has keys recipients, variables and optionally "
                            f"{', '.join(sorted(_ITEM_KEYS - {'recipients', 'variables'}))}")
        messages.append({"type_key": type_key, "school_id": school_id, "sender_account_id": sender_account_id,
                         "link": link, **item})
    return send_many(sess, messages) if messages else []
