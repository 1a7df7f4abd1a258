"""Who reaches whom, written once: the caller's school for a capability, a student or class the caller
reaches (else 404), family and staff checks. The core's routes and every plugin (through
``foundation.plugin_api``) ask here, so the rules cannot drift apart.

Lookups go through the request's session, which the tenancy layer scopes: a student outside the caller's
reach (another school, another class, another family) is simply not found.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import sqlalchemy as sa
from flask import g, request

from foundation import db
from foundation.errors import APIError, NotFound, ValidationFailed
from foundation.permissions import Forbidden, Principal
from foundation.tenancy import narrow as _narrow
from foundation.tenancy import narrowed

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


def school_for(capability: str, plugin: str | None = None, *, explicit: bool = False, narrow: bool = True) -> int:
    """The school the caller acts for with ``capability``: among their schools (where ``plugin`` is
    enabled), the one ``?school_id=`` names, else the first where they hold it. 404 when they reach no such
    school, 403 when they hold the capability in none; with ``explicit``, a caller of several schools must
    name one (422). From here on the request's session sees that school only (``tenancy.narrow``), unless
    ``narrow`` is False (a home-page widget: use :func:`acting_in` for its block)."""
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
    if narrow:
        _narrow(db.session(), able[0])
    return able[0]


def narrow_to(school_id: int) -> None:
    """The rest of the request concerns one school (a route about one student): the session sees that
    school only, of what the caller reaches."""
    _narrow(db.session(), school_id)


@contextmanager
def acting_in(school_id: int) -> Iterator[None]:
    """A block of the request that concerns one school (one child of a family with children in two
    schools, one student's profile): the session sees that school only, of what the caller reaches."""
    with narrowed(db.session(), school_id):
        yield


def student_or_404(student_id: int, plugin: str | None = None) -> StudentRef:
    """The student, if the caller reaches them (and ``plugin`` is enabled in their school), else 404."""
    from foundation.models import Student

    me()  # nobody signed in: 401, not "not found"
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

    me()
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


def classes_in_reach(school_id: int, plugin: str | None = None) -> list[ClassRef]:
    """The classes of ``school_id`` the caller reaches as staff (all of them for school-wide staff, else the
    classes they hold), in the school's order; empty where ``plugin`` is not enabled."""
    from foundation.models import OrgUnit

    enabled = _enabled(plugin)
    if enabled is not None and school_id not in enabled:
        return []
    p, ou = me(), OrgUnit.__table__.c
    scope = p.scope()
    stmt = sa.select(ou.id, ou.school_id, ou.name, ou.parent_id).where(ou.school_id == school_id, ou.kind == "class")
    if school_id not in scope.full_school_ids:
        stmt = stmt.where(ou.id.in_(sorted(scope.class_ids)))
    return [ClassRef(id=r.id, school_id=r.school_id, name=r.name, grade_id=r.parent_id)
            for r in db.session().execute(stmt.order_by(ou.code, ou.id))]


def class_in_reach(p: Principal, class_id: int, school_id: int) -> bool:
    """Staff of the whole school, or staff holding the class (homeroom, subject teacher, grade head)."""
    scope = p.scope()
    return school_id in scope.full_school_ids or class_id in scope.class_ids


def family_students(plugin: str | None = None) -> list[StudentRef]:
    """The caller's own record (a student) or children (a parent), where ``plugin`` is enabled."""
    out = []
    for sid in sorted(me().scope().student_ids):
        try:
            out.append(student_or_404(sid, plugin))
        except NotFound:
            continue
    return out


def whole_school(school_id: int, p: Principal | None = None) -> bool:
    """Does the caller reach every student of the school (school-wide staff), not only some classes?"""
    return school_id in (p or me()).scope().full_school_ids


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
