"""The plugin's JSON API under /wellbeing/api (gated per school by the host). Every route decides need to
know first (``access.py``); anything a caller may not know of answers 404, whether it exists or not. Every
read of a student's screening data is audited."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, jsonify

from foundation.plugin_api import (
    NotFound,
    Student,
    ValidationFailed,
    api_doc,
    audit,
    family_students,
    json_body,
    me,
    session,
    student_or_404,
)
from plugins.wellbeing import access as A
from plugins.wellbeing import consent, screening
from plugins.wellbeing.models import Response, Screening
from plugins.wellbeing.present import iso

ANSWERS = {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 3}, "minItems": 7, "maxItems": 9}
SCHEDULE = {"type": "object", "required": ["opens_on", "closes_on"], "properties": {
    "instrument": {"type": "string", "enum": ["phq9", "gad7"], "description": "required without form_id"},
    "form_id": {"type": "integer", "description": "the school's published low-code clone of PHQ-9 or GAD-7"},
    "title": {"type": "string", "maxLength": 120},
    "class_ids": {"type": "array", "items": {"type": "integer"}}, "grade_ids": {"type": "array", "items": {"type": "integer"}},
    "opens_on": {"type": "string", "format": "date"}, "closes_on": {"type": "string", "format": "date"}}}


def manage_school() -> int:
    school, _ = A.staff_school("full")
    if not me().can(A.MANAGE, school):
        raise NotFound("page")
    return school


def screening_or_404(screening_id: int) -> Screening:
    row = session().get(Screening, screening_id) if 0 < screening_id < 2**31 else None
    if row is None:
        raise NotFound("screening")
    return row


def screening_view(row: Screening, counts: dict[str, int] | None = None) -> dict[str, Any]:
    return {"id": row.id, "instrument": row.instrument, "title": row.title, "class_ids": row.class_ids,
            "opens_on": row.opens_on.isoformat(), "closes_on": row.closes_on.isoformat(),
            "extra_questions": row.extra_questions or [], "form_id": row.form_id,
            "form_version": row.form_version, "created_by": row.created_by_name,
            "created_at": iso(row.created_at), "reminded_at": iso(row.reminded_at), "counts": counts}


def _counts(sess: Any, row: Screening) -> tuple[dict[str, int], list[dict[str, Any]]]:
    kids = screening.roster(sess, row)
    counts = {k: 0 for k in ("submitted", "not_yet", "awaiting_consent", "consent_refused")}
    for k in kids:
        counts[k["state"]] += 1
    levels = dict(sess.execute(sa.select(Response.level, sa.func.count()).where(Response.screening_id == row.id)
                               .group_by(Response.level)).all())
    counts.update(red=levels.get("red", 0), yellow=levels.get("yellow", 0))
    return counts, kids


@api_doc("The school's screenings with how many answered, wait for consent or have not answered",
         tags=["wellbeing"])
def list_screenings():
    school, sess = manage_school(), session()
    rows = sess.scalars(sa.select(Screening).order_by(Screening.opens_on.desc(), Screening.id.desc())).all()
    return jsonify({"school_id": school, "items": [screening_view(r, _counts(sess, r)[0]) for r in rows]})


@api_doc("Schedule a screening (PHQ-9 or GAD-7) for classes or grades over a window; guardians of under-14s "
         "are asked for consent", tags=["wellbeing"], status=201, body=SCHEDULE)
def create_screening():
    school, p = manage_school(), me()
    row, asked = screening.schedule(session(), school, json_body(), p.account_id, p.display_name)
    audit("wellbeing.screening.create", "wellbeing_screening", row.id, school_id=school,
          detail={"instrument": row.instrument, "classes": len(row.class_ids), "consent_asked": asked})
    return jsonify({**screening_view(row), "consent_asked": asked}), 201


@api_doc("One screening's roster: each student's state (submitted, not yet, awaiting consent)", tags=["wellbeing"])
def get_screening(screening_id: int):
    manage_school()
    sess = session()
    row = screening_or_404(screening_id)
    counts, kids = _counts(sess, row)
    audit("wellbeing.screening.read", "wellbeing_screening", row.id, school_id=row.school_id)
    return jsonify({**screening_view(row, counts), "students": kids})


@api_doc("Remind the students who may answer and have not", tags=["wellbeing"], body=None)
def remind(screening_id: int):
    manage_school()
    row = screening_or_404(screening_id)
    n = screening.remind(session(), row)
    audit("wellbeing.screening.remind", "wellbeing_screening", row.id, school_id=row.school_id, detail={"students": n})
    return jsonify({"reminded": n})


@api_doc("A student submits their own answers; the answer is a supportive note, never a score",
         tags=["wellbeing"], status=201, body={"type": "object", "required": ["answers"], "properties": {
             "answers": ANSWERS, "extra": {"type": "object"}}})
def submit_own(screening_id: int):
    p = me()
    kid = next((k for k in family_students(A.NAME) if p.person_kind == "student" and k.id == p.person_id), None)
    if kid is None or not p.can(A.FILL, kid.school_id):
        raise NotFound("screening")
    row = screening_or_404(screening_id)
    if row.school_id != kid.school_id or kid.class_id not in row.class_ids:
        raise NotFound("screening")
    data = json_body()
    screening.submit(session(), row, [{"student_id": kid.id, "answers": data.get("answers"),
                                       "extra": data.get("extra")}], p.account_id)
    return jsonify({"ok": True, "support": support(kid.school_id)}), 201


@api_doc("Enter many students' answers at once (paper screenings, a screening platform's batch); all or none",
         tags=["wellbeing"], status=201, body={"type": "object", "required": ["responses"], "properties": {
             "responses": {"type": "array", "maxItems": 20000, "items": {"type": "object", "required": ["student_id", "answers"],
                           "properties": {"student_id": {"type": "integer"}, "answers": ANSWERS, "extra": {"type": "object"}}}}}})
def submit_bulk(screening_id: int):
    manage_school()
    row = screening_or_404(screening_id)
    items = json_body().get("responses")
    if not isinstance(items, list) or not items or len(items) > 20000 or not all(isinstance(i, dict) for i in items):
        raise ValidationFailed({"responses": ["wellbeing.error.responses"]})
    n = screening.submit(session(), row, items, me().account_id)
    audit("wellbeing.responses.enter", "wellbeing_screening", row.id, school_id=row.school_id, detail={"responses": n})
    return jsonify({"stored": n}), 201


def support(school_id: int) -> dict[str, str]:
    cfg = screening.config(school_id)
    return {"help_line": cfg.get("help_line", ""), "counselling_contacts": cfg.get("counselling_contacts", "")}


def cases_for(sess: Any, school: int, kind: str, p: Any) -> list[dict[str, Any]]:
    """Responses at a level whose case is open, red first, then newest: the school's for ``full``, one's
    homeroom classes' for ``levels``."""
    stmt = sa.select(Response, Student.name, Student.student_no).join(Student, Student.id == Response.student_id) \
        .where(Response.level.is_not(None), Response.case_closed_at.is_(None)).limit(300) \
        .order_by(sa.case((Response.level == "red", 0), else_=1), Response.submitted_at.desc())  # red first
    if kind == "levels":
        stmt = stmt.where(Student.class_id.in_(sorted(A.homeroom_classes(p, school))))
    titles = dict(sess.execute(sa.select(Screening.id, Screening.title)).all())
    return [{**A.view_case(r, kind), "name": name, "student_no": no, "screening": titles.get(r.screening_id)}
            for r, name, no in sess.execute(stmt)]


@api_doc("Students at a level (red, yellow) the caller needs to know of, with the case and its deadlines",
         tags=["wellbeing"])
def cases():
    school, kind = A.staff_school()
    items = cases_for(session(), school, kind, me())
    audit("wellbeing.cases.read", "school", school, school_id=school, detail={"shown": len(items), "kind": kind})
    return jsonify({"school_id": school, "kind": kind, "items": items})


@api_doc("One student's screenings as the caller may see them (answers only for psychology staff)", tags=["wellbeing"])
def student(student_id: int):
    kid, have = A.student_for(student_id)
    sess = session()
    rows = sess.scalars(sa.select(Response).where(Response.student_id == kid.id)
                        .order_by(Response.submitted_at.desc())).all()
    state = consent.states(sess, [kid.id]).get(kid.id)
    audit("wellbeing.student.read", "student", kid.id, school_id=kid.school_id, detail={"kind": have})
    items = [A.view_case(r, have) for r in rows]
    if have == "full":  # the school's own questions, as its form asked them, beside their answers
        asked = dict(sess.execute(sa.select(Screening.id, Screening.extra_questions).where(
            Screening.id.in_({r.screening_id for r in rows}))).all())
        for item, r in zip(items, rows, strict=True):
            item["questions"] = {q["key"]: q for q in asked.get(r.screening_id) or []}
    return jsonify({"student_id": kid.id, "name": kid.name, "kind": have, "consent": state, "items": items})


def consent_children() -> list[dict[str, Any]]:
    """The caller's children (a guardian) under 14 with their consent state."""
    p = me()
    if p.person_kind != "guardian":
        return []
    sess, out = session(), []
    for kid in family_students(A.NAME):
        if not p.can(A.CONSENT, kid.school_id):
            continue
        birth = sess.scalar(sa.select(Student.birth_date).where(Student.id == kid.id))
        if consent.under_age(birth, screening.today(sess, kid.school_id)):
            out.append({"student_id": kid.id, "name": kid.name,
                        "state": consent.states(sess, [kid.id]).get(kid.id)})
    return out


@api_doc("A guardian's children under 14 and whether they consented to screening", tags=["wellbeing"])
def list_consents():
    kids = consent_children()
    if not kids and me().person_kind != "guardian":
        raise NotFound("student")
    return jsonify({"items": kids})


@api_doc("A guardian consents (or not) to their child's screening", tags=["wellbeing"], body={
    "type": "object", "required": ["granted"], "properties": {"granted": {"type": "boolean"}}})
def answer_consent(student_id: int):
    if student_id not in {k["student_id"] for k in consent_children()}:
        raise NotFound("student")
    granted = json_body().get("granted")
    if not isinstance(granted, bool):
        raise ValidationFailed({"granted": ["wellbeing.error.granted"]})
    kid, p = student_or_404(student_id, A.NAME), me()
    row = consent.answer(session(), kid.id, kid.school_id, granted, p.account_id, p.display_name)
    audit("wellbeing.consent.answer", "student", kid.id, school_id=kid.school_id, detail={"status": row.status})
    return jsonify({"student_id": kid.id, "state": row.status, "answered_at": iso(row.answered_at)})


def register(bp: Blueprint) -> None:
    r = bp.add_url_rule
    r("/api/screenings", "api_screenings", list_screenings)
    r("/api/screenings", "api_screening_create", create_screening, methods=["POST"])
    r("/api/screenings/<int:screening_id>", "api_screening", get_screening)
    r("/api/screenings/<int:screening_id>/remind", "api_remind", remind, methods=["POST"])
    r("/api/screenings/<int:screening_id>/responses", "api_submit", submit_own, methods=["POST"])
    r("/api/screenings/<int:screening_id>/responses/bulk", "api_submit_bulk", submit_bulk, methods=["POST"])
    r("/api/cases", "api_cases", cases)
    r("/api/students/<int:student_id>", "api_student", student)
    r("/api/consents", "api_consents", list_consents)
    r("/api/consents/<int:student_id>", "api_consent_answer", answer_consent, methods=["POST"])
