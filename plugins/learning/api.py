"""The plugin's JSON API under /learning/api (gated per school by the host). A student's map: the student,
their parents, and staff who reach them (audited); a class's heat map: its teachers; the knowledge map,
item tags and resources: read by staff, written by holders of ``learning.catalogue.manage``; value added: a
teacher their own figures, the school's leadership all of the school's."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, jsonify, request

from foundation.plugin_api import (
    NotFound,
    StudentRef,
    ValidationFailed,
    api_doc,
    audit,
    class_or_404,
    current_lang,
    is_family,
    is_staff_for,
    json_body,
    me,
    narrow_to,
    require,
    school_for,
    session,
    staff_of,
    student_or_404,
    text_field,
    utcnow,
)
from plugins.learning import caps as A
from plugins.learning import catalogue, present, valueadded
from plugins.learning.models import Plan, Resource


def reach_student(student_id: int) -> tuple[StudentRef, bool]:
    """The student and whether the caller is staff for them; a family member sees only their own."""
    kid = student_or_404(student_id, A.NAME)
    p = me()
    staff = is_staff_for(p, kid, A.MAP)
    if not staff and not (is_family(p, kid) and p.can(A.OWN, kid.school_id)):
        raise NotFound("student")
    narrow_to(kid.school_id)
    return kid, staff


def class_school(class_id: int) -> int:
    klass = class_or_404(class_id, A.NAME)
    require(me(), A.MAP, klass.school_id)
    narrow_to(klass.school_id)
    return klass.school_id


@api_doc("A student's learning map: mastery per knowledge-point group and subject, weak points, the term's "
         "trend, pushes and plans (the student, their parents, staff who reach them)", tags=["learning"])
def student_map(student_id: int):
    kid, staff = reach_student(student_id)
    if staff:
        audit("learning.map.read", "student", kid.id, school_id=kid.school_id)
    return jsonify(present.student_map(session(), kid.id, kid.school_id, current_lang()) | {"name": kid.name,
                                                                                          "at": present.iso(utcnow())})


@api_doc("A class's heat map of mastery (students × knowledge points of one subject) and its weakest points",
         tags=["learning"])
def class_heatmap(class_id: int):
    school = class_school(class_id)
    subject = request.args.get("subject", "math")
    if subject not in catalogue.SUBJECTS:
        raise ValidationFailed({"subject": ["learning.point.bad_subject"]})
    audit("learning.heatmap.read", "class", class_id, school_id=school)
    return jsonify(present.class_heatmap(session(), class_id, school, subject, current_lang()))


@api_doc("The school's knowledge map", tags=["learning"])
def list_points():
    school_for(A.MAP, A.NAME)
    return jsonify({"items": [catalogue.point_view(p) for p in catalogue.points(session())]})


@api_doc("Add or rename a knowledge point in the school's map", tags=["learning"], status=201,
         body={"type": "object", "required": ["code", "name", "subject"], "properties": {
             "code": {"type": "string"}, "name": {"type": "string"}, "name_en": {"type": "string"},
             "subject": {"type": "string"}, "grade": {"type": "integer"}, "parent_code": {"type": "string"}}})
def add_point():
    school = school_for(A.CATALOGUE, A.NAME)
    data = json_body()
    catalogue.add_points(session(), school, [data])
    audit("learning.point.save", "knowledge_point", str(data.get("code"))[:64], school_id=school)
    session().commit()
    return jsonify({"ok": True}), 201


def _csv() -> str:
    raw = request.files["file"].read() if "file" in request.files else request.get_data()
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    raise ValidationFailed({"file": ["learning.csv.unreadable"]})


CSV_BODY = {"type": "string", "description": "the CSV text (UTF-8 or GB18030), or a multipart/form-data field 'file'"}


@api_doc("Import knowledge points from CSV (subject,grade,code,name,name_en,parent_code); all or nothing",
         tags=["learning"], status=201, body=CSV_BODY)
def import_points():
    school = school_for(A.CATALOGUE, A.NAME)
    rows = catalogue._rows(_csv())
    if not rows:
        raise ValidationFailed({"file": ["learning.csv.empty"]})
    n = catalogue.add_points(session(), school, rows)
    audit("learning.point.import", "knowledge_point", None, school_id=school, detail={"rows": n})
    session().commit()
    return jsonify({"imported": n}), 201


@api_doc("Import item tags, the Q-matrix, from CSV (item_id,subject,knowledge_points); all or nothing",
         tags=["learning"], status=201, body=CSV_BODY)
def import_items():
    school = school_for(A.CATALOGUE, A.NAME)
    n = catalogue.import_items(session(), school, _csv())
    audit("learning.item.import", "item", None, school_id=school, detail={"rows": n})
    session().commit()
    return jsonify({"imported": n}), 201


@api_doc("The resource library", tags=["learning"])
def list_resources():
    school_for(A.MAP, A.NAME)
    rows = session().scalars(sa.select(Resource).order_by(Resource.subject, Resource.id))
    return jsonify({"items": [catalogue.resource_view(r) for r in rows]})


@api_doc("Add a micro-lesson or question set to the school's resource library", tags=["learning"], status=201,
         body={"type": "object", "required": ["title", "url", "kind", "subject", "points"], "properties": {
             "title": {"type": "string"}, "url": {"type": "string"}, "kind": {"type": "string"},
             "subject": {"type": "string"}, "grade": {"type": "integer"}, "minutes": {"type": "integer"},
             "points": {"type": "array", "items": {"type": "string"}}}})
def add_resource():
    school = school_for(A.CATALOGUE, A.NAME)
    res = catalogue.add_resource(session(), school, json_body(), me().display_name)
    audit("learning.resource.create", "resource", res.id, school_id=school)
    session().commit()
    return jsonify(catalogue.resource_view(res)), 201


@api_doc("Write a personal learning plan for a student (一生一案)", tags=["learning"], status=201,
         body={"type": "object", "required": ["text"], "properties": {
             "text": {"type": "string"}, "code": {"type": "string"}}})
def add_plan(student_id: int):
    kid, staff = reach_student(student_id)
    if not staff or not me().can(A.PLAN, kid.school_id):
        raise NotFound("student")
    data = json_body()
    text = text_field(data, "text", limit=1000)
    code = data.get("code") or None
    if code is not None and code not in {p.code for p in catalogue.points(session())}:
        raise ValidationFailed({"code": ["learning.item.unknown_point"]})
    p = me()
    row = Plan(school_id=kid.school_id, student_id=kid.id, code=code, text=text, created_by=p.account_id,
               created_by_name=p.display_name, created_at=utcnow())
    session().add(row)
    session().flush()
    audit("learning.plan.create", "student", kid.id, school_id=kid.school_id)
    session().commit()
    return jsonify({"id": row.id}), 201


@api_doc("Value added per class and per teacher in one subject, three methods with 95% intervals: the "
         "school's leadership see all of the school's, a teacher only their own", tags=["learning"])
def value_added():
    school = school_for(A.VALUE, A.NAME)
    subject = request.args.get("subject", "math")
    if subject not in catalogue.SUBJECTS:
        raise ValidationFailed({"subject": ["learning.point.bad_subject"]})
    p = me()
    leader = bool({g.role for g in p.grants if g.school_id == school} & set(A.LEADERS))
    sess = session()
    teachers = valueadded.teachers_by_subject(staff_of(sess, school), subject, A.SUBJECT_NAMES)
    if not leader:
        teachers = {k: v for k, v in teachers.items() if k[0] == p.account_id}
    out = valueadded.report(valueadded.frame(sess, subject), {name: ids for (_, name), ids in teachers.items()})
    names = {c.id: c.name for c in _classes(school)}
    mine = {c for ids in teachers.values() for c in ids}
    out["classes"] = [c | {"name": names.get(c["class_id"], "")} for c in out["classes"]
                      if leader or c["class_id"] in mine]
    audit("learning.value.read", "subject", subject, school_id=school)
    return jsonify(out | {"subject": subject, "scope": "school" if leader else "own"})


def _classes(school: int):
    from foundation.plugin_api import OrgUnit

    return session().execute(sa.select(OrgUnit.id, OrgUnit.name).where(OrgUnit.kind == "class")).all()


def register(bp: Blueprint) -> None:
    r = bp.add_url_rule
    r("/api/students/<int:student_id>/map", "api_student_map", student_map)
    r("/api/students/<int:student_id>/plans", "api_add_plan", add_plan, methods=["POST"])
    r("/api/classes/<int:class_id>/heatmap", "api_class_heatmap", class_heatmap)
    r("/api/points", "api_points", list_points)
    r("/api/points", "api_add_point", add_point, methods=["POST"])
    r("/api/points/import", "api_import_points", import_points, methods=["POST"])
    r("/api/items/import", "api_import_items", import_items, methods=["POST"])
    r("/api/resources", "api_resources", list_resources)
    r("/api/resources", "api_add_resource", add_resource, methods=["POST"])
    r("/api/value-added", "api_value_added", value_added)
