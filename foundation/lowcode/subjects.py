"""Whom a submission is about, checked against the submitter's reach before anything is written.

A form field bound to the student base library (``x-jizuo-binding: student``, the student number) accepts
only a student the submitter may report on for this form; a class field (``class``, the class code) only
a class in that reach; a staff field (``staff``) only staff of the form's school. The reach comes from the
roles the submitter holds in the form's school that the app lets fill it (all their roles when the app
names none), narrowed to the app's classes:

- a parent: their own children; a student: themself; a student cadre: their own class;
- a homeroom teacher, subject teacher or grade head: the classes they hold;
- school-wide roles (and a district admin who entered the school): the whole school.

Anything else is a 422 naming the field. The submission's student is the one the data names (else the
submitting student, or a parent's only child); events carry it resolved.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.models import OrgUnit, Staff, Student
from foundation.permissions import ROLES, Principal
from foundation.tenancy import unscoped

# names are looked up in the whole school, then held against the reach below, which is the authority (a
# cadre reaches their class for hygiene scores though their own view is themself); not found and out of
# reach answer alike
LOOKUP = unscoped("a form's bound fields are looked up in the form's school, then checked against the reach")


@dataclass
class FieldReach:
    whole_school: bool = False
    class_ids: set[int] = field(default_factory=set)
    student_ids: set[int] = field(default_factory=set)

    def student(self, student_id: int, class_id: int | None) -> bool:
        return self.whole_school or student_id in self.student_ids or class_id in self.class_ids

    def klass(self, class_id: int, family_classes: set[int]) -> bool:
        return self.whole_school or class_id in self.class_ids or class_id in family_classes


@dataclass
class Subject:
    student_id: int | None = None
    class_id: int | None = None
    student_no: str | None = None
    errors: dict[str, str] = field(default_factory=dict)


def field_reach(sess: so.Session, p: Principal, app: dict, school_id: int) -> FieldReach:
    """The students ``p`` may name in a form of ``app`` in ``school_id``."""
    audience = app.get("audience") or {}
    fill, classes = set(audience.get("fill") or []), set(audience.get("classes") or [])
    out = FieldReach()
    if p.machine:
        out.whole_school = school_id in p.school_ids()
    own = {p.person_id} if p.person_kind == "student" and p.person_id else set()
    for g in p.grants:
        role = ROLES.get(g.role)
        if role is None or (fill and g.role not in fill):
            continue
        if role.reach == "district":
            out.whole_school |= p.district_school_id == school_id
        elif g.school_id != school_id:
            continue
        elif role.reach == "school":
            out.whole_school = True
        elif role.reach == "class":
            out.class_ids |= set(g.class_ids)
        elif g.role == "student_cadre":
            out.class_ids |= {c for c in sess.scalars(sa.select(Student.class_id).where(Student.id.in_(own))) if c}
        elif role.reach == "self":
            out.student_ids |= own
        elif role.reach == "children":
            out.student_ids |= set(p.children_ids)
    if classes:
        if out.whole_school:
            out.whole_school, out.class_ids = False, set(classes)
        else:
            out.class_ids &= classes
    return out


def _bound(schema: Any, data: Any, path: str = ""):
    """``(path, binding, value)`` for every bound field present in ``data``, nested ones included."""
    if not isinstance(schema, dict):
        return
    binding = schema.get("x-jizuo-binding")
    if binding is not None and isinstance(data, str) and data:
        yield path, binding, data
    if isinstance(data, dict):
        for key, sub in (schema.get("properties") or {}).items():
            if key in data:
                yield from _bound(sub, data[key], f"{path}.{key}" if path else key)
    elif isinstance(data, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(data):
            yield from _bound(schema["items"], item, f"{path}.{i}")


def resolve(sess: so.Session, schema: dict, data: Any, p: Principal, app: dict, school_id: int) -> Subject:
    """Check every bound value of ``data`` against ``p``'s reach and name the submission's subject."""
    from foundation.lowcode.apps import student_field

    out = Subject()
    bound = list(_bound(schema, data))
    if not bound:
        return _fallback(sess, p, out)
    reach = field_reach(sess, p, app, school_id)
    with LOOKUP.for_school(sess, school_id):
        _check(sess, bound, reach, student_field(schema), school_id, out)
    if out.errors:
        return out
    return out if out.student_id is not None else _fallback(sess, p, out)


def _check(sess: so.Session, bound: list, reach: FieldReach, top: str | None, school_id: int, out: Subject) -> None:
    st, ou = Student.__table__.c, OrgUnit.__table__.c
    for path, binding, value in bound:
        if binding == "student":
            row = sess.execute(sa.select(st.id, st.class_id).where(
                st.school_id == school_id, st.student_no == value[:32])).first()
            if row is None or not reach.student(row.id, row.class_id):
                out.errors[path] = "lowcode.student_out_of_reach"
            elif path == top:
                out.student_id, out.class_id, out.student_no = row.id, row.class_id, value
        elif binding == "class":
            cid = sess.scalar(sa.select(ou.id).where(ou.school_id == school_id, ou.kind == "class",
                                                     ou.code == value[:40]))
            family = {c for c in sess.scalars(sa.select(st.class_id).where(st.id.in_(reach.student_ids))) if c} \
                if reach.student_ids else set()
            if cid is None or not reach.klass(cid, family):
                out.errors[path] = "lowcode.class_out_of_reach"
            elif out.class_id is None and out.student_id is None:
                out.class_id = cid
        elif binding == "staff":
            if sess.scalar(sa.select(Staff.__table__.c.id).where(
                    Staff.__table__.c.school_id == school_id, Staff.__table__.c.staff_no == value[:32])) is None:
                out.errors[path] = "lowcode.staff_unknown"


def _fallback(sess: so.Session, p: Principal, out: Subject) -> Subject:
    """No student named: the submitting student, else a parent's only child."""
    sid = p.person_id if p.person_kind == "student" else \
        next(iter(p.children_ids)) if len(p.children_ids) == 1 else None
    if sid is not None:
        row = sess.execute(sa.select(Student.id, Student.class_id, Student.student_no)
                           .where(Student.id == sid)).first()
        if row is not None:
            out.student_id, out.class_id, out.student_no = row.id, row.class_id, row.student_no
    return out
