"""Capabilities and who holds them. Staff see the learning maps of the students they reach (school-reach
roles: the school; homeroom and subject teachers: their classes); a student or parent sees their own
(child's) map only, never a classmate's. Value added: a teacher sees their own; the school's leadership
(school admin, principal, dean: value added with whole-school reach) sees the school's; the district sees
desensitised figures only."""
from __future__ import annotations

NAME = "learning"
OWN = "learning.own.read"
MAP = "learning.map.read"
CATALOGUE = "learning.catalogue.manage"
PLAN = "learning.plan.create"
VALUE = "learning.value.read"

CAPABILITIES = {
    OWN: {"zh": "查看本人（子女）的学习图谱", "en": "See one's own (child's) learning map"},
    MAP: {"zh": "查看学生学习图谱和班级热力图", "en": "See students' learning maps and class heat maps"},
    CATALOGUE: {"zh": "维护知识图谱、题目标注和资源库", "en": "Maintain the knowledge map, item tags and resources"},
    PLAN: {"zh": "为学生制定个性化学习方案", "en": "Write a personal learning plan for a student"},
    VALUE: {"zh": "查看增值评价（教师本人的，或全校的）", "en": "See value added (one's own, or the school's)"},
}
LEADERS = ("school_admin", "principal", "dean")
GRANTS = {
    "school_admin": [MAP, CATALOGUE, VALUE],
    "principal": [MAP, VALUE],
    "dean": [MAP, CATALOGUE, VALUE],
    "grade_head": [MAP],
    "homeroom_teacher": [MAP, CATALOGUE, PLAN, VALUE],
    "subject_teacher": [MAP, CATALOGUE, PLAN, VALUE],
    "student": [OWN],
    "student_cadre": [OWN],
    "parent": [OWN],
}
SUBJECT_NAMES = {"语文": "chinese", "数学": "math", "英语": "english", "物理": "physics", "化学": "chemistry",
                 "生物": "biology", "历史": "history", "地理": "geography"}
