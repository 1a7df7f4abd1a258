"""Students, staff and guardians."""
from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, jsonify, request

from foundation import db
from foundation.api.blueprint import bp, doc
from foundation.api.common import get_or_404, load_body, load_query, paginate, principal
from foundation.api.org import filters_or_404
from foundation.api.schemas import (
    GuardianIn,
    GuardianOut,
    GuardianQuery,
    StaffIn,
    StaffOut,
    StaffQuery,
    StudentIn,
    StudentOut,
    StudentQuery,
)
from foundation.audit import record
from foundation.errors import ValidationFailed
from foundation.i18n import current_lang
from foundation.inputs import clean_text
from foundation.models import Guardian, GuardianLink, OrgUnit, Staff, Student
from foundation.permissions import require
from foundation.reach import student_or_404
from foundation.services import people as svc

STUDENTS_OUT = StudentOut(many=True)
_STUDENT_FIELDS = tuple(STUDENTS_OUT.dump_fields)


def _dump_students(rows: list[Student]) -> list[dict]:
    """``StudentOut(many=True).dump`` of the rows' views, done directly: the views already carry the schema's
    types (ints, strings, booleans), so only the birth date needs its ISO text. Three times faster on a
    roster; tests/api/test_people.py checks the answer equals marshmallow's, field for field."""
    lang = current_lang()
    out = []
    for s in rows:
        view = svc.student_view(s, lang)
        item = {name: view[name] for name in _STUDENT_FIELDS}
        if item["birth_date"] is not None:
            item["birth_date"] = item["birth_date"].isoformat()
        out.append(item)
    return out


def _page_of_students(stmt: sa.Select, args: dict) -> dict:
    """:func:`paginate`'s answer, with the page read first: a page that is not full tells the total itself
    (a class roster is one short page), so the ``count(*)`` runs only when more rows may follow."""
    page = args.get("page", 1)
    per_page = min(args.get("per_page", 50), current_app.config["API_MAX_PER_PAGE"])
    rows = db.session().scalars(stmt.limit(per_page).offset((page - 1) * per_page)).unique().all()
    if 0 < len(rows) < per_page or (page == 1 and not rows):
        total = (page - 1) * per_page + len(rows)
    else:
        total = db.session().scalar(sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery()))
    return {"items": _dump_students(rows), "total": total, "page": page, "per_page": per_page}


@bp.get("/students")
@doc("List students you may see (paginated, filterable)", tags=["people"], query=StudentQuery,
     response=StudentOut, many=True)
def list_students():
    args = load_query(StudentQuery())
    require(principal(), "people.student.read")
    # student_no is unique per school, so this order is total and follows ix_students_school_class_no
    stmt = sa.select(Student).order_by(Student.school_id, Student.class_id, Student.student_no)
    for key in ("class_id", "school_id", "boarding", "sex_code"):
        if key in args:
            stmt = stmt.where(getattr(Student, key) == args[key])
    if "grade_id" in args:
        stmt = stmt.where(Student.class_id.in_(sa.select(OrgUnit.id).where(OrgUnit.parent_id == args["grade_id"])))
    if "q" in args:
        stmt = stmt.where(sa.or_(Student.name.startswith(args["q"]), Student.student_no.startswith(args["q"])))
    out = _page_of_students(stmt, args)
    if not out["items"]:  # a school, grade or class out of reach is 404, like the unit itself; rows in reach
        filters_or_404(args)  # say no more than themselves, so only an empty answer needs the unit checked
    schools = sorted({item["school_id"] for item in out["items"]})
    record("people.student.list", "student", None, school_id=schools[0] if len(schools) == 1 else None,
           detail={"filters": dict(request.args.items()), "returned": len(out["items"]), "schools": schools})
    return jsonify(out)


@bp.get("/students/<int:student_id>")
@doc("Read one student (ID number masked)", tags=["people"], response=StudentOut)
def get_student(student_id: int):
    require(principal(), "people.student.read")
    s = get_or_404(Student, student_id, "student")
    record("people.student.read", "student", s.id, school_id=s.school_id)
    return jsonify(StudentOut().dump(svc.student_view(s)))


@bp.post("/students")
@doc("Create a student", tags=["people"], body=StudentIn, response=StudentOut, status=201)
def create_student():
    data = load_body(StudentIn())
    s = svc.create_student(principal(), data)
    return jsonify(StudentOut().dump(svc.student_view(s))), 201


@bp.patch("/students/<int:student_id>")
@doc("Update a student", tags=["people"], body=StudentIn(partial=True), response=StudentOut)
def update_student(student_id: int):
    s = get_or_404(Student, student_id, "student")
    data = load_body(StudentIn(), partial=True)
    return jsonify(StudentOut().dump(svc.student_view(svc.update_student(principal(), s, data))))


@bp.post("/students/<int:student_id>/reveal-id-number")
@doc("Reveal a student's full ID number (school admin; a reason is required and audited)", tags=["people"],
     body="ReasonIn", response={"type": "object", "properties": {
         "id": {"type": "integer"}, "id_number": {"type": "string", "nullable": True}}})
def reveal_id_number(student_id: int):
    s = get_or_404(Student, student_id, "student")
    body = request.get_json(silent=True)
    reason = clean_text(body.get("reason") if isinstance(body, dict) else None, "reason", limit=200,
                        missing="reveal.reason_required")
    if len(reason) < 2:
        raise ValidationFailed({"reason": ["reveal.reason_required"]})
    return jsonify({"id": s.id, "id_number": svc.reveal_id_number(principal(), s, reason)})


@bp.get("/students/<int:student_id>/guardians")
@doc("The guardians of one student", tags=["people"], response=GuardianOut, many=True)
def student_guardians(student_id: int):
    require(principal(), "people.guardian.read")
    s = get_or_404(Student, student_id, "student")
    ids = db.session().scalars(sa.select(GuardianLink.guardian_id).where(GuardianLink.student_id == s.id))
    rows = db.session().scalars(sa.select(Guardian).where(Guardian.id.in_(list(ids))).order_by(Guardian.id)).all()
    record("people.guardian.read", "student", s.id, school_id=s.school_id)
    items = GuardianOut(many=True).dump(svc.guardian_views(rows))
    return jsonify({"items": items, "total": len(items), "page": 1, "per_page": len(items)})


# ---- staff ------------------------------------------------------------------------------------------
@bp.get("/staff")
@doc("List staff", tags=["people"], query=StaffQuery, response=StaffOut, many=True)
def list_staff():
    args = load_query(StaffQuery())
    require(principal(), "people.staff.read")
    filters_or_404(args)
    stmt = sa.select(Staff).order_by(Staff.school_id, Staff.staff_no)
    if "school_id" in args:
        stmt = stmt.where(Staff.school_id == args["school_id"])
    if "subject" in args:
        stmt = stmt.where(Staff.subject == args["subject"])
    if "q" in args:
        stmt = stmt.where(sa.or_(Staff.name.startswith(args["q"]), Staff.staff_no.startswith(args["q"])))
    return jsonify(paginate(stmt, args, StaffOut(many=True).dump))


@bp.get("/staff/<int:staff_id>")
@doc("Read one staff member", tags=["people"], response=StaffOut)
def get_staff(staff_id: int):
    require(principal(), "people.staff.read")
    return jsonify(StaffOut().dump(get_or_404(Staff, staff_id, "staff")))


@bp.post("/staff")
@doc("Create a staff member", tags=["people"], body=StaffIn, response=StaffOut, status=201)
def create_staff():
    data = load_body(StaffIn())
    p = principal()
    school_id = data.get("school_id")
    if school_id is None:
        schools = sorted(p.school_ids())
        if len(schools) != 1:
            raise ValidationFailed({"school_id": ["field.required"]})
        school_id = schools[0]
    return jsonify(StaffOut().dump(svc.create_staff(p, school_id, data))), 201


@bp.patch("/staff/<int:staff_id>")
@doc("Update a staff member", tags=["people"], body=StaffIn(partial=True), response=StaffOut)
def update_staff(staff_id: int):
    st = get_or_404(Staff, staff_id, "staff")
    data = load_body(StaffIn(), partial=True)
    if "school_id" in data and data["school_id"] != st.school_id:
        raise ValidationFailed({"school_id": ["staff.school_immutable"]})
    return jsonify(StaffOut().dump(svc.update_staff(principal(), st, data)))


# ---- guardians --------------------------------------------------------------------------------------
@bp.get("/guardians")
@doc("List guardians you may see", tags=["people"], query=GuardianQuery, response=GuardianOut, many=True)
def list_guardians():
    args = load_query(GuardianQuery())
    require(principal(), "people.guardian.read")
    if "student_id" in args:
        student_or_404(args["student_id"])  # a student out of reach is 404, not an empty list
    stmt = sa.select(Guardian).order_by(Guardian.id)
    if "student_id" in args:
        stmt = stmt.where(Guardian.id.in_(sa.select(GuardianLink.guardian_id).where(GuardianLink.student_id == args["student_id"])))
    if "q" in args:
        stmt = stmt.where(Guardian.name.startswith(args["q"]))
    out = paginate(stmt, args, lambda rows: GuardianOut(many=True).dump(svc.guardian_views(rows)))
    record("people.guardian.list", "guardian", None, detail={"returned": len(out["items"])})
    return jsonify(out)


@bp.get("/guardians/<int:guardian_id>")
@doc("Read one guardian (phone masked)", tags=["people"], response=GuardianOut)
def get_guardian(guardian_id: int):
    require(principal(), "people.guardian.read")
    gd = get_or_404(Guardian, guardian_id, "guardian")
    record("people.guardian.read", "guardian", gd.id)
    return jsonify(GuardianOut().dump(svc.guardian_view(gd)))


@bp.post("/guardians")
@doc("Create a guardian linked to one or more students", tags=["people"], body=GuardianIn, response=GuardianOut, status=201)
def create_guardian():
    data = load_body(GuardianIn())
    return jsonify(GuardianOut().dump(svc.guardian_view(svc.create_guardian(principal(), data)))), 201


@bp.patch("/guardians/<int:guardian_id>")
@doc("Update a guardian or add links", tags=["people"], body=GuardianIn(partial=True), response=GuardianOut)
def update_guardian(guardian_id: int):
    gd = get_or_404(Guardian, guardian_id, "guardian")
    data = load_body(GuardianIn(), partial=tuple(GuardianIn().fields))  # a link added is a whole link
    return jsonify(GuardianOut().dump(svc.guardian_view(svc.update_guardian(principal(), gd, data))))
