"""What the plugin tells families through the message center (``jizuo_message_types``): an absence without
leave (within the request that saved the attendance, pushed live to open browsers after its commit), a place
freed from the waiting list, the lottery's result. Sent in a savepoint: if the message center fails, what
happened stands and the failure is logged."""
from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation import plugin_api
from foundation.plugin_api import Student

log = logging.getLogger("jizuo.plugins.afterschool")
CH = ["inbox", "push", "webhook"]
TYPES = [
    {"key": "afterschool.absent", "title": {"zh": "课后服务缺勤", "en": "After-school absence"}, "channels": CH,
     "variables": ["student_name", "course", "day", "time"],
     "template": {"zh": {"subject": "{student_name} 今天未到课后服务「{course}」",
                         "body": "{day} {time} 的课后服务「{course}」点名时 {student_name} 未到，也没有请假。请尽快与学校联系。"},
                  "en": {"subject": "{student_name} missed the after-school course \"{course}\" today",
                         "body": "At roll call for \"{course}\" ({day} {time}) {student_name} was absent without leave. "
                                 "Please contact the school."}},
     "link_label": {"zh": "查看课后服务", "en": "After-school services"}},
    {"key": "afterschool.moved_up", "title": {"zh": "课后服务候补转正", "en": "After-school place freed"},
     "channels": CH, "variables": ["student_name", "course"],
     "template": {"zh": {"subject": "{student_name} 已从候补转为正式录取：{course}",
                         "body": "「{course}」有名额空出，{student_name} 按候补顺序已被录取。"},
                  "en": {"subject": "{student_name} now has a place in \"{course}\"",
                         "body": "A place in \"{course}\" became free and {student_name}, next on the waiting list, "
                                 "has it."}},
     "link_label": {"zh": "查看选课结果", "en": "See the result"}},
    {"key": "afterschool.lottery", "title": {"zh": "课后服务选课结果", "en": "After-school selection result"},
     "channels": CH, "variables": ["student_name", "window", "enrolled", "waiting"],
     "template": {"zh": {"subject": "{student_name} 的课后服务选课结果",
                         "body": "「{window}」已抽签。录取：{enrolled}；候补：{waiting}。"},
                  "en": {"subject": "After-school selection result for {student_name}",
                         "body": "The lottery of \"{window}\" has been drawn. Places: {enrolled}; waiting: {waiting}."}},
     "link_label": {"zh": "查看选课结果", "en": "See the result"}},
]
LINK = "/afterschool/"


def send(sess: so.Session, key: str, student_id: int, school_id: int, variables: dict[str, Any], dedupe: str) -> None:
    try:
        with sess.begin_nested():
            plugin_api.send_message(sess, key, recipients=[{"parents_of_student": student_id}], variables=variables,
                                    school_id=school_id, link=LINK, dedupe_key=dedupe)
    except Exception:  # noqa: BLE001 - logged; what happened stands and shows on the pages
        log.exception("message %s could not be sent", key)


def names(sess: so.Session, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(sess.execute(sa.select(Student.id, Student.name).where(Student.id.in_(ids))).all())


def moved_up(sess: so.Session, student_id: int, course: Any) -> None:
    send(sess, "afterschool.moved_up", student_id, course.school_id,
         {"student_name": names(sess, [student_id]).get(student_id, ""), "course": course.title},
         f"afterschool-moved-{course.id}-{student_id}")


def absent(sess: so.Session, student_id: int, course: Any, day: str, time: str, session_id: int) -> None:
    send(sess, "afterschool.absent", student_id, course.school_id,
         {"student_name": names(sess, [student_id]).get(student_id, ""), "course": course.title, "day": day,
          "time": time}, f"afterschool-absent-{session_id}-{student_id}")


def results(sess: so.Session, w: Any, student_ids: list[int]) -> None:
    from plugins.afterschool.models import Choice, Course

    who = names(sess, student_ids)
    titles = dict(sess.execute(sa.select(Course.id, Course.title)).all())
    rows = sess.scalars(sa.select(Choice).where(Choice.window_id == w.id).order_by(Choice.rank)).all()
    per: dict[int, dict[str, list[str]]] = {}
    for c in rows:
        per.setdefault(c.student_id, {"enrolled": [], "waiting": []})
        if c.status in ("enrolled", "waiting"):
            per[c.student_id][c.status].append(titles.get(c.course_id, ""))
    for kid in student_ids:
        got = per.get(kid, {"enrolled": [], "waiting": []})
        send(sess, "afterschool.lottery", kid, w.school_id,
             {"student_name": who.get(kid, ""), "window": w.title, "enrolled": "、".join(got["enrolled"]) or "—",
              "waiting": "、".join(got["waiting"]) or "—"}, f"afterschool-lottery-{w.id}-{kid}")
