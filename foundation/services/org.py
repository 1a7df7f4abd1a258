"""Creating and changing org units."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from foundation import db
from foundation.audit import record
from foundation.errors import ValidationFailed
from foundation.models import OrgUnit
from foundation.permissions import Principal, require
from foundation.tenancy import unscoped

CODES = unscoped("org unit codes are unique across the district")
SCHOOLS = unscoped("creating or changing a school or the district node: checked (district.cross_school), audited")

# which kind of unit may hang under which
PARENTS = {"school": {"district"}, "grade": {"school"}, "class": {"grade"}, "department": {"school", "department"}}


def create_unit(principal: Principal, data: dict[str, Any]) -> OrgUnit:
    sess = db.session()
    parent = sess.scalar(sa.select(OrgUnit).where(OrgUnit.id == data["parent_id"]))
    if parent is None:
        raise ValidationFailed({"parent_id": ["org.parent_unknown"]})
    if parent.kind not in PARENTS[data["kind"]]:
        raise ValidationFailed({"parent_id": ["org.parent_kind"]})
    if data["kind"] == "school":
        require(principal, "district.cross_school")
        if not data.get("code") or not data["code"].isdigit() or len(data["code"]) != 10:
            raise ValidationFailed({"code": ["org.school_code"]})
    else:
        require(principal, "org.manage", parent.school_id)
    if data.get("code") and sess.scalar(
        sa.select(OrgUnit.id).where(OrgUnit.code == data["code"]), execution_options=CODES
    ):
        raise ValidationFailed({"code": ["org.code_taken"]})
    unit = OrgUnit(**{k: v for k, v in data.items() if k != "parent_id"}, parent_id=parent.id)
    if data["kind"] != "school":
        unit.school_id = parent.school_id
    if data["kind"] == "school":
        with SCHOOLS.on(sess):
            sess.add(unit)
            sess.flush()
            unit.school_id = unit.id
            sess.flush()
    else:
        sess.add(unit)
        sess.flush()
    record("org.unit.create", "org_unit", unit.id, school_id=unit.school_id, detail={"kind": unit.kind})
    return unit


def update_unit(principal: Principal, unit: OrgUnit, data: dict[str, Any]) -> OrgUnit:
    if unit.kind in ("district", "school"):
        require(principal, "district.cross_school")
    else:
        require(principal, "org.manage", unit.school_id)
    if data.get("code") and db.session().scalar(
        sa.select(OrgUnit.id).where(OrgUnit.code == data["code"], OrgUnit.id != unit.id),
        execution_options=CODES,
    ):
        raise ValidationFailed({"code": ["org.code_taken"]})
    for k, v in data.items():
        setattr(unit, k, v)
    if unit.kind in ("district", "school"):
        with SCHOOLS.on(db.session()):
            db.session().flush()
    else:
        db.session().flush()
    record("org.unit.update", "org_unit", unit.id, school_id=unit.school_id, detail={"fields": sorted(data)})
    return unit
