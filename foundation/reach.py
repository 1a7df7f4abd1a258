"""Who reaches whom, written once: the caller's school for a capability, a student or class the caller
reaches (else 404), family and staff checks. The core's routes and every plugin (through
``foundation.plugin_api``) ask here, so the rules cannot drift apart.

Lookups go through the request's session, which the tenancy layer scopes: a student outside the caller's
reach (another school, another class, another family) is simply not found.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import g, request

from foundation import db
from foundation.errors import APIError, NotFound, ValidationFailed
from foundation.permissions import Forbidden, Principal

INT_MAX = 2**31 - 1


@dataclass(frozen=True)
class StudentRef:
    id: int
    school_id: int
    class_id: int | None
    name: str
    student_no: str


@dataclass(frozen=True)
class ClassRef:
    id: int
    school_id: int
    name: str
    grade_id: int | None


def me() -> Principal:
    """The principal of the request (401 when nobody is signed in)."""
    p = g.get("principal")
    if p is None:
        raise APIError("unauthorized", 401)
    return p


def _enabled(plugin: str | None) -> set[int] | None:
    if plugin is None:
        return None
    from foundation.plugin_runtime import enabled_schools

    return enabled_schools(plugin)


def school_for(capability: str, plugin: str | None = None, *, explicit: bool = False) -> int:
    """The school the caller acts for with ``capability``: among their schools (where ``plugin`` is
    enabled), the one ``?school_id=`` names, else the first where they hold it. 404 when they reach no such
    school, 403 when they hold the capability in none; with ``explicit``, a caller of several schools must
    name one (422)."""
    p = me()
    schools = p.school_ids()
    enabled = _enabled(plugin)
    if enabled is not None:
        schools &= enabled
    wanted = request.args.get("school_id", type=int) if request else None
    if wanted is not None:
        if wanted not in schools:
            raise NotFound("school")
        schools = {wanted}
    if not schools:
        raise NotFound("school")
    able = sorted(s for s in schools if p.can(capability, s))
    if not able:
        raise Forbidden(capability)
    if explicit and len(able) > 1:
        raise ValidationFailed({"school_id": ["field.required"]})
    return able[0]


def student_or_404(student_id: int, plugin: str | None = None) -> StudentRef:
    """The student, if the caller reaches them (and ``plugin`` is enabled in their school), else 404."""
    from foundation.models import Student

    if not isinstance(student_id, int) or isinstance(student_id, bool) or not 0 < student_id <= INT_MAX:
        raise NotFound("student")
    st = Student.__table__.c
    row = db.session().execute(sa.select(st.id, st.school_id, st.class_id, st.name, st.student_no)
                               .where(st.id == student_id)).first()
    enabled = _enabled(plugin)
    if row is None or (enabled is not None and row.school_id not in enabled):
        raise NotFound("student")
    return StudentRef(**row._mapping)


def class_or_404(class_id: int, plugin: str | None = None) -> ClassRef:
    """A class of a school the caller reaches (and where ``plugin`` is enabled), else 404. Whether the
    caller may see its students is :func:`class_in_reach`."""
    from foundation.models import OrgUnit

    if not isinstance(class_id, int) or isinstance(class_id, bool) or not 0 < class_id <= INT_MAX:
        raise NotFound("class")
    ou = OrgUnit.__table__.c
    row = db.session().execute(sa.select(ou.id, ou.school_id, ou.name, ou.parent_id)
                               .where(ou.id == class_id, ou.kind == "class")).first()
    enabled = _enabled(plugin)
    if row is None or (enabled is not None and row.school_id not in enabled):
        raise NotFound("class")
    if not class_in_reach(me(), row.id, row.school_id):
        raise NotFound("class")
    return ClassRef(id=row.id, school_id=row.school_id, name=row.name, grade_id=row.parent_id)


def class_in_reach(p: Principal, class_id: int, school_id: int) -> bool:
    """Staff of the whole school, or staff holding the class (homeroom, subject teacher, grade head)."""
    scope = p.scope()
    return school_id in scope.full_school_ids or class_id in scope.class_ids


def is_family(p: Principal, student: StudentRef) -> bool:
    """The student themself or one of their guardians."""
    return student.id in p.scope().student_ids


def is_staff_for(p: Principal, student: StudentRef, capability: str | None = None) -> bool:
    """Staff reach over the student (the whole school, or the student's class), holding ``capability``
    in the student's school when one is named."""
    reach = student.class_id is not None and class_in_reach(p, student.class_id, student.school_id) or \
        student.school_id in p.scope().full_school_ids
    return reach and (capability is None or p.can(capability, student.school_id))


def require_family(student: StudentRef, capability: str) -> None:
    """403 unless the caller is the student or their guardian and holds ``capability`` there."""
    p = me()
    if not is_family(p, student) or not p.can(capability, student.school_id):
        raise Forbidden(capability)


def require_staff(student: StudentRef, capability: str) -> None:
    """403 unless the caller is staff over the student holding ``capability`` in their school."""
    if not is_staff_for(me(), student, capability):
        raise Forbidden(capability)
