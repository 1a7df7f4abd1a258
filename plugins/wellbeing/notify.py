"""Messages the plugin sends (``jizuo_message_types``). None names a score, a level or an answer: the
consent request tells a guardian a screening is planned and where to answer; the reminder tells a student
the screening is open. Alert messages are the engine's (inbox and live push only)."""
from __future__ import annotations

TYPES = [
    {"key": "wellbeing.consent_request", "title": {"zh": "心理健康筛查：请监护人确认", "en": "Wellbeing screening: a guardian's consent"},
     "variables": ["student_name", "screening"], "channels": ["inbox", "push", "webhook"],
     "template": {"zh": {"subject": "请确认是否同意 {student_name} 参加「{screening}」",
                         "body": "学校将开展心理健康筛查「{screening}」。{student_name} 未满 14 周岁，按照个人信息保护法，"
                                 "需要您的同意才能参加。回答只由学校心理教师查看，不会告知其他老师和同学。请在家长页面选择同意或不同意。"},
                  "en": {"subject": "May {student_name} take part in \"{screening}\"?",
                         "body": "The school is running a wellbeing screening, \"{screening}\". {student_name} is under 14, "
                                 "so by law the school needs your consent. Only the school's psychology teachers read "
                                 "the answers; other teachers and students never see them. Please answer on the parents' page."}},
     "link_label": {"zh": "去确认", "en": "Answer"}},
    {"key": "wellbeing.reminder", "title": {"zh": "心理健康筛查提醒", "en": "Wellbeing screening reminder"},
     "variables": ["screening", "closes_on"], "channels": ["inbox", "push"],
     "template": {"zh": {"subject": "「{screening}」还在等你填写",
                         "body": "心理健康筛查「{screening}」{closes_on} 截止，大约需要 3 分钟。你的回答只有学校心理老师能看到。"},
                  "en": {"subject": "\"{screening}\" is waiting for you",
                         "body": "The wellbeing screening \"{screening}\" closes on {closes_on} and takes about 3 minutes. "
                                 "Only the school's psychology teachers read your answers."}},
     "link_label": {"zh": "去填写", "en": "Fill it in"}},
]
