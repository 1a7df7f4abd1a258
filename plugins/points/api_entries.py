"""Writes to the ledger through the API — manual entries and reversals — and the per-student term report
and the eligibility lists. Every write is a new row and is audited."""
from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, jsonify

from foundation.plugin_api import (
    Forbidden,
    NotFound,
    StudentRef,
    ValidationFailed,
    api_doc,
    audit,
    classes_in_reach,
    is_staff_for,
    json_body,
    me,
    narrow_to,
    require_family,
    school_for,
    session,
    student_or_404,
    text_field,
    utcnow,
)
from plugins.points import caps as A
from plugins.points import ledger, standing
from plugins.points import rulebook as rb
from plugins.points.present import entry_view, rank_view


@api_doc("A student's term report (ranks for staff, the band for the family)", tags=["points"])
def term_report(student_id: int):
    from plugins.points import report

    kid = student_or_404(student_id, A.NAME)

    narrow_to(kid.school_id)
    staff = is_staff_for(me(), kid, A.RANK)
    if not staff:
        require_family(kid, A.OWN)
    out = report.build(session(), kid, staff=staff)
    if not out:
        raise NotFound("rulebook")
    if staff:
        audit("points.report.read", "student", student_id, school_id=kid.school_id)
    return jsonify(out)


MAX_BATCH = 200  # a class, or a few: more than a teacher can check by eye in one confirmation

# the request bodies, as /api/v1/openapi.json shows them (the checks below say more: the rulebook in force)
ENTRY_FIELDS = {
    "rule_code": {"type": "string", "description": "a rule of the rulebook in force"},
    "score": {"type": "integer", "description": "for a scored rule"},
    "level": {"type": "string", "description": "for a rule with levels"},
    "reason": {"type": "string", "maxLength": 500, "description": "required for a deduction"},
    "occurred_at": {"type": "string", "format": "date-time", "description": "in this term, not in the future"},
    "evidence": {"type": "array", "maxItems": 10, "items": {"type": "string", "minLength": 1, "maxLength": 500}},
}
ENTRY_IN = {"type": "object", "required": ["student_id", "rule_code"],
            "properties": {"student_id": {"type": "integer", "minimum": 1}} | ENTRY_FIELDS}
BATCH_IN = {"type": "object", "required": ["student_ids", "rule_code"], "properties": {"student_ids": {
    "type": "array", "minItems": 1, "maxItems": MAX_BATCH, "items": {"type": "integer", "minimum": 1}}} | ENTRY_FIELDS}
REASON_IN = {"type": "object", "required": ["reason"],
             "properties": {"reason": {"type": "string", "minLength": 1, "maxLength": 500}}}


@api_doc("Record a credit or deduction for a student in reach under the rulebook in force", tags=["points"],
         body=ENTRY_IN, status=201)
def create_entry():
    data = json_body()
    sid = data.get("student_id")
    if not isinstance(sid, int) or isinstance(sid, bool):
        raise ValidationFailed({"student_id": ["field.required"]})
    kid = student_or_404(sid, A.NAME)
    narrow_to(kid.school_id)
    row = record_entries([kid], data)[0]
    return jsonify(entry_view(row) | {"score": standing.score_of(session(), kid.school_id, kid.id)}), 201


@api_doc("Record one credit or deduction for several students in reach at once (all or nothing): "
         "`student_ids` plus the fields of a single entry", tags=["points"], body=BATCH_IN, status=201)
def create_batch():
    data = json_body()
    kids = _batch_students(data.get("student_ids"))
    rows = record_entries(kids, data)
    sess, school = session(), kids[0].school_id
    names = {k.id: k.name for k in kids}
    items = [entry_view(r) | {"name": names[r["student_id"]], "score": standing.score_of(sess, school, r["student_id"])}
             for r in rows]
    return jsonify({"count": len(items), "items": items}), 201


def _batch_students(ids) -> list[StudentRef]:
    """The students a batch names, each in the caller's reach and all of one school: 422 naming
    ``student_ids`` (and the ids not found) otherwise, before anything is written."""
    if not isinstance(ids, list) or not ids or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise ValidationFailed({"student_ids": ["points.batch.ids"]})
    ids = list(dict.fromkeys(ids))
    if len(ids) > MAX_BATCH:
        raise ValidationFailed({"student_ids": [f"points.batch.too_many:{MAX_BATCH}"]})
    kids, missing = [], []
    for sid in ids:
        try:
            kid = student_or_404(sid, A.NAME)
        except NotFound:
            missing.append(sid)
            continue
        if not kids:
            narrow_to(kid.school_id)  # one school per batch: the others are not found from here on
        kids.append(kid)
    if missing:
        raise ValidationFailed({"student_ids": [f"points.batch.not_found:{', '.join(map(str, missing))}"]})
    return kids


def record_entries(kids: list[StudentRef], data: dict) -> list[dict]:
    """One entry for each of ``kids`` (found in reach, of one school) from the fields of an entry request,
    checked once whether for one student or a class: staff reach with the entry capability, an active rule of
    the rulebook in force and its points, a reason for every deduction, when, the evidence. The ledger applies
    the caps, raises the alerts and publishes the change; each entry is audited."""
    p, sess, school = me(), session(), kids[0].school_id
    if not all(is_staff_for(p, kid, A.ENTRY) for kid in kids):
        raise Forbidden(A.ENTRY)
    book = rb.current(sess, school)
    code = data.get("rule_code")
    rule = rb.item(book["body"], code) if book and isinstance(code, str) else None
    if rule is None or not rule.get("active", True):
        raise ValidationFailed({"rule_code": ["points.unknown_rule"]})
    raw = rb.points_for(rule, score=data.get("score"), level=data.get("level"))
    if raw is None:
        raise ValidationFailed({"score" if rule["kind"] == "scored" else "level": ["points.rule_input"]})
    if raw == 0:
        raise ValidationFailed({"score": ["points.zero"]})
    reason = text_field(data, "reason", required=raw < 0)  # a family reads why points were taken
    when = _occurred(data.get("occurred_at"), rb.term_start(book["body"]))
    evidence = data.get("evidence")
    if evidence is not None and not (isinstance(evidence, list) and len(evidence) <= 10
                                     and all(isinstance(x, str) and 0 < len(x) <= 500 for x in evidence)):
        raise ValidationFailed({"evidence": ["points.evidence"]})
    rows = ledger.add(sess, school, [{
        "student_id": kid.id, "class_id": kid.class_id, "rule": rule, "raw_points": raw, "reason": reason,
        "evidence": evidence, "source": "manual", "source_ref": None, "recorded_by": p.account_id,
        "recorded_by_name": p.display_name, "occurred_at": when} for kid in kids], book)
    for row in rows:
        audit("points.entry.create", "points_entry", row["id"], school_id=school,
              detail={"student_id": row["student_id"], "rule": code, "points": row["points"],
                      **({"batch": len(kids)} if len(kids) > 1 else {})})
    return rows


def _occurred(value, term_start) -> datetime:
    if value is None:
        return utcnow()
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else None
    except ValueError:
        when = None
    if when is not None and when.tzinfo:
        when = when.astimezone(UTC).replace(tzinfo=None)
    if when is None or when > utcnow() or when.date() < term_start:
        raise ValidationFailed({"occurred_at": ["points.occurred_at"]})
    return when


@api_doc("Reverse an entry (a new entry cancelling it) with a reason", tags=["points"], body=REASON_IN,
         status=201)
def reverse_entry(entry_id: int):
    sess = session()
    entry = ledger.get(sess, entry_id)  # None unless about a student the caller reaches
    if entry is None:
        raise NotFound("entry")
    kid = student_or_404(entry["student_id"], A.NAME)
    narrow_to(kid.school_id)
    p, school = me(), kid.school_id
    if not is_staff_for(p, kid, A.REVERSE):  # the entry is in reach (a family's own): reversing is staff's
        raise Forbidden(A.REVERSE)
    reason = text_field(json_body(), "reason")
    row = ledger.reverse(sess, entry, reason=reason, account_id=p.account_id, name=p.display_name)
    if row is None:
        raise ValidationFailed({"entry_id": ["points.already_reversed"]})
    audit("points.entry.reverse", "points_entry", entry_id, school_id=school, detail={"reversal_id": row["id"]})
    return jsonify(entry_view(row) | {"score": standing.score_of(sess, school, kid.id)}), 201


@api_doc("The students who meet an eligibility rule of the rulebook (the classes the caller reaches)",
         tags=["points"])
def eligibility(key: str):
    school = school_for(A.ELIGIBLE, A.NAME)
    if not classes_in_reach(school, A.NAME):
        raise NotFound("eligibility")
    rule, rows = standing.eligible(session(), school, key)  # the students the caller reaches, by scope
    if rule is None:
        raise NotFound("eligibility")
    return jsonify({"rule": rule, "items": [rank_view(r) for r in rows], "total": len(rows)})


def register(bp: Blueprint) -> None:
    r = bp.add_url_rule
    r("/api/students/<int:student_id>/report", "api_report", term_report)
    r("/api/entries", "api_entry_create", create_entry, methods=["POST"])
    r("/api/entries/batch", "api_entry_batch", create_batch, methods=["POST"])
    r("/api/entries/<int:entry_id>/reverse", "api_entry_reverse", reverse_entry, methods=["POST"])
    r("/api/eligibility/<key>", "api_eligibility", eligibility)
