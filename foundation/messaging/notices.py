"""Notices people send from the UI, and replies to them.

Who may address whom: a homeroom teacher the parents (and students) of their own classes
(``messages.send.class``); a school admin any class, role or everyone of their school
(``messages.send.school``); the district admin the whole district or any school
(``messages.send.district``). A class or school outside the sender's reach is "not found", as everywhere.
An urgent notice (type ``emergency``, mandatory on every channel) needs the school or district right.

A notice may ask to be confirmed (``ack``, 确认收到: acks.py) and carry attachments (attachments.py, checked
before anything is written). The sender is told before sending how far it goes (:func:`preview`,
reach_counts.py); the same figures are kept with the message for the sent page.
"""
from __future__ import annotations

import json

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.errors import NotFound, ValidationFailed
from foundation.inputs import clean_text
from foundation.messaging import attachments, reach_counts
from foundation.messaging.inbox import get_item
from foundation.messaging.service import send
from foundation.models import Account, OrgUnit, Student
from foundation.models.messages import Message
from foundation.permissions import ROLES, Forbidden, Principal

TARGETS = ("parents", "students", "both")
MAX_SUBJECT, MAX_BODY = 120, 5000


def _text(body: dict, key: str, limit: int) -> str:
    return clean_text(body.get(key), key, limit=limit, missing=f"messages.{key}.required")


def _unit(sess: so.Session, unit_id, kind: str) -> OrgUnit:
    """The class or school, looked up in the caller's scope (another school's unit is not found)."""
    if isinstance(unit_id, bool) or not isinstance(unit_id, int) or not 0 < unit_id < 2**31:
        raise ValidationFailed({f"audience.{kind}_id": ["messages.audience.invalid"]})
    unit = sess.scalar(sa.select(OrgUnit).where(OrgUnit.id == unit_id, OrgUnit.kind == kind))
    if unit is None:
        raise NotFound(kind)
    return unit


def may_address_class(p: Principal, class_id: int, school_id: int) -> bool:
    """May ``p`` write to the families of this class: their own class (``messages.send.class``), or any
    class of a school they address as a whole."""
    own_class = any(class_id in g.class_ids for g in p.grants)
    return p.can("messages.send.district") or p.can("messages.send.school", school_id) \
        or (own_class and p.can("messages.send.class", school_id))


def _student(sess: so.Session, student_id) -> Student:
    """The student, looked up in the caller's scope (one out of reach is not found)."""
    if isinstance(student_id, bool) or not isinstance(student_id, int) or not 0 < student_id < 2**31:
        raise ValidationFailed({"audience.student_id": ["messages.audience.invalid"]})
    student = sess.scalar(sa.select(Student).where(Student.id == student_id))
    if student is None:
        raise NotFound("student")
    return student


def audience(sess: so.Session, p: Principal, spec) -> tuple[list[dict], int | None, int | None, str]:
    """``(selectors, school_id, class_id, needed capability)`` for an audience the sender may reach: a class
    (its parents, students or both), one student's parents, a school (or a role in it), the district."""
    if not isinstance(spec, dict) or spec.get("kind") not in ("class", "student", "school", "district"):
        raise ValidationFailed({"audience": ["messages.audience.invalid"]})
    kind = spec["kind"]
    if kind == "student":  # the guardians of one student, from the student's record
        student = _student(sess, spec.get("student_id"))
        if student.class_id is None or not may_address_class(p, student.class_id, student.school_id):
            raise Forbidden("messages.send.class")
        return [{"parents_of_student": student.id}], student.school_id, student.class_id, "messages.send.class"
    if kind == "district":
        if not p.can("messages.send.district"):
            raise Forbidden("messages.send.district")
        return [{"district": True}], None, None, "messages.send.district"
    if kind == "school":
        school = _unit(sess, spec.get("school_id"), "school")
        if not (p.can("messages.send.district") or p.can("messages.send.school", school.id)):
            raise Forbidden("messages.send.school")
        role = spec.get("role")
        if role is None:
            return [{"school": school.id}], school.id, None, "messages.send.school"
        if role not in ROLES or ROLES[role].reach == "district":
            raise ValidationFailed({"audience.role": ["messages.audience.invalid"]})
        return [{"role": role, "school": school.id}], school.id, None, "messages.send.school"
    klass = _unit(sess, spec.get("class_id"), "class")
    target = spec.get("target", "parents")
    if target not in TARGETS:
        raise ValidationFailed({"audience.target": ["messages.audience.invalid"]})
    if not may_address_class(p, klass.id, klass.school_id):
        raise Forbidden("messages.send.class")
    selectors = []
    if target in ("parents", "both"):
        selectors.append({"parents_of_class": klass.id})
    if target in ("students", "both"):
        selectors.append({"students_of_class": klass.id})
    return selectors, klass.school_id, klass.id, "messages.send.class"


def _flag(form, key: str) -> bool:
    return form.get(key) in ("1", "true", "on", "yes")


def audience_from_form(form) -> dict:
    """The audience of a form's (or a query's) flat fields: kind, class_id + target, school_id + role; or
    ``audience`` as JSON (an API call sending files as multipart/form-data)."""
    if form.get("audience") is not None:
        try:
            spec = json.loads(form.get("audience"))
        except ValueError:
            raise ValidationFailed({"audience": ["messages.audience.invalid"]}) from None
        return spec if isinstance(spec, dict) else {}
    kind = form.get("kind", "")
    spec: dict = {"kind": kind}
    if kind == "class":
        spec |= {"class_id": form.get("class_id", type=int), "target": form.get("target") or "parents"}
    elif kind == "student":
        spec |= {"student_id": form.get("student_id", type=int)}
    elif kind == "school":
        spec |= {"school_id": form.get("school_id", type=int)}
        if form.get("role"):
            spec["role"] = form.get("role")
    return spec


def body_from_form(form) -> dict:
    """A notice's fields from a web form or a multipart API call, in the shape :func:`send_notice` takes."""
    return {"subject": form.get("subject", ""), "body": form.get("body", ""), "audience": audience_from_form(form),
            "urgent": _flag(form, "urgent"), "ack": _flag(form, "ack"), "client_token": form.get("client_token") or None}


def _audience_of(spec: dict) -> dict:
    """What is kept of an audience with the message (to tell families apart on the receipts page)."""
    out = {"kind": spec.get("kind")}
    if out["kind"] == "class":
        out["target"] = spec.get("target", "parents")
    elif out["kind"] == "student":
        out["student_id"] = spec.get("student_id")
    elif out["kind"] == "school" and spec.get("role") is not None:
        out["role"] = spec.get("role")
    return out


def preview(sess: so.Session, p: Principal, spec) -> dict:
    """How far a notice to ``spec`` would go (checked like a send: 422 / 404 / 403)."""
    selectors, school_id, class_id, _cap = audience(sess, p, spec)
    return reach_counts.count(sess, selectors, _audience_of(spec), school_id, class_id)


def send_notice(sess: so.Session, p: Principal, body: dict, uploads: list[attachments.Upload] | None = None) -> Message:
    """Validate a notice from the UI or API and send it, with its checked ``uploads``. Raises
    ValidationFailed / NotFound / Forbidden (the request then writes nothing)."""
    subject, text = _text(body, "subject", MAX_SUBJECT), _text(body, "body", MAX_BODY)
    selectors, school_id, class_id, _cap = audience(sess, p, body.get("audience"))
    urgent = body.get("urgent") is True
    if urgent and not (p.can("messages.send.district") or (school_id and p.can("messages.send.school", school_id))):
        raise Forbidden("messages.send.school")
    ack = body.get("ack", False)
    if not isinstance(ack, bool):
        raise ValidationFailed({"ack": ["messages.ack.invalid"]})
    dedupe = body.get("client_token")  # a double-clicked "send" is one notice
    if dedupe is not None and (not isinstance(dedupe, str) or not 8 <= len(dedupe) <= 100):
        raise ValidationFailed({"client_token": ["field.length:100"]})
    dedupe_key = f"ui:{p.account_id}:{dedupe}" if dedupe else None
    if dedupe_key and (twin := sess.scalar(sa.select(Message).where(Message.dedupe_key == dedupe_key))):
        return twin  # the first click's notice, with its own attachments
    kept = _audience_of(body["audience"])
    reach = reach_counts.count(sess, selectors, kept, school_id, class_id)
    msg = send(sess, "emergency" if urgent else "notice", recipients=selectors,
               variables={"subject": subject, "body": text}, school_id=school_id, class_id=class_id,
               sender_account_id=p.account_id, dedupe_key=dedupe_key)
    if msg.recipient_count == 0:
        raise ValidationFailed({"audience": ["messages.recipients.none"]})
    msg.ack_required = ack
    msg.reach = kept | reach | {"accounts": msg.recipient_count}
    if uploads:
        attachments.store(sess, msg, uploads)
    sess.flush()
    return msg


def reply(sess: so.Session, p: Principal, item_id: int, body: dict) -> Message:
    """A recipient answers a notice: a ``notice.reply`` to its sender, linked by ``reply_to_id``."""
    item = get_item(sess, p.account_id, item_id)
    if item is None:
        raise NotFound("message")
    original = item.message
    if original.type_key not in ("notice", "emergency") or original.sender_account_id is None:
        raise ValidationFailed({"item_id": ["messages.reply.not_recipient"]})
    text = _text(body, "body", MAX_BODY)
    sender = sess.scalar(sa.select(Account.display_name).where(Account.id == p.account_id))
    return send(sess, "notice.reply", recipients=[{"account": original.sender_account_id}],
                variables={"subject": original.subject_zh, "body": text, "sender": sender or p.username},
                school_id=original.school_id or item.school_id, class_id=original.class_id,
                sender_account_id=p.account_id, reply_to_id=original.id, link=f"/messages/sent/{original.id}")


def student_choice(sess: so.Session, p: Principal, student_id: int, lang: str) -> dict:
    """One student whose guardians the sender may write to (the send form opened from the student's record):
    ``{id, name, class}``; 404 / 403 like a send to them."""
    student = _student(sess, student_id)
    if student.class_id is None or not may_address_class(p, student.class_id, student.school_id):
        raise Forbidden("messages.send.class")
    klass = sess.scalar(sa.select(OrgUnit.title_col(lang)).where(OrgUnit.id == student.class_id))
    return {"id": student.id, "name": student.name, "class": klass}


def choices(sess: so.Session, p: Principal) -> dict:
    """What the person may address, for the send form: their classes, schools and the district."""
    out: dict = {"classes": [], "schools": [], "district": p.can("messages.send.district")}
    schools = [s for s in p.school_ids() if p.can("messages.send.school", s) or p.can("messages.send.district")]
    own = {c for g in p.grants for c in g.class_ids if p.can("messages.send.class", g.school_id)}
    class_stmt = sa.select(OrgUnit).where(OrgUnit.kind == "class",
                                          sa.or_(OrgUnit.school_id.in_(schools), OrgUnit.id.in_(own)))
    out["classes"] = [{"id": c.id, "name": c.name, "school_id": c.school_id}
                      for c in sess.scalars(class_stmt.order_by(OrgUnit.school_id, OrgUnit.entry_year.desc(), OrgUnit.seq))]
    school_stmt = sa.select(OrgUnit).where(OrgUnit.kind == "school")
    if not p.can("messages.send.district"):
        school_stmt = school_stmt.where(OrgUnit.id.in_(schools))
    out["schools"] = [{"id": s.id, "name": s.name} for s in sess.scalars(school_stmt.order_by(OrgUnit.id))]
    out["roles"] = [{"key": r.name, "zh": r.zh, "en": r.en} for r in ROLES.values() if r.reach != "district"]
    return out
