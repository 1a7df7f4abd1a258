"""Who may see and do what. The label and its figures are for the review roles only: the homeroom teacher of
the student's own class and the school's aid officer (资助专干). Nobody else — not a subject teacher who
teaches the class, not another homeroom teacher, not the student, not a parent, not district staff — sees a
candidate, an indicator or a declaration; for them the routes answer 404, as if nothing existed. The school
admin and the principal see the school's coverage counts, never names."""
from __future__ import annotations

from foundation.plugin_api import Principal, StudentRef

NAME = "aid"
REVIEW = "aid.candidate.review"
COVERAGE = "aid.coverage.read"
AWAY = "aid.away.manage"
REVIEW_ROLES = ("homeroom_teacher", "aid_officer")

CAPABILITIES = {
    REVIEW: {"zh": "复核本人范围内的潜在困难学生", "en": "Review the possible-difficulty candidates in one's reach"},
    COVERAGE: {"zh": "查看本校资助覆盖统计（不含姓名）", "en": "See the school's aid coverage (no names)"},
    AWAY: {"zh": "登记实习周和离校时段", "en": "Record internship weeks and time away"},
}
GRANTS = {
    "homeroom_teacher": [REVIEW],
    "aid_officer": [REVIEW, COVERAGE, AWAY],
    "school_admin": [COVERAGE],
    "principal": [COVERAGE],
}
ROLES = [{"name": "aid_officer", "zh": "资助专干", "en": "Aid officer", "reach": "school",
          "capabilities": ["org.read", "people.student.read", "people.staff.read", "people.guardian.read",
                           "records.*.read", "lowcode.form.read", "lowcode.approve", "alerts.case.read",
                           "alerts.case.act"]}]


def officer_in(p: Principal, school_id: int) -> bool:
    return p.can(REVIEW, school_id) and any(g.role == "aid_officer" and g.school_id == school_id for g in p.grants)


def homeroom_classes(p: Principal, school_id: int) -> set[int]:
    """The classes whose homeroom teacher the caller is, in the school (never their subject classes)."""
    if not p.can(REVIEW, school_id):
        return set()
    out: set[int] = set()
    for g in p.grants:
        if g.role == "homeroom_teacher" and g.school_id == school_id:
            out |= set(g.class_ids) | {g.org_unit_id}
    return out


def reviews(p: Principal, student: StudentRef) -> bool:
    """Is the caller a review role for this student: their school's aid officer, or their homeroom teacher."""
    return officer_in(p, student.school_id) or (student.class_id is not None and
                                                 student.class_id in homeroom_classes(p, student.school_id))
