"""消息中心 pages: the inbox (live through server-sent events, messages.js), sending a notice, what one
sent with its read receipts, one's preferences, the home-school figures and the dead-letter list.
Everything goes through foundation.messaging, the same services the API uses."""
from __future__ import annotations

import secrets

from flask import abort, g, redirect, render_template, request, url_for

from admin.blueprint import bp
from foundation import db
from foundation.api.messages import EMAIL
from foundation.audit import record
from foundation.errors import APIError
from foundation.i18n import current_lang
from foundation.messaging import deadletters, inbox, notices, sent
from foundation.messaging.figures import figures_for
from foundation.messaging.service import requeue
from foundation.messaging.stream import view
from foundation.messaging.types import SWITCHABLE
from foundation.models.messages import Delivery
from foundation.permissions import require


@bp.app_context_processor
def _unread_badge() -> dict:
    """The unread count next to 消息 in the navigation (computed only when a page asks for it)."""
    def unread() -> int:
        p = g.get("principal")
        return inbox.unread_count(db.session(), p.account_id) if p is not None and p.account_id else 0
    return {"unread_messages": unread}


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
    q = (request.args.get("q") or "").replace("\x00", "").strip()[:100] or None
    sess, me = db.session(), _me()
    rows = sess.scalars(inbox.items(me, box=box, q=q).limit(100)).unique().all()
    return render_template("admin/messages.html", items=view(sess, list(rows), current_lang()), box=box, q=q or "",
                           unread=inbox.unread_count(sess, me), can_send=_can_send(),
                           last_id=max((r.id for r in rows), default=0))


@bp.route("/messages/send", methods=["GET", "POST"])
def messages_send():
    if not _can_send():
        abort(403)
    p, sess = g.principal, db.session()
    choices, error, form = notices.choices(sess, p), None, request.form
    if request.method == "POST":
        kind = form.get("kind", "")
        audience: dict = {"kind": kind}
        if kind == "class":
            audience |= {"class_id": form.get("class_id", type=int), "target": form.get("target", "parents")}
        elif kind == "school":
            audience |= {"school_id": form.get("school_id", type=int)}
            if form.get("role"):
                audience["role"] = form.get("role")
        body = {"subject": form.get("subject", ""), "body": form.get("body", ""), "audience": audience,
                "urgent": form.get("urgent") == "1", "client_token": form.get("client_token") or None}
        try:
            msg = notices.send_notice(sess, p, body)
        except APIError as err:
            error = next(iter(err.fields.values()), [err.code])[0] if err.fields else f"error.{err.code}"
            if err.status == 404:
                abort(404)
        else:
            record("messages.send", "message", msg.id, school_id=msg.school_id,
                   detail={"type": msg.type_key, "recipients": msg.recipient_count, "class_id": msg.class_id})
            return redirect(url_for("admin.messages_sent", sent=msg.id))
    return render_template("admin/messages_send.html", choices=choices, error=error, form=form,
                           token=secrets.token_urlsafe(12))


@bp.route("/messages/sent")
def messages_sent():
    return render_template("admin/messages_sent.html", rows=sent.sent_by(db.session(), _me()),
                           just_sent=request.args.get("sent", type=int))


@bp.route("/messages/sent/<int:message_id>")
def messages_receipts(message_id: int):
    out = sent.receipts(db.session(), _me(), message_id)
    if out is None:
        abort(404)
    return render_template("admin/messages_receipts.html", msg=out["message"], people=out["people"],
                           replies=out["replies"], read=out["read"])


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
