"""消息中心 pages: the inbox (live through server-sent events, messages.js) with 确认收到 on notices that ask
for it, one notice on a page of its own, sending a notice (how far it goes shown before sending,
attachments), what one sent with its read and confirmation receipts and the one reminder, one's
preferences, the home-school figures and the dead-letter list. Everything goes through
foundation.messaging, the same services the API uses."""
from __future__ import annotations

import secrets

from flask import abort, flash, g, redirect, render_template, request, url_for

from admin.blueprint import bp
from foundation import db
from foundation.api.messages import EMAIL
from foundation.audit import record
from foundation.errors import APIError
from foundation.i18n import current_lang
from foundation.inputs import large_body
from foundation.messaging import acks, attachments, deadletters, inbox, notices, sent
from foundation.messaging.figures import figures_for
from foundation.messaging.service import requeue
from foundation.messaging.settings import settings
from foundation.messaging.stream import view
from foundation.messaging.types import SWITCHABLE
from foundation.models.messages import Delivery
from foundation.permissions import require
from foundation.shell import local_time


@bp.app_context_processor
def _unread_badge() -> dict:
    """The unread count next to 消息 in the navigation (computed only when a page asks for it)."""
    def unread() -> int:
        p = g.get("principal")
        return inbox.unread_count(db.session(), p.account_id) if p is not None and p.account_id else 0
    return {"unread_messages": unread}


# the district's clock for times written into pages (messages.js turns them into the reader's own clock)


@bp.app_template_filter("msg_time")
def _msg_time(value, fmt: str = "%m-%d %H:%M") -> str:
    """A stored UTC time on the district's clock, short: "12-05 08:12" (the shell's ``local_time``)."""
    return local_time(value, fmt)


def _me() -> int:
    if g.principal.account_id is None:
        abort(403)
    return g.principal.account_id


def _can_send() -> bool:
    p = g.principal
    return any(p.can(c) for c in ("messages.send.class", "messages.send.school", "messages.send.district"))


@bp.route("/messages")
def messages_inbox():
    box = request.args.get("box", "inbox") if request.args.get("box") in ("inbox", "archive") else "inbox"
    q = (request.args.get("q") or "").strip()[:100] or None  # control characters are refused before
    sess, me = db.session(), _me()
    rows = sess.scalars(inbox.items(me, box=box, q=q).limit(100)).unique().all()
    return render_template("admin/messages.html", items=view(sess, list(rows), current_lang()), box=box, q=q or "",
                           unread=inbox.unread_count(sess, me), can_send=_can_send(),
                           last_id=max((r.id for r in rows), default=0))


def _first_error(err: APIError) -> str:
    return next(iter(err.fields.values()), [err.code])[0] if err.fields else f"error.{err.code}"


@bp.route("/messages/m/<int:message_id>")
def messages_one(message_id: int):
    """One message of the caller's inbox (the link of a reminder); its sender lands on its receipts."""
    sess, me = db.session(), _me()
    item = inbox.item_for_message(sess, me, message_id) if 0 < message_id < 2**31 else None
    if item is None:
        if sent.own_message(sess, me, message_id) is not None:
            return redirect(url_for("admin.messages_receipts", message_id=message_id))
        abort(404)
    return render_template("admin/messages_one.html", m=view(sess, [item], current_lang())[0],
                           unread=inbox.unread_count(sess, me))


@bp.post("/messages/inbox/<int:item_id>/ack")
def messages_ack(item_id: int):
    """确认收到 without JavaScript (messages.js calls the API and stays on the page)."""
    sess = db.session()
    item = inbox.get_item(sess, _me(), item_id) if 0 < item_id < 2**31 else None
    if item is None:
        abort(404)
    try:
        if acks.acknowledge(sess, item):
            record("messages.ack", "message", item.message_id, school_id=item.school_id)
    except APIError as err:
        flash(_first_error(err), "error")
    else:
        flash("msg.ack.done", "ok")
    back = request.form.get("back")
    if back == "one":
        return redirect(url_for("admin.messages_one", message_id=item.message_id))
    return redirect(url_for("admin.messages_inbox") + f"#m{item.id}")


@bp.route("/messages/send", methods=["GET", "POST"])
@large_body(attachments.body_limit)
def messages_send():
    if not _can_send():
        abort(403)
    p, sess = g.principal, db.session()
    choices, error, form = notices.choices(sess, p), None, request.form
    about = request.args.get("student", type=int) or form.get("student_id", type=int)
    if about:  # opened from a student's record: their guardians are offered, and chosen
        try:
            choices["student"] = notices.student_choice(sess, p, about, current_lang())
        except APIError as err:
            abort(err.status)
    if request.method == "POST":
        try:
            uploads = attachments.read_uploads(request.files.getlist(attachments.FIELD), settings())
            msg = notices.send_notice(sess, p, notices.body_from_form(form), uploads)
        except APIError as err:
            if err.status == 404:
                abort(404)
            error = _first_error(err)
        else:
            record("messages.send", "message", msg.id, school_id=msg.school_id,
                   detail={"type": msg.type_key, "recipients": msg.recipient_count, "class_id": msg.class_id,
                           "ack": msg.ack_required, "attachments": len(uploads)})
            flash("msg.sent.ok", "ok")
            return redirect(url_for("admin.messages_sent", sent=msg.id))
    reach = None
    if request.method == "GET":
        first = {"kind": "student", "student_id": about} if about else _default_audience(choices)
        try:
            reach = notices.preview(sess, p, first) if first else None
        except APIError:
            reach = None
    page = render_template("admin/messages_send.html", choices=choices, error=error, form=form, reach=reach,
                           token=secrets.token_urlsafe(12), limits=settings(),
                           limit_size=attachments.human_size(settings().attachment_max_bytes))
    # a refused send answers 422, so the request writes nothing (the boundary commits only below 400)
    return (page, 422) if error else page


def _default_audience(choices: dict) -> dict | None:
    """What the send form has selected when it opens: the first class's parents, else the first school."""
    if choices["classes"]:
        return {"kind": "class", "class_id": choices["classes"][0]["id"], "target": "parents"}
    if choices["schools"]:
        return {"kind": "school", "school_id": choices["schools"][0]["id"]}
    return {"kind": "district"} if choices["district"] else None


@bp.route("/messages/sent")
def messages_sent():
    return render_template("admin/messages_sent.html", rows=sent.sent_by(db.session(), _me()),
                           just_sent=request.args.get("sent", type=int))


@bp.route("/messages/sent/<int:message_id>")
def messages_receipts(message_id: int):
    out = sent.receipts(db.session(), _me(), message_id)
    if out is None:
        abort(404)
    msg = out["message"]
    record("messages.receipts.read", "message", msg.id, school_id=msg.school_id)
    files = attachments.listing(db.session(), [msg.id]).get(msg.id, [])
    return render_template("admin/messages_receipts.html", msg=msg, people=out["people"], replies=out["replies"],
                           read=out["read"], acked=out["acked"], waiting=out["waiting"], families=out["families"],
                           files=files)


@bp.post("/messages/sent/<int:message_id>/remind")
def messages_remind(message_id: int):
    sess = db.session()
    msg = sent.own_message(sess, _me(), message_id)
    if msg is None:
        abort(404)
    try:
        reminder = acks.remind(sess, _me(), msg)
    except APIError as err:
        flash(_first_error(err), "error")
    else:
        record("messages.remind", "message", msg.id, school_id=msg.school_id,
               detail={"reminder_id": reminder.id, "recipients": reminder.recipient_count})
        flash("msg.remind.done", "ok")
    return redirect(url_for("admin.messages_receipts", message_id=msg.id))


@bp.route("/messages/preferences", methods=["GET", "POST"])
def messages_prefs():
    me, sess, error = _me(), db.session(), None
    if request.method == "POST":
        try:
            for pref in inbox.preferences(sess, me):
                for channel in pref["channels"]:
                    wanted = request.form.get(f"{pref['type']}:{channel}") == "1"
                    if not pref["mandatory"] and wanted != pref["channels"][channel]:
                        inbox.set_preference(sess, me, pref["type"], channel, wanted)
            email = (request.form.get("email") or "").strip() or None
            if email and (len(email) > 254 or not EMAIL.match(email)):
                raise inbox.InboxError("email", "messages.email.invalid")
            inbox.set_email(sess, me, email)
            sess.flush()
            return redirect(url_for("admin.messages_prefs", saved=1))
        except inbox.InboxError as err:
            error = err.key
    return render_template("admin/messages_prefs.html", prefs=inbox.preferences(sess, me), channels=SWITCHABLE,
                           email=inbox.email_of(sess, me) or "", error=error, saved=request.args.get("saved"))


@bp.route("/messages/figures")
def messages_figures():
    require(g.principal, "messages.figures.read")
    return render_template("admin/messages_figures.html", data=figures_for(db.session(), g.principal))


@bp.route("/messages/dead-letters", methods=["GET", "POST"])
def messages_dead():
    p, sess = g.principal, db.session()
    require(p, "messages.deadletter.manage")
    scope = deadletters.scope_of(p)
    if request.method == "POST":
        which = request.form.get("id", type=int)
        stmt = deadletters.visible(scope).with_only_columns(Delivery.id)
        if which is not None:
            stmt = stmt.where(Delivery.id == which)
        ids = list(sess.scalars(stmt.limit(10_000)))
        if which is not None and not ids:
            abort(404)
        count = requeue(sess, ids) if ids else 0
        record("messages.deadletter.replay", "delivery", which, detail={"count": count})
        return redirect(url_for("admin.messages_dead", replayed=count))
    rows = sess.scalars(deadletters.visible(scope).limit(200)).unique().all()
    return render_template("admin/messages_dead.html", rows=deadletters.view(sess, list(rows)),
                           counts=deadletters.counts(sess, scope), replayed=request.args.get("replayed", type=int))
