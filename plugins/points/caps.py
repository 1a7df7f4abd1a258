"""The plugin's capabilities and which roles hold them. Who may see and do what: staff see rankings and the
students they reach (school-reach roles: the whole school; homeroom and subject teachers: their classes). A
student or a parent sees only their own (their children's) score and entries and at most a band — never
another student's score or any rank. Reach itself is the platform's (``plugin_api.student_or_404``…)."""
from __future__ import annotations

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
GRANTS = {
    "school_admin": [RANK, ENTRY, REVERSE, DECIDE, RULEBOOK, ELIGIBLE],
    "homeroom_teacher": [RANK, ENTRY, REVERSE, DECIDE, ELIGIBLE],
    "grade_head": [RANK, ELIGIBLE],
    "life_instructor": [RANK, ENTRY],
    "subject_teacher": [RANK],
    "psychology_teacher": [RANK],
    "aid_officer": [RANK, ELIGIBLE],  # a role the aid plugin brings: held only where both are installed
    "student": [OWN, APPEAL],
    "student_cadre": [OWN, APPEAL],
    "parent": [OWN, APPEAL],
}
