"""Who may see and do what. Staff see rankings and the students they reach (school-reach roles: the whole
school; homeroom and subject teachers: their classes). A student or a parent sees only their own (their
children's) score and entries and at most a band — never another student's score or any rank. A student
out of reach is 404, as elsewhere in Jizuo."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, g, request

from foundation.plugin_api import APIError, Forbidden, NotFound, Principal, Student, enabled_schools, session

NAME = "points"
OWN = "points.own.read"
RANK = "points.rank.read"
ENTRY = "points.entry.create"
REVERSE = "points.entry.reverse"
APPEAL = "points.appeal.create"
DECIDE = "points.appeal.decide"
RULEBOOK = "points.rulebook.manage"
ELIGIBLE = "points.eligibility.read"

CAPABILITIES = {
    OWN: {"zh": "查看本人（子女）的德育积分", "en": "See one's own (child's) conduct score"},
    RANK: {"zh": "查看德育积分和排名（教职工）", "en": "See conduct scores and rankings (staff)"},
    ENTRY: {"zh": "登记德育积分加减分", "en": "Record conduct credits and deductions"},
    REVERSE: {"zh": "冲正德育积分记录", "en": "Reverse conduct entries"},
    APPEAL: {"zh": "对德育积分记录提出申诉", "en": "Appeal a conduct entry"},
    DECIDE: {"zh": "处理德育积分申诉", "en": "Decide conduct appeals"},
    RULEBOOK: {"zh": "维护本校德育积分细则", "en": "Maintain the school's conduct rulebook"},
    ELIGIBLE: {"zh": "查看评优资格名单", "en": "See award eligibility lists"},
}
_STAFF = [RANK]
GRANTS = {
    "school_admin": [RANK, ENTRY, REVERSE, DECIDE, RULEBOOK, ELIGIBLE],
    "homeroom_teacher": [RANK, ENTRY, REVERSE, DECIDE, ELIGIBLE],
    "life_instructor": [RANK, ENTRY],
    "subject_teacher": [RANK],
    "psychology_teacher": [RANK],
    "aid_officer": [RANK, ELIGIBLE],
    "student": [OWN, APPEAL],
    "student_cadre": [OWN, APPEAL],
    "parent": [OWN, APPEAL],
}


def me() -> Principal:
    p = g.get("principal")
    if p is None:
        raise APIError("unauthorized", 401)
    return p


def school_for(cap: str) -> int:
    """The one school, among the caller's where the plugin is enabled, they act for with ``cap``."""
    p = me()
    schools = p.school_ids() & enabled_schools(NAME)
    wanted = request.args.get("school_id", type=int)
    if wanted is not None:
        schools &= {wanted}
    if not schools:
        abort(404)
    able = sorted(s for s in schools if p.can(cap, s))
    if not able:
        raise Forbidden(cap)
    return able[0]


def whole_school(p: Principal, school_id: int) -> bool:
    return school_id in p.scope().full_school_ids


def student(student_id: int) -> dict:
    """The student if the caller reaches them in a school where the plugin is enabled, else 404."""
    p = me()
    if not 0 < student_id < 2**31:
        raise NotFound("student")
    st = Student.__table__.c
    row = session().execute(sa.select(st.id, st.school_id, st.class_id, st.name, st.student_no)
                            .where(st.id == student_id)).first()
    if row is None or row.school_id not in (p.school_ids() & enabled_schools(NAME)):
        raise NotFound("student")
    scope = p.scope()
    if not (row.school_id in scope.full_school_ids or row.class_id in scope.class_ids or row.id in scope.student_ids):
        raise NotFound("student")
    return dict(row._mapping)


def is_staff_for(p: Principal, kid: dict) -> bool:
    """Staff reach (school or class) over the student, with the staff capability there."""
    scope = p.scope()
    reach = kid["school_id"] in scope.full_school_ids or kid["class_id"] in scope.class_ids
    return reach and p.can(RANK, kid["school_id"])


def require_staff(kid: dict) -> None:
    if not is_staff_for(me(), kid):
        raise Forbidden(RANK)


def require_family(kid: dict, cap: str = OWN) -> None:
    """The caller is the student or one of their parents and holds ``cap``."""
    p = me()
    if kid["id"] not in p.scope().student_ids or not p.can(cap, kid["school_id"]):
        raise Forbidden(cap)


def class_visible(class_id: int) -> int:
    """The school of a class the caller reaches as staff (404 otherwise)."""
    p = me()
    from foundation.plugin_api import OrgUnit

    ou = OrgUnit.__table__.c
    if not 0 < class_id < 2**31:
        raise NotFound("class")
    row = session().execute(sa.select(ou.id, ou.school_id).where(ou.id == class_id, ou.kind == "class")).first()
    if row is None or row.school_id not in (p.school_ids() & enabled_schools(NAME)):
        raise NotFound("class")
    scope = p.scope()
    if not (row.school_id in scope.full_school_ids or row.id in scope.class_ids):
        raise NotFound("class")
    if not p.can(RANK, row.school_id):
        raise Forbidden(RANK)
    return row.school_id
