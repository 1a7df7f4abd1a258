"""The message center through the API: one's inbox (list, search, read receipts, archive, replies, unread
count, the live SSE stream), preferences, sending notices, read receipts of what one sent, the
home-school figures and the dead-letter list. Inbox routes only ever touch the caller's own rows."""
from __future__ import annotations

import re

from flask import Response, current_app, jsonify, request

from foundation import db
from foundation.api.blueprint import bp, doc
from foundation.api.common import _nul_fields, paginate, principal
from foundation.audit import record
from foundation.errors import APIError, NotFound, ValidationFailed
from foundation.i18n import current_lang
from foundation.messaging import deadletters, inbox, notices, sent, stream
from foundation.messaging.figures import figures_for
from foundation.messaging.hub import hub, resume
from foundation.messaging.service import requeue
from foundation.models.messages import Delivery, InboxItem
from foundation.permissions import Forbidden, require


@bp.before_app_request
def _resume_deliveries() -> None:
    resume(current_app._get_current_object())


EMAIL = re.compile(r"^[^@\s\x00]{1,64}@[^@\s\x00]{1,185}\.[^@\s\x00]{2,}$")
BOXES = ("inbox", "archive", "all")


def _me() -> int:
    p = principal()
    if p.account_id is None:  # a machine token has no inbox
        raise Forbidden("messages.inbox")
    return p.account_id


def _body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationFailed({"_body": ["body.not_json_object"]})
    if bad := _nul_fields(body):  # PostgreSQL cannot store a NUL character; no person types one
        raise ValidationFailed(bad)
    return body


def _item(item_id: int) -> InboxItem:
    found = inbox.get_item(db.session(), _me(), item_id) if 0 < item_id < 2**31 else None
    if found is None:
        raise NotFound("message")
    return found


def _page_args() -> dict:
    try:
        page, per = int(request.args.get("page", 1)), int(request.args.get("per_page", 20))
    except ValueError:
        raise ValidationFailed({"page": ["field.integer"]}) from None
    if not (0 < page < 100_000 and 0 < per <= 100):
        raise ValidationFailed({"page": ["field.integer"]})
    return {"page": page, "per_page": per}


@bp.get("/messages/inbox")
@doc("Your inbox, newest first: box=inbox|archive|all, q= search, unread=1", tags=["messages"])
def inbox_list():
    box = request.args.get("box", "inbox")
    if box not in BOXES:
        raise ValidationFailed({"box": ["messages.audience.invalid"]})
    q = (request.args.get("q") or "").strip()[:100] or None
    if q and "\x00" in q:  # PostgreSQL cannot compare text with a NUL in it; nobody types one
        raise ValidationFailed({"q": ["field.control_char"]})
    stmt = inbox.items(_me(), box=box, q=q, unread=request.args.get("unread") == "1")
    out = paginate(stmt, _page_args(), lambda rows: stream.view(db.session(), list(rows), current_lang()))
    return jsonify(out | {"unread": inbox.unread_count(db.session(), _me())})


@bp.get("/messages/unread")
@doc("How many unread messages are in your inbox", tags=["messages"])
def inbox_unread():
    return jsonify({"unread": inbox.unread_count(db.session(), _me())})


@bp.get("/messages/inbox/<int:item_id>")
@doc("One message of your inbox", tags=["messages"])
def inbox_get(item_id: int):
    return jsonify(stream.view(db.session(), [_item(item_id)], current_lang())[0])


@bp.post("/messages/inbox/<int:item_id>/read")
@doc("Mark a message read (the read receipt its sender sees)", tags=["messages"])
def inbox_read(item_id: int):
    item = _item(item_id)
    inbox.mark_read(item)
    return jsonify({"id": item.id, "read_at": item.read_at.isoformat() + "Z",
                    "unread": inbox.unread_count(db.session(), _me())})


@bp.post("/messages/inbox/read-all")
@doc("Mark every message of your inbox read", tags=["messages"])
def inbox_read_all():
    marked = inbox.mark_all_read(db.session(), _me())
    return jsonify({"marked": marked, "unread": 0})


@bp.post("/messages/inbox/<int:item_id>/archive")
@doc("Archive a message ({\"archived\": false} brings it back)", tags=["messages"])
def inbox_archive(item_id: int):
    item = _item(item_id)
    body = request.get_json(silent=True)
    archived = not (isinstance(body, dict) and body.get("archived") is False)
    inbox.set_archived(item, archived)
    db.session().flush()
    return jsonify({"id": item.id, "archived": item.archived_at is not None,
                    "unread": inbox.unread_count(db.session(), _me())})


@bp.post("/messages/inbox/<int:item_id>/reply")
@doc("Reply to a notice you received (goes to its sender)", tags=["messages"])
def inbox_reply(item_id: int):
    if not 0 < item_id < 2**31:
        raise NotFound("message")
    _me()
    msg = notices.reply(db.session(), principal(), item_id, _body())
    return jsonify({"message_id": msg.id, "recipients": msg.recipient_count}), 201


@bp.get("/messages/stream")
@doc("Server-sent events: each new message of your inbox as it arrives (resumes with Last-Event-ID)",
     tags=["messages"])
def inbox_stream():
    account = _me()
    raw = request.headers.get("Last-Event-ID") or request.args.get("after")
    after = int(raw) if raw and raw.isdigit() and int(raw) < 2**31 else stream.latest_id(db.session(), account)
    app = current_app._get_current_object()
    if not hub(app).streams.acquire(blocking=False):
        raise APIError("busy", 503)  # every stream slot is taken: the page falls back to reloading counts
    poll = float(app.config.get("MESSAGE_SSE_POLL", 15))
    body = stream.Slot(stream.events(app, account, after, current_lang(), poll=poll), hub(app).streams.release)
    return Response(body, mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@bp.get("/messages/preferences")
@doc("Your per-type, per-channel choices and e-mail address", tags=["messages"])
def prefs_get():
    sess = db.session()
    return jsonify({"types": inbox.preferences(sess, _me()), "email": inbox.email_of(sess, _me())})


@bp.put("/messages/preferences")
@doc("Switch a channel of a message type on or off, and/or set your e-mail address", tags=["messages"])
def prefs_put():
    body, sess = _body(), db.session()
    changes = body.get("changes", [])
    if not isinstance(changes, list) or not all(isinstance(c, dict) for c in changes):
        raise ValidationFailed({"changes": ["messages.channel.unknown"]})
    for c in changes:
        if not isinstance(c.get("enabled"), bool) or not isinstance(c.get("type"), str) \
                or not isinstance(c.get("channel"), str):
            raise ValidationFailed({"changes": ["messages.channel.unknown"]})
        try:
            inbox.set_preference(sess, _me(), c["type"][:80], c["channel"][:16], c["enabled"])
        except inbox.InboxError as err:
            raise ValidationFailed({err.field: [err.key]}) from err
    if "email" in body:
        email = body["email"]
        if email is not None and (not isinstance(email, str) or len(email) > 254 or not EMAIL.match(email)):
            raise ValidationFailed({"email": ["messages.email.invalid"]})
        inbox.set_email(sess, _me(), email)
    sess.flush()
    return jsonify({"types": inbox.preferences(sess, _me()), "email": inbox.email_of(sess, _me())})


@bp.get("/messages/audiences")
@doc("Whom you may send a notice to: your classes, schools, roles, the district", tags=["messages"])
def audiences():
    return jsonify(notices.choices(db.session(), principal()))


@bp.post("/messages")
@doc("Send a notice: {subject, body, audience: {kind: class|school|district, class_id, school_id, role, "
     "target}, urgent, client_token}", tags=["messages"], status=201)
def send_notice():
    p = principal()
    _me()
    msg = notices.send_notice(db.session(), p, _body())
    record("messages.send", "message", msg.id, school_id=msg.school_id,
           detail={"type": msg.type_key, "recipients": msg.recipient_count, "class_id": msg.class_id})
    return jsonify({"message_id": msg.id, "recipients": msg.recipient_count}), 201


@bp.get("/messages/sent")
@doc("Notices you sent, with how many people read each", tags=["messages"])
def sent_list():
    rows = sent.sent_by(db.session(), _me())
    return jsonify({"items": [{"message_id": m.id, "type": m.type_key, "subject": m.subject_zh,
                               "recipients": m.recipient_count, "read": n, "replies": r, "class_id": m.class_id,
                               "school_id": m.school_id, "created_at": m.created_at.isoformat() + "Z"}
                              for m, n, r in rows]})


@bp.get("/messages/<int:message_id>/receipts")
@doc("Read receipts of a notice you sent: who has read it and when", tags=["messages"])
def receipts(message_id: int):
    out = sent.receipts(db.session(), _me(), message_id)
    if out is None:
        raise NotFound("message")
    items = [{"name": n, "read_at": r.isoformat() + "Z" if r else None} for n, r in out["people"]]
    return jsonify({"message_id": message_id, "recipients": out["message"].recipient_count, "read": out["read"],
                    "replies": len(out["replies"]), "items": items, "items_shown": len(items)})


@bp.get("/messages/figures")
@doc("Home-school communication per school and class: notices, read rate, time to read, replies",
     tags=["messages"])
def figures():
    require(principal(), "messages.figures.read")
    return jsonify(figures_for(db.session(), principal()))


def _dead_scope() -> set[int] | None:
    require(principal(), "messages.deadletter.manage")
    return deadletters.scope_of(principal())


@bp.get("/messages/dead-letters")
@doc("Deliveries that could not be made after every retry (your school's; the district sees all)",
     tags=["messages"])
def dead_letters():
    scope, sess = _dead_scope(), db.session()
    out = paginate(deadletters.visible(scope), _page_args(), lambda rows: deadletters.view(sess, list(rows)))
    return jsonify(out | {"counts": deadletters.counts(sess, scope)})


@bp.post("/messages/dead-letters/<int:delivery_id>/replay")
@doc("Send a dead delivery again (same delivery key: the portal applies it once)", tags=["messages"])
def dead_letter_replay(delivery_id: int):
    scope, sess = _dead_scope(), db.session()
    row = sess.scalar(deadletters.visible(scope).where(Delivery.id == delivery_id)) if 0 < delivery_id < 2**31 else None
    if row is None:
        raise NotFound("delivery")
    requeue(sess, [row.id])
    record("messages.deadletter.replay", "delivery", row.id, school_id=row.school_id)
    return jsonify({"replayed": 1})


@bp.post("/messages/dead-letters/replay")
@doc("Send every dead delivery you can see again", tags=["messages"])
def dead_letters_replay_all():
    scope, sess = _dead_scope(), db.session()
    ids = list(sess.scalars(deadletters.visible(scope).with_only_columns(Delivery.id).limit(10_000)))
    count = requeue(sess, ids) if ids else 0
    record("messages.deadletter.replay", "delivery", None, detail={"count": count})
    return jsonify({"replayed": count})
