"""Need to know, written once. Every route, the profile section and the figures ask here before reading a
row of this plugin; the platform's scoping (``student_or_404``) comes first, this narrows it:

- ``full`` (answers, scores, signals): the school's psychology teachers and its wellbeing lead;
- ``levels`` (the level, the case and its deadlines; never answers or scores): the homeroom teacher of the
  student's own class — not a subject teacher, grade head or another class's homeroom teacher, even one who
  holds another role over the class;
- nothing for everyone else: school admins, the principal, the district, parents, other students. A student
  reads only that they took part (and their supportive page), never a level about themself.

Holding a role is not enough: the role must be held in the student's school where the plugin is enabled
(the capability), and for the homeroom teacher at the student's class.
"""
from __future__ import annotations

from typing import Any

from foundation.plugin_api import Forbidden, NotFound, Principal, StudentRef, me, school_for, student_or_404

NAME = "wellbeing"
ANSWERS = "wellbeing.answers.read"
LEVELS = "wellbeing.level.read"
MANAGE = "wellbeing.screening.manage"
FILL = "wellbeing.screening.fill"
CONSENT = "wellbeing.consent.answer"
FULL_ROLES = ("psychology_teacher", "wellbeing_lead")

CAPABILITIES = {
    ANSWERS: {"zh": "查看心理筛查的回答、分数和行为信号", "en": "See screening answers, scores and behaviour signals"},
    LEVELS: {"zh": "查看本班学生的关注等级和预警", "en": "See the follow-up level and case of one's own class"},
    MANAGE: {"zh": "安排心理筛查、提醒未完成的学生", "en": "Schedule screenings and remind students"},
    FILL: {"zh": "填写自己的心理筛查", "en": "Fill in one's own screening"},
    CONSENT: {"zh": "作为监护人同意或拒绝子女参加心理筛查", "en": "Consent (or not) to a child's screening as a guardian"},
}
GRANTS = {
    "psychology_teacher": [ANSWERS, MANAGE],
    "wellbeing_lead": [ANSWERS, MANAGE],
    "homeroom_teacher": [LEVELS],
    "student": [FILL],
    "student_cadre": [FILL],
    "parent": [CONSENT],
}
ROLES = [{"name": "wellbeing_lead", "zh": "心理健康负责人", "en": "Wellbeing lead", "reach": "school",
          "capabilities": ["people.student.read", "people.guardian.read", "alerts.case.read", "alerts.case.act"]}]


def _holds(p: Principal, roles: tuple[str, ...], school_id: int, class_id: int | None = None) -> bool:
    return any(g.role in roles and g.school_id == school_id and (class_id is None or class_id in g.class_ids)
               for g in p.grants)


def access(p: Principal, student: StudentRef) -> str | None:
    """``"full"``, ``"levels"`` or None: what ``p`` may know of ``student``'s wellbeing."""
    if p.machine:
        return None  # no client credential reads a child's psychology
    school = student.school_id
    if p.can(ANSWERS, school) and _holds(p, FULL_ROLES, school):
        return "full"
    if student.class_id is not None and p.can(LEVELS, school) and \
            _holds(p, ("homeroom_teacher",), school, student.class_id):
        return "levels"
    return None


def staff_kind(p: Principal, school_id: int) -> str | None:
    """What ``p`` is here as staff: ``full`` for the school, ``levels`` for their homeroom classes."""
    if p.machine:
        return None
    if p.can(ANSWERS, school_id) and _holds(p, FULL_ROLES, school_id):
        return "full"
    if p.can(LEVELS, school_id) and _holds(p, ("homeroom_teacher",), school_id):
        return "levels"
    return None


def staff_school(kind: str | None = None) -> tuple[int, str]:
    """The school the caller works in here and what they may know there (``full`` or ``levels``), or 404:
    to anyone else these pages do not exist (no 403 that would say there is something to forbid)."""
    p = me()
    try:
        school = school_for(ANSWERS if p.can(ANSWERS) else LEVELS, NAME)
    except Forbidden:
        raise NotFound("page") from None
    have = staff_kind(p, school)
    if have is None or (kind is not None and have != kind):
        raise NotFound("page")
    return school, have


def homeroom_classes(p: Principal, school_id: int) -> set[int]:
    return {c for g in p.grants if g.role == "homeroom_teacher" and g.school_id == school_id for c in g.class_ids}


def student_for(student_id: int, need: str = "levels") -> tuple[StudentRef, str]:
    """The student and the caller's access, or 404 — the same answer whether the student is out of reach or
    merely not the caller's to know about (existence is not revealed either)."""
    student = student_or_404(student_id, plugin=NAME)
    have = access(me(), student)
    if have is None or (need == "full" and have != "full"):
        raise NotFound("student")
    return student, have


def view_case(row: Any, have: str) -> dict[str, Any]:
    """A response as ``have`` may see it: the level and deadlines for ``levels``, everything for ``full``."""
    from plugins.wellbeing.present import iso

    out = {"student_id": row.student_id, "screening_id": row.screening_id, "level": row.level,
           "case_id": row.case_id, "contact_due_at": iso(row.contact_due_at), "plan_due_at": iso(row.plan_due_at),
           "follow_due_at": iso(row.follow_due_at), "case_closed_at": iso(row.case_closed_at),
           "submitted_at": iso(row.submitted_at), "reasons": row.reasons if have == "full" else None}
    if have == "full":
        out.update(instrument=row.instrument, total=row.total, band=row.band, item9=row.item9,
                   answers=list(row.answers), extra=row.extra)
    return out
