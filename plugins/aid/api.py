"""The JSON API under /aid/api (gated per school by the host). Only the review roles read candidates and
indicators — the aid officer the whole school, a homeroom teacher their own classes; for anyone else a
student's aid data does not exist (404). Every read is audited with the students it showed; every step of the
review is a new row, audited."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, jsonify, request

from foundation.plugin_api import (
    Forbidden,
    NotFound,
    ValidationFailed,
    api_doc,
    audit,
    json_body,
    me,
    narrow_to,
    school_for,
    session,
    student_or_404,
    text_field,
)
from plugins.aid import caps as A
from plugins.aid import review
from plugins.aid.identify import identify, month_days

STEP_KINDS = ("confirm", "dismiss", "talk", "note")
METHODS = ("home_visit", "phone", "meeting", "video")
AWARD_KINDS = ("national_grant", "fee_waiver", "living_subsidy", "work_study", "scholarship", "emergency")


def _month(raw: str | None) -> str | None:
    if raw is None:
        return None
    try:
        month_days(raw)
        if len(raw) != 7:
            raise ValueError
    except (ValueError, IndexError):
        raise ValidationFailed({"month": ["aid.month"]}) from None
    return raw


def reviewed_student(student_id: int):
    """The student, if the caller is a review role for them; else 404 (nothing to see, nothing to learn)."""
    st = student_or_404(student_id, A.NAME)
    if not A.reviews(me(), st):
        raise NotFound("student")
    narrow_to(st.school_id)
    return st


@api_doc("The month's candidates (and, on request, the students without enough data) in the caller's reach, "
         "highest score first, with reasons", tags=["aid"])
def candidates():
    school = school_for(A.REVIEW, A.NAME)
    month = _month(request.args.get("month"))
    status = request.args.get("status", "candidate")
    if status not in ("candidate", "insufficient", "normal", "all"):
        raise ValidationFailed({"status": ["aid.status"]})
    sort = request.args.get("sort", "score")
    if sort not in ("score", "spend", "class"):
        raise ValidationFailed({"sort": ["aid.sort"]})
    out = review.candidate_list(session(), school, me(), month, status, sort)
    audit("aid.candidate.list", "school", school, school_id=school,
          detail={"month": out["month"], "status": status, "students": [i["student_id"] for i in out["items"]]})
    return jsonify(out)


@api_doc("Run identification now for a month (the aid officer)", tags=["aid"], status=200,
         body={"type": "object", "properties": {"month": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"}}})
def run_identification():
    school = school_for(A.AWAY, A.NAME)
    data = json_body() if request.get_data() else {}
    month = _month(data.get("month"))
    result = identify(session(), school, month)
    audit("aid.identify.run", "school", school, school_id=school, detail=result)
    return jsonify(result)


@api_doc("One student's aid figures, reasons, review steps, aid and declaration (review roles only)", tags=["aid"])
def student(student_id: int):
    st = reviewed_student(student_id)
    body = review.student_view(session(), st)
    audit("aid.candidate.read", "student", st.id, school_id=st.school_id,
          detail={"months": [i["month"] for i in body["months"]]})
    return jsonify(body)


@api_doc("Record a review step: confirm or dismiss (with a reason), a talk with the family, a note", tags=["aid"],
         status=201, body={"type": "object", "required": ["kind", "note"], "properties": {
             "kind": {"type": "string", "enum": list(STEP_KINDS)}, "note": {"type": "string", "maxLength": 1000},
             "method": {"type": "string", "enum": list(METHODS)}, "month": {"type": "string"}}})
def add_step(student_id: int):
    st = reviewed_student(student_id)
    data = json_body()
    kind = data.get("kind")
    problems = {}
    if kind not in STEP_KINDS:
        problems["kind"] = ["aid.step_kind"]
    method = data.get("method")
    if kind == "talk" and method not in METHODS:
        problems["method"] = ["aid.method"]
    if problems:
        raise ValidationFailed(problems)
    note = text_field(data, "note", limit=1000)
    month = _month(data.get("month"))
    row = review.add_step(session(), st, me(), kind, note, method if kind == "talk" else None, month)
    audit(f"aid.step.{kind}", "student", st.id, school_id=st.school_id, detail={"step": row["id"], "month": month})
    return jsonify(row), 201


@api_doc("Recommend aid (grants and work-study posts first) or record aid the student receives", tags=["aid"],
         status=201, body={"type": "object", "required": ["kind"], "properties": {
             "kind": {"type": "string", "enum": list(AWARD_KINDS)}, "amount": {"type": "integer"},
             "status": {"type": "string", "enum": ["recommended", "granted"]}, "note": {"type": "string"}}})
def add_award(student_id: int):
    st = reviewed_student(student_id)
    data = json_body()
    problems = {}
    if data.get("kind") not in AWARD_KINDS:
        problems["kind"] = ["aid.award_kind"]
    status = data.get("status", "recommended")
    if status not in ("recommended", "granted"):
        problems["status"] = ["aid.award_status"]
    amount = data.get("amount")
    if amount is not None and (not isinstance(amount, int) or isinstance(amount, bool) or not 0 <= amount <= 100000):
        problems["amount"] = ["aid.amount"]
    if problems:
        raise ValidationFailed(problems)
    note = text_field(data, "note", required=False, limit=500)
    row = review.add_award(session(), st, me(), data["kind"], status, amount, note)
    audit("aid.award.create", "student", st.id, school_id=st.school_id,
          detail={"award": row["id"], "kind": row["kind"], "status": status})
    return jsonify(row), 201


@api_doc("Record the outcome of recommended aid that no approval flow decides: granted or declined", tags=["aid"],
         status=200,
         body={"type": "object", "required": ["status"], "properties": {
             "status": {"type": "string", "enum": ["granted", "declined"]}, "note": {"type": "string"}}})
def decide_award(award_id: int):
    data = json_body()
    if data.get("status") not in ("granted", "declined"):
        raise ValidationFailed({"status": ["aid.award_status"]})
    note = text_field(data, "note", required=False, limit=500)
    student_id = review.award_student(session(), award_id)
    if student_id is None:
        raise NotFound("award")
    st = reviewed_student(student_id)
    if not review.award_open(session(), award_id):  # decided already, or its approval flow decides it
        raise ValidationFailed({"status": ["aid.award_closed"]})
    row = review.decide_award(session(), award_id, me(), data["status"], note)
    audit("aid.award.decide", "student", st.id, school_id=st.school_id,
          detail={"award": award_id, "status": data["status"]})
    return jsonify(row)


@api_doc("The school's coverage: confirmed students, how many receive aid and how long it took (counts only)",
         tags=["aid"])
def coverage():
    school = school_for(A.COVERAGE, A.NAME)
    return jsonify(review.coverage(session(), school))


@api_doc("Record internship weeks or other time away of a class or a student (not counted as school days)",
         tags=["aid"], status=201, body={"type": "object", "required": ["kind", "first_day", "last_day"], "properties": {
             "kind": {"type": "string", "enum": ["internship", "leave"]}, "class_id": {"type": "integer"},
             "student_id": {"type": "integer"}, "first_day": {"type": "string", "format": "date"},
             "last_day": {"type": "string", "format": "date"}, "note": {"type": "string"}}})
def add_away():
    school = school_for(A.AWAY, A.NAME)
    data = json_body()
    problems, days = {}, {}
    if data.get("kind") not in ("internship", "leave"):
        problems["kind"] = ["aid.away_kind"]
    for key in ("first_day", "last_day"):
        try:
            days[key] = date.fromisoformat(data.get(key)) if isinstance(data.get(key), str) else None
        except ValueError:
            days[key] = None
        if days[key] is None:
            problems[key] = ["aid.day"]
    if not problems and days["last_day"] < days["first_day"]:
        problems["last_day"] = ["aid.day_order"]
    cid, sid = data.get("class_id"), data.get("student_id")
    if (cid is None) == (sid is None) or any(v is not None and (not isinstance(v, int) or isinstance(v, bool))
                                             for v in (cid, sid)):
        problems["class_id"] = ["aid.class_or_student"]
    if problems:
        raise ValidationFailed(problems)
    note = text_field(data, "note", required=False, limit=200)
    try:
        row = review.add_away(session(), school, me(), data["kind"], cid, sid, days["first_day"], days["last_day"], note)
    except LookupError:
        raise NotFound("class" if cid is not None else "student") from None
    audit("aid.away.create", "school", school, school_id=school, detail=row)
    return jsonify(row), 201


def register(bp: Blueprint) -> None:
    r = bp.add_url_rule
    r("/api/candidates", "api_candidates", candidates)
    r("/api/identify", "api_identify", run_identification, methods=["POST"])
    r("/api/students/<int:student_id>", "api_student", student)
    r("/api/students/<int:student_id>/steps", "api_step", add_step, methods=["POST"])
    r("/api/students/<int:student_id>/awards", "api_award", add_award, methods=["POST"])
    r("/api/awards/<int:award_id>", "api_award_decide", decide_award, methods=["POST"])
    r("/api/coverage", "api_coverage", coverage)
    r("/api/away", "api_away", add_away, methods=["POST"])


__all__ = ["register", "Forbidden"]
