"""The plugin's capabilities and which roles hold them. Staff read the school's courses; the school admin
runs the catalogue, the selection windows and the lottery; a course's teacher takes its attendance; families
choose, ask for leave and rate; the district supervises (desensitised figures, and a school only after its
explicit, audited enter-school step). Reach itself is the platform's (``plugin_api.student_or_404``…)."""
from __future__ import annotations

NAME = "afterschool"
READ = "afterschool.course.read"
MANAGE = "afterschool.course.manage"
ATTEND = "afterschool.attendance.take"
CHOOSE = "afterschool.choice.create"
RATE = "afterschool.rating.create"
AUDIT = "afterschool.lottery.audit"
SUPERVISE = "afterschool.district.read"

CAPABILITIES = {
    READ: {"zh": "查看课后服务课程和选课情况", "en": "See after-school courses and enrolments"},
    MANAGE: {"zh": "管理课后服务课程、场地和选课", "en": "Manage after-school courses, venues and selection"},
    ATTEND: {"zh": "课后服务考勤", "en": "Take after-school attendance"},
    CHOOSE: {"zh": "为本人（子女）选课", "en": "Choose after-school courses for oneself (one's child)"},
    RATE: {"zh": "评价课后服务课程", "en": "Rate after-school courses"},
    AUDIT: {"zh": "复核选课抽签", "en": "Re-run and check selection lotteries"},
    SUPERVISE: {"zh": "课后服务区级监管", "en": "District supervision of after-school services"},
}
STAFF = [READ, ATTEND]
GRANTS = {
    "school_admin": [READ, MANAGE, ATTEND, AUDIT],
    "principal": [READ, AUDIT],
    "dean": [READ, ATTEND],
    "grade_head": STAFF,
    "homeroom_teacher": STAFF,
    "subject_teacher": STAFF,
    "psychology_teacher": STAFF,
    "life_instructor": STAFF,
    "district_admin": [READ, AUDIT, SUPERVISE],
    "parent": [CHOOSE, RATE],
    "student": [CHOOSE, RATE],
    "student_cadre": [CHOOSE, RATE],
}
