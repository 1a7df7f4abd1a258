"""The message center through the API: one's inbox (list, search, read receipts, confirming a notice,
archive, replies, unread count, the live SSE stream), preferences, sending notices (with attachments, after
seeing how far they go), read and confirmation receipts of what one sent and the one reminder, attachments
(to the sender and recipients only), the home-school figures and the dead-letter list. Inbox routes only
ever touch the caller's own rows."""
from __future__ import annotations

import io
import re

from flask import Response, current_app, jsonify, request, send_file

from foundation import db
from foundation.api.blueprint import bp, doc
from foundation.api.common import page_args, paginate, principal
from foundation.audit import record
from foundation.errors import APIError, NotFound, ValidationFailed
from foundation.i18n import current_lang
from foundation.inputs import json_body, large_body
from foundation.messaging import acks, attachments, deadletters, inbox, notices, sent, stream
from foundation.messaging.figures import figures_for
from foundation.messaging.hub import hub, resume
from foundation.messaging.service import requeue
from foundation.messaging.settings import settings
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
    return json_body()  # NUL and lone surrogates are refused where the JSON is parsed


def _item(item_id: int) -> InboxItem:
    found = inbox.get_item(db.session(), _me(), item_id) if 0 < item_id < 2**31 else None
    if found is None:
        raise NotFound("message")
    return found


def _page_args() -> dict:
    return page_args(per_page=20, most=100)


@bp.get("/messages/inbox")
@doc("Your inbox, newest first: box=inbox|archive|all, q= search, unread=1", tags=["messages"])
def inbox_list():
    box = request.args.get("box", "inbox")
    if box not in BOXES:
        raise ValidationFailed({"box": ["messages.audience.invalid"]})
    q = (request.args.get("q") or "").strip()[:100] or None  # control characters are refused before
    stmt = inbox.items(_me(), box=box, q=q, unread=request.args.get("unread") == "1")
    out = paginate(stmt, _page_args(), lambda rows: stream.view(db.session(), list(rows), current_lang()))
    return jsonify(out | {"unread": inbox.unread_count(db.session(), _me())})


@bp.get("/messages/unread")
@doc("How many unread messages are in your inbox", tags=["messages"], response="UnreadOut")
def inbox_unread():
    return jsonify({"unread": inbox.unread_count(db.session(), _me())})


@bp.get("/messages/inbox/<int:item_id>")
@doc("One message of your inbox", tags=["messages"])
def inbox_get(item_id: int):
    return jsonify(stream.view(db.session(), [_item(item_id)], current_lang())[0])


@bp.post("/messages/inbox/<int:item_id>/read")
@doc("Mark a message read (the read receipt its sender sees)", tags=["messages"],
     response="ReadOut")
def inbox_read(item_id: int):
    item = _item(item_id)
    inbox.mark_read(item)
    return jsonify({"id": item.id, "read_at": item.read_at.isoformat() + "Z",
                    "unread": inbox.unread_count(db.session(), _me())})


@bp.post("/messages/inbox/<int:item_id>/ack")
@doc("Confirm a notice that asks for it (确认收到); again answers the same time", tags=["messages"],
     response="AckOut")
def inbox_ack(item_id: int):
    item = _item(item_id)
    if acks.acknowledge(db.session(), item):
        record("messages.ack", "message", item.message_id, school_id=item.school_id)
    return jsonify({"id": item.id, "message_id": item.message_id, "acked_at": item.acked_at.isoformat() + "Z",
                    "read_at": item.read_at.isoformat() + "Z", "unread": inbox.unread_count(db.session(), _me())})


@bp.post("/messages/inbox/read-all")
@doc("Mark every message of your inbox read", tags=["messages"], response="ReadAllOut")
def inbox_read_all():
    marked = inbox.mark_all_read(db.session(), _me())
    return jsonify({"marked": marked, "unread": 0})


@bp.post("/messages/inbox/<int:item_id>/archive")
@doc("Archive a message ({\"archived\": false} brings it back)", tags=["messages"], body="ArchiveIn",
     response="ArchivedOut")
def inbox_archive(item_id: int):
    item = _item(item_id)
    body = request.get_json(silent=True)
    archived = not (isinstance(body, dict) and body.get("archived") is False)
    inbox.set_archived(item, archived)
    db.session().flush()
    return jsonify({"id": item.id, "archived": item.archived_at is not None,
                    "unread": inbox.unread_count(db.session(), _me())})


@bp.post("/messages/inbox/<int:item_id>/reply")
@doc("Reply to a notice you received (goes to its sender)", tags=["messages"], body="ReplyIn",
     response="SentOut", status=201)
def inbox_reply(item_id: int):
    if not 0 < item_id < 2**31:
        raise NotFound("message")
    _me()
    msg = notices.reply(db.session(), principal(), item_id, _body())
    return jsonify({"message_id": msg.id, "recipients": msg.recipient_count}), 201


@bp.get("/messages/stream")
@doc("Server-sent events: each new message of your inbox as it arrives (resumes with Last-Event-ID)",
     tags=["messages"], content="text/event-stream", errors=[503])
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
@doc("Switch a channel of a message type on or off, and/or set your e-mail address", tags=["messages"],
     body="PreferencesIn")
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


@bp.get("/messages/reach")
@doc("How far a notice would go, before sending it: kind=class&class_id=&target=parents|students|both, "
     "kind=school&school_id=[&role=], kind=district → {accounts, students, families_without_account, "
     "students_without_account}", tags=["messages"])
def reach():
    _me()
    return jsonify(notices.preview(db.session(), principal(), notices.audience_from_form(request.args)))


@bp.post("/messages")
@doc("Send a notice: {subject, body, audience: {kind: class|school|district, class_id, school_id, role, "
     "target}, urgent, ack (recipients confirm it), client_token}; with files, multipart/form-data with "
     "the same fields (audience as JSON) and up to 5 `attachments` (PNG, JPEG, WebP, PDF; 10 MB each)",
     tags=["messages"], body="NoticeIn", response="NoticeSentOut", status=201)
@large_body(attachments.body_limit)
def send_notice():
    p = principal()
    _me()
    if request.mimetype == "multipart/form-data":
        uploads = attachments.read_uploads(request.files.getlist(attachments.FIELD), settings())
        body = notices.body_from_form(request.form)
    else:
        body, uploads = _body(), []
    msg = notices.send_notice(db.session(), p, body, uploads)
    record("messages.send", "message", msg.id, school_id=msg.school_id,
           detail={"type": msg.type_key, "recipients": msg.recipient_count, "class_id": msg.class_id,
                   "ack": msg.ack_required, "attachments": len(uploads)})
    return jsonify({"message_id": msg.id, "recipients": msg.recipient_count, "reach": msg.reach,
                    "ack_required": msg.ack_required}), 201


def _iso(value) -> str | None:
    return value.isoformat() + "Z" if value else None


@bp.get("/messages/sent")
@doc("Notices you sent, with how many people read and confirmed each, and how far each went", tags=["messages"])
def sent_list():
    rows = sent.sent_by(db.session(), _me())
    return jsonify({"items": [{"message_id": m.id, "type": m.type_key, "subject": m.subject_zh,
                               "recipients": m.recipient_count, "read": n, "replies": r, "class_id": m.class_id,
                               "ack_required": m.ack_required, "acked": acked, "reach": m.reach,
                               "school_id": m.school_id, "created_at": m.created_at.isoformat() + "Z"}
                              for m, n, r, acked in rows]})


@bp.get("/messages/<int:message_id>/receipts")
@doc("Receipts of a notice you sent: who has read it and when; for one that asks to be confirmed, who has "
     "confirmed it (for families: per student, with the guardians and the class) and the reminder",
     tags=["messages"])
def receipts(message_id: int):
    out = sent.receipts(db.session(), _me(), message_id)
    if out is None:
        raise NotFound("message")
    msg = out["message"]
    record("messages.receipts.read", "message", msg.id, school_id=msg.school_id)
    items = [{"name": n, "read_at": _iso(r), "acked_at": _iso(a)} for n, r, a in out["people"]]
    body = {"message_id": message_id, "recipients": msg.recipient_count, "read": out["read"],
            "replies": len(out["replies"]), "items": items, "items_shown": len(items),
            "ack_required": msg.ack_required, "acked": out["acked"], "reach": msg.reach,
            "reminded_at": _iso(msg.reminded_at)}
    if out["families"] is not None:
        body["families"] = {"counts": out["families"]["counts"], "rows": [
            {"student_id": r["student_id"], "student": r["student"], "student_no": r["student_no"],
             "class": r["class"], "state": r["state"], "acked_at": _iso(r["acked_at"]),
             "people": [{"name": g["name"], "relation": g["relation"], "own": g["own"], "read_at": _iso(g["read_at"]),
                         "acked_at": _iso(g["acked_at"])} for g in r["people"]]}
            for r in out["families"]["rows"]]}
    return jsonify(body)


@bp.post("/messages/<int:message_id>/remind")
@doc("Remind, once, everyone who has not confirmed a notice you sent (a second reminder is refused)",
     tags=["messages"], response="RemindedOut", status=201)
def remind(message_id: int):
    sess = db.session()
    msg = sent.own_message(sess, _me(), message_id)
    if msg is None:
        raise NotFound("message")
    reminder = acks.remind(sess, _me(), msg)
    record("messages.remind", "message", msg.id, school_id=msg.school_id,
           detail={"reminder_id": reminder.id, "recipients": reminder.recipient_count})
    return jsonify({"message_id": msg.id, "reminder_id": reminder.id, "recipients": reminder.recipient_count,
                    "reminded_at": _iso(msg.reminded_at)}), 201


@bp.get("/messages/<int:message_id>/attachments/<key>")
@doc("An attachment of a message you sent or received (images inline, PDF as a download)", tags=["messages"],
     content=["image/png", "image/jpeg", "image/webp", "application/pdf"])
def attachment(message_id: int, key: str):
    found = attachments.for_viewer(db.session(), _me(), message_id, key)
    if found is None:
        raise NotFound("attachment")
    record("messages.attachment.read", "message", message_id, detail={"file": found.filename})
    image = found.content_type in attachments.IMAGES
    resp = send_file(io.BytesIO(found.data), mimetype=found.content_type, as_attachment=not image,
                     download_name=found.filename, etag=found.sha256, max_age=3600, conditional=True)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Cache-Control"] = "private, max-age=3600"
    resp.headers["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
    return resp


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
@doc("Send a dead delivery again (same delivery key: the portal applies it once)", tags=["messages"],
     response="ReplayedOut")
def dead_letter_replay(delivery_id: int):
    scope, sess = _dead_scope(), db.session()
    row = sess.scalar(deadletters.visible(scope).where(Delivery.id == delivery_id)) if 0 < delivery_id < 2**31 else None
    if row is None:
        raise NotFound("delivery")
    requeue(sess, [row.id])
    record("messages.deadletter.replay", "delivery", row.id, school_id=row.school_id)
    return jsonify({"replayed": 1})


@bp.post("/messages/dead-letters/replay")
@doc("Send every dead delivery you can see again", tags=["messages"], response="ReplayedOut")
def dead_letters_replay_all():
    scope, sess = _dead_scope(), db.session()
    ids = list(sess.scalars(deadletters.visible(scope).with_only_columns(Delivery.id).limit(10_000)))
    count = requeue(sess, ids) if ids else 0
    record("messages.deadletter.replay", "delivery", None, detail={"count": count})
    return jsonify({"replayed": count})
