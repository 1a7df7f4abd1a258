"""Org units and classes."""
from __future__ import annotations

import sqlalchemy as sa
from flask import jsonify

from foundation import db
from foundation.api.blueprint import bp, doc
from foundation.api.common import get_or_404, load_body, load_query, paginate, principal
from foundation.api.schemas import ClassOut, ClassQuery, OrgQuery, OrgUnitIn, OrgUnitOut
from foundation.errors import NotFound, ValidationFailed
from foundation.models import Account, Membership, OrgUnit, Student
from foundation.permissions import require
from foundation.services import org as org_service

UNIT_FILTERS = ("parent_id", "grade_id", "class_id")


def filters_or_404(args: dict) -> None:
    """A list filtered by a school, grade or class the caller does not reach answers 404, like the unit
    itself (another school's unit is not found; no list answers "empty" about it)."""
    if "school_id" in args and args["school_id"] not in principal().school_ids():
        raise NotFound("school")
    for key in UNIT_FILTERS:
        if key in args:
            get_or_404(OrgUnit, args[key], "org_unit")


@bp.get("/org-units")
@doc("List org units (district, schools, grades, classes, departments)", tags=["org"], query=OrgQuery,
     response=OrgUnitOut, many=True)
def list_org_units():
    args = load_query(OrgQuery())
    require(principal(), "org.read")
    filters_or_404(args)
    stmt = sa.select(OrgUnit).order_by(OrgUnit.kind, OrgUnit.school_id, OrgUnit.seq, OrgUnit.id)
    for key in ("kind", "parent_id", "school_id"):
        if key in args:
            stmt = stmt.where(getattr(OrgUnit, key) == args[key])
    return jsonify(paginate(stmt, args, OrgUnitOut(many=True).dump))


@bp.get("/org-units/<int:unit_id>")
@doc("Read one org unit", tags=["org"], response=OrgUnitOut)
def get_org_unit(unit_id: int):
    require(principal(), "org.read")
    return jsonify(OrgUnitOut().dump(get_or_404(OrgUnit, unit_id, "org_unit")))


@bp.post("/org-units")
@doc("Create a school (district admin), grade, class or department", tags=["org"], body=OrgUnitIn,
     response=OrgUnitOut, status=201)
def create_org_unit():
    data = load_body(OrgUnitIn())
    unit = org_service.create_unit(principal(), data)
    return jsonify(OrgUnitOut().dump(unit)), 201


@bp.patch("/org-units/<int:unit_id>")
@doc("Update an org unit", tags=["org"], body=OrgUnitIn(partial=True), response=OrgUnitOut)
def update_org_unit(unit_id: int):
    unit = get_or_404(OrgUnit, unit_id, "org_unit")
    data = load_body(OrgUnitIn(), partial=True)
    if "kind" in data or "parent_id" in data:
        raise ValidationFailed({k: ["org.immutable"] for k in ("kind", "parent_id") if k in data})
    return jsonify(OrgUnitOut().dump(org_service.update_unit(principal(), unit, data)))


def _class_rows(units: list[OrgUnit]) -> list[dict]:
    ids = [u.id for u in units]
    sess = db.session()
    counts = dict(sess.execute(
        sa.select(Student.class_id, sa.func.count()).where(Student.class_id.in_(ids)).group_by(Student.class_id)
    ).all())
    heads: dict[int, list[str]] = {}
    for cid, name in sess.execute(
        sa.select(Membership.org_unit_id, Account.display_name).join(Account)
        .where(Membership.org_unit_id.in_(ids), Membership.role == "homeroom_teacher")
    ):
        heads.setdefault(cid, []).append(name)
    out = OrgUnitOut(many=True).dump(units)
    for row in out:
        row["student_count"] = counts.get(row["id"], 0)
        row["homeroom_teachers"] = heads.get(row["id"], [])
    return out


@bp.get("/classes")
@doc("List classes with size and homeroom teacher", tags=["org"], query=ClassQuery, response=ClassOut, many=True)
def list_classes():
    args = load_query(ClassQuery())
    require(principal(), "org.read")
    filters_or_404(args)
    stmt = sa.select(OrgUnit).where(OrgUnit.kind == "class").order_by(OrgUnit.school_id, OrgUnit.parent_id, OrgUnit.seq)
    if "school_id" in args:
        stmt = stmt.where(OrgUnit.school_id == args["school_id"])
    if "grade_id" in args:
        stmt = stmt.where(OrgUnit.parent_id == args["grade_id"])
    return jsonify(paginate(stmt, args, _class_rows))


@bp.get("/classes/<int:class_id>")
@doc("Read one class", tags=["org"], response=ClassOut)
def get_class(class_id: int):
    require(principal(), "org.read")
    unit = get_or_404(OrgUnit, class_id, "class")
    if unit.kind != "class":
        raise NotFound("class")
    return jsonify(_class_rows([unit])[0])
