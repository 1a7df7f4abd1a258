"""Appeals: a student or parent contests one entry with a reason; the homeroom teacher (or a school admin)
accepts — which reverses the entry with a new ledger row — or rejects it with a note. One open appeal per
entry; reversals and already-reversed entries cannot be appealed."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, jsonify, request

from foundation.plugin_api import (
    Forbidden,
    NotFound,
    ValidationFailed,
    api_doc,
    audit,
    is_staff_for,
    json_body,
    me,
    narrow_to,
    require_family,
    session,
    student_or_404,
    text_field,
    utcnow,
)
from plugins.points import caps as A
from plugins.points import ledger, standing
from plugins.points.models import appeals, entries


def view(a: dict) -> dict:
    from plugins.points.present import iso

    return {"id": a["id"], "entry_id": a["entry_id"], "student_id": a["student_id"], "reason": a["reason"],
            "status": a["status"], "by": a["created_by_name"], "created_at": iso(a["created_at"]),
            "decided_by": a["decided_by_name"], "decided_at": iso(a["decided_at"]),
            "decision_note": a["decision_note"], "reversal_id": a["reversal_id"]}


def _get(appeal_id: int) -> dict:
    """An appeal about a student the caller reaches (the table is scoped like the student), else 404."""
    row = session().execute(sa.select(appeals).where(appeals.c.id == appeal_id)).first() \
        if 0 < appeal_id < 2**31 else None
    if row is None:
        raise NotFound("appeal")
    return dict(row._mapping)


def _rule_title(entry: dict, lang: str = "zh") -> str:
    from plugins.points.present import titles

    title = titles(entry["school_id"]).get(entry["rule_code"])
    return (title.get(lang) or title["zh"]) if title else entry["rule_code"]


@api_doc("Appeal one of the caller's own (child's) entries with a reason", tags=["points"], status=201,
         body={"type": "object", "required": ["entry_id", "reason"], "properties": {
             "entry_id": {"type": "integer", "minimum": 1}, "reason": {"type": "string", "minLength": 1, "maxLength": 500}}})
def create():
    data = json_body()
    entry_id = data.get("entry_id")
    if not isinstance(entry_id, int) or isinstance(entry_id, bool) or not 0 < entry_id < 2**31:
        raise ValidationFailed({"entry_id": ["field.required"]})
    sess = session()
    entry = ledger.get(sess, entry_id)  # None unless it is about a student the caller reaches
    if entry is None:
        raise NotFound("entry")
    kid = student_or_404(entry["student_id"], A.NAME)
    narrow_to(kid.school_id)
    require_family(kid, A.APPEAL)
    reason = text_field(data, "reason")
    if entry["reverses_id"] is not None or ledger.reversal_of(sess, entry_id) is not None:
        raise ValidationFailed({"entry_id": ["points.already_reversed"]})
    if sess.scalar(sa.select(appeals.c.id).where(appeals.c.entry_id == entry_id, appeals.c.status == "open")):
        raise ValidationFailed({"entry_id": ["points.appeal_open"]})
    p = me()
    new = {"school_id": entry["school_id"], "entry_id": entry_id, "student_id": entry["student_id"],
           "class_id": kid.class_id, "reason": reason, "status": "open", "created_by": p.account_id,
           "created_by_name": p.display_name, "created_at": utcnow()}
    new["id"] = sess.execute(sa.insert(appeals).values(new).returning(appeals.c.id)).scalar_one()
    audit("points.appeal.create", "points_appeal", new["id"], school_id=entry["school_id"])
    from plugins.points import notify

    notify.send(sess, "points.appeal.created", recipients=[{"homeroom_of_student": entry["student_id"]}],
                variables={"student_name": kid.name, "appellant": p.display_name, "rule": _rule_title(entry),
                           "rule_en": _rule_title(entry, "en"), "points": entry["points"], "reason": reason},
                school_id=entry["school_id"], link="/points/appeals", dedupe_key=f"points.appeal:{new['id']}",
                sender_account_id=p.account_id)
    return jsonify(view(new | {"decided_by_name": None, "decided_at": None, "decision_note": None,
                               "reversal_id": None})), 201


@api_doc("Appeals: for staff who decide them, those of the students they reach (?status=open|accepted|"
         "rejected|all); for a family, its own", tags=["points"])
def listing():
    p, sess = me(), session()
    status = request.args.get("status", "open")
    if status not in ("open", "accepted", "rejected", "all"):
        raise ValidationFailed({"status": ["points.status"]})
    if not any(p.can(A.DECIDE, s) or p.can(A.APPEAL, s) for s in p.school_ids()):
        raise Forbidden(A.DECIDE)
    # the appeals table is scoped like the students it is about: a teacher's classes, a school, a family
    stmt = sa.select(appeals, entries.c.rule_code, entries.c.points, entries.c.reason.label("entry_reason"),
                     entries.c.occurred_at).join(entries, entries.c.id == appeals.c.entry_id)
    if status != "all":
        stmt = stmt.where(appeals.c.status == status)
    rows = [dict(r._mapping) for r in sess.execute(stmt.order_by(appeals.c.id.desc()).limit(500))]
    names = standing.students_of(sess, [r["student_id"] for r in rows]) if rows else {}
    from plugins.points.present import iso, titles

    rules = titles(rows[0]["school_id"]) if rows else {}
    return jsonify({"items": [view(r) | {"rule_code": r["rule_code"], "rule_title": rules.get(r["rule_code"]),
                                         "points": r["points"],
                                         "entry_reason": r["entry_reason"], "occurred_at": iso(r["occurred_at"]),
                                         "student_name": names.get(r["student_id"], {}).get("name")}
                              for r in rows]})


@api_doc("Accept (the entry is reversed) or reject (with a note) an open appeal", tags=["points"],
         body={"type": "object", "required": ["decision"], "properties": {
             "decision": {"type": "string", "enum": ["accept", "reject"]},
             "note": {"type": "string", "maxLength": 500, "description": "required to reject"}}})
def decide(appeal_id: int):
    a = _get(appeal_id)
    kid = student_or_404(a["student_id"], A.NAME)
    narrow_to(kid.school_id)
    p, sess = me(), session()
    if not (is_staff_for(p, kid, A.RANK) and p.can(A.DECIDE, a["school_id"])):
        raise Forbidden(A.DECIDE)
    data = json_body()
    decision = data.get("decision")
    if decision not in ("accept", "reject"):
        raise ValidationFailed({"decision": ["points.decision"]})
    note = text_field(data, "note", required=decision == "reject")
    if a["status"] != "open":
        raise ValidationFailed({"decision": ["points.appeal_closed"]})
    reversal = None
    if decision == "accept":
        entry = ledger.get(sess, a["entry_id"])
        reversal = ledger.reverse(sess, entry, reason=f"申诉成立：{note or a['reason']}"[:500],
                                  account_id=p.account_id, name=p.display_name)
    done = {"status": "accepted" if decision == "accept" else "rejected", "decided_by": p.account_id,
            "decided_by_name": p.display_name, "decided_at": utcnow(), "decision_note": note,
            "reversal_id": reversal["id"] if reversal else None}
    sess.execute(sa.update(appeals).where(appeals.c.id == appeal_id, appeals.c.status == "open").values(done))
    audit("points.appeal.decide", "points_appeal", appeal_id, school_id=a["school_id"], detail={"decision": decision})
    if a["created_by"] is not None:
        from plugins.points import notify

        entry = ledger.get(sess, a["entry_id"])
        words = {"accept": ("申诉成立，该记录已冲正，不再计分", "accepted, the entry is reversed"),
                 "reject": ("申诉未通过", "not accepted")}[decision]
        notify.send(sess, "points.appeal.decided", recipients=[{"account": a["created_by"]}],
                    variables={"student_name": kid.name, "rule": _rule_title(entry), "rule_en": _rule_title(entry, "en"),
                               "decision": words[0], "decision_en": words[1], "decider": p.display_name,
                               "note": note or "—"},
                    school_id=a["school_id"], link=f"/points/students/{a['student_id']}",
                    dedupe_key=f"points.appeal.decided:{appeal_id}", sender_account_id=p.account_id)
    return jsonify(view(a | done))


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/api/appeals", "api_appeals", listing)
    bp.add_url_rule("/api/appeals", "api_appeal_create", create, methods=["POST"])
    bp.add_url_rule("/api/appeals/<int:appeal_id>/decide", "api_appeal_decide", decide, methods=["POST"])
