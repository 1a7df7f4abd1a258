"""Demo data (``jizuo_demo_data``): a term of after-school courses in every demo school — homework care every
day, science, sports, arts, reading and clubs, taught by the school's teachers and one outside provider — in the
school's venues; an autumn selection already allocated (first come, first served), with three weeks of
past sessions, their attendance (a little leave and a few absences) and families' ratings; and an open
lottery window for the spring clubs, where 机器人编程 has far more applicants than seats.

Deterministic per seed; a few hundred rows per school at the test size, written in bulk (well under a second).
In the open window a family may change its child's preferences until the deadline."""
from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.plugin_api import (
    OrgUnit,
    Student,
    bulk_insert,
    school_calendar,
    school_days,
    staff_of,
    utcnow,
)
from plugins.afterschool import catalog, selection
from plugins.afterschool.models import Choice, Course, Session, Venue, Window, attendance, choices, ratings

VENUES = [("一楼多功能教室", 45), ("科学实验室", 30), ("操场", 120), ("体育馆", 80), ("美术室", 32), ("音乐室", 36),
          ("图书馆", 50), ("计算机房", 40)]
# title, category, venue index, slots, capacity, fee, description
AUTUMN = [
    ("作业辅导（低年级）", "homework", 0, [[1, 1], [2, 1], [3, 1], [4, 1], [5, 1]], 45, 0, "老师看护下完成当天书面作业，答疑解惑。"),
    ("作业辅导（高年级）", "homework", 6, [[1, 1], [2, 1], [3, 1], [4, 1], [5, 1]], 50, 0, "自主完成作业，老师个别辅导。"),
    ("趣味科学实验", "science", 1, [[2, 2]], 28, 0, "动手做实验，观察、记录、提问。"),
    ("足球", "sports", 2, [[1, 2], [3, 2]], 40, 0, "基本功、小场地对抗，每周两次。"),
    ("篮球", "sports", 3, [[2, 2], [4, 2]], 30, 0, "运球、传球和投篮，培养团队意识。"),
    ("国画", "arts", 4, [[3, 2]], 25, 0, "笔墨基础与花鸟小品。"),
    ("合唱团", "arts", 5, [[4, 2]], 36, 0, "发声练习与合唱曲目排练。"),
    ("绘本阅读", "reading", 6, [[5, 2]], 30, 0, "共读绘本，说一说、演一演。"),
]
SPRING = [
    ("机器人编程", "science", 7, [[5, 2]], 12, 300, "图形化编程控制小车机器人（外聘机构授课，材料费自理）。"),
    ("围棋", "clubs", 0, [[1, 2]], 30, 0, "围棋入门：规则、吃子与死活。"),
    ("乒乓球", "sports", 3, [[5, 2]], 24, 0, "握拍、发球与对练。"),
]
PROVIDER = ("王教练", "星火科创教育")
COMMENTS = ["孩子很喜欢，回家还在讲", "老师很负责", "内容有意思", "希望多一些户外活动", "作业基本能在学校完成，家长轻松多了",
            "场地有点挤", "孩子进步明显", None, None, None]


def _students(sess: so.Session) -> list[tuple[int, int | None]]:
    st, ou = Student.__table__.c, OrgUnit.__table__.c
    return list(sess.execute(sa.select(st.id, ou.parent_id).join(OrgUnit, OrgUnit.id == st.class_id)
                             .where(st.status_code == "01").order_by(st.id)).all())


def fill(sess: so.Session, school_id: int, seed: int) -> None:
    if sess.scalar(sa.select(sa.func.count()).select_from(Course)):
        return  # filled already (a second jizuo demo)
    rng = random.Random(seed * 7919 + school_id)
    now = utcnow()
    grades = [g["id"] for g in catalog.grades(sess)]
    venues = []
    for name, cap in VENUES:
        v = Venue(school_id=school_id, name=name, capacity=cap)
        sess.add(v)
        venues.append(v)
    sess.flush()
    teachers = [s for s in staff_of(sess, school_id) if s["staff_id"]]
    term = catalog.term_of(now.date())
    low, high = grades[: max(1, len(grades) // 2)], grades[max(1, len(grades) // 2):] or grades

    def course(spec: tuple, i: int, teacher: dict | None) -> Course:
        title, cat, vi, slots, cap, fee, desc = spec
        who = grades if cat != "homework" else (low if "低" in title else high)
        c = Course(school_id=school_id, term=term, title=title, description=desc, category=cat, venue_id=venues[vi].id,
                   slots=slots, capacity=min(cap, venues[vi].capacity), enrolled=0, grades=who, fee=fee,
                   teacher_staff_id=teacher["staff_id"] if teacher else None,
                   teacher_name=teacher["name"] if teacher else PROVIDER[0], provider=None if teacher else PROVIDER[1],
                   picture=None, active=True, created_at=now)
        sess.add(c)
        return c

    autumn = [course(spec, i, teachers[i % len(teachers)] if teachers else None) for i, spec in enumerate(AUTUMN)]
    spring = [course(spec, i, None if i == 0 or not teachers else teachers[(i + len(AUTUMN)) % len(teachers)])
              for i, spec in enumerate(SPRING)]
    sess.flush()
    start = now - timedelta(days=40)
    past = Window(school_id=school_id, term=term, title="本学期课后服务选课", grades=grades, opens_at=start,
                  closes_at=start + timedelta(days=5), mode="fcfs", max_courses=2, students_choose=False, priority=[],
                  status="closed", created_at=start)
    open_w = Window(school_id=school_id, term=term, title="兴趣社团第二轮选课（抽签）", grades=grades,
                    opens_at=now - timedelta(days=1), closes_at=now + timedelta(days=3), mode="lottery", max_courses=2,
                    students_choose=True, priority=[], status="open", created_at=now, course_ids=[c.id for c in spring])
    sess.add_all([past, open_w])
    sess.flush()
    kids = _students(sess)
    for kid, grade in kids:
        if rng.random() < 0.3:
            continue
        offered = [c for c in autumn if grade in c.grades]
        rng.shuffle(offered)
        picked, slots = [], set()
        for c in offered:
            if len(picked) == 2 or slots & {tuple(s) for s in c.slots}:
                continue
            picked.append(c)
            slots |= {tuple(s) for s in c.slots}
        ref = type("Kid", (), {"id": kid, "school_id": school_id})
        have: list[Choice] = []
        for c in picked:
            selection._place(sess, past, ref, c, have, None)
    _applications(sess, open_w, spring, kids, rng, now)
    _sessions(sess, school_id, autumn, rng, now)


def _applications(sess: so.Session, w: Window, spring: list[Course], kids: list, rng: random.Random, now: Any) -> None:
    rows = []
    robot = spring[0]
    for kid, grade in kids:
        if rng.random() < 0.45:
            continue
        prefs = [robot] if rng.random() < 0.6 else []
        prefs += [c for c in spring[1:] if rng.random() < 0.3 and grade in c.grades]
        chosen, slots = [], set()
        for c in prefs[: w.max_courses]:
            s = {tuple(x) for x in c.slots}
            if not s & slots:
                chosen.append(c)
                slots |= s
        rows += [{"school_id": w.school_id, "student_id": kid, "window_id": w.id, "course_id": c.id, "rank": r,
                  "status": "applied", "chosen_by": None, "created_at": now - timedelta(hours=rng.randint(1, 20))}
                 for r, c in enumerate(chosen, 1)]
    bulk_insert(sess, choices, rows)


def _sessions(sess: so.Session, school_id: int, autumn: list[Course], rng: random.Random, now: Any) -> None:
    clock = school_calendar(sess, school_id)
    days = school_days(clock, now.date() - timedelta(days=21), now.date() - timedelta(days=1))
    grid = catalog.periods(school_id)
    marks, rates = [], []
    for c in autumn:
        kids = list(sess.scalars(sa.select(Choice.student_id).where(Choice.course_id == c.id,
                                                                    Choice.status == "enrolled")))
        for day in days:
            today = [s for s in c.slots if s[0] == day.isoweekday()]
            if not today or not kids:
                continue
            s = Session(school_id=school_id, course_id=c.id, day=day, hours=catalog.slot_hours(grid, today),
                        taken_by=None, taken_at=_at(day))
            sess.add(s)
            sess.flush()
            for kid in kids:
                r = rng.random()
                status = "present" if r < 0.9 else "late" if r < 0.93 else "leave" if r < 0.97 else "absent"
                marks.append({"school_id": school_id, "session_id": s.id, "student_id": kid, "status": status,
                              "marked_at": _at(day)})
        for kid in kids:
            if rng.random() < 0.5:
                rates.append({"school_id": school_id, "course_id": c.id, "student_id": kid, "rater_kind": "parent",
                              "stars": rng.choices([5, 4, 3, 2], weights=[55, 30, 12, 3])[0],
                              "comment": rng.choice(COMMENTS), "created_at": now - timedelta(days=rng.randint(1, 10))})
    bulk_insert(sess, attendance, marks)
    bulk_insert(sess, ratings, rates)


def _at(day: date):
    from datetime import datetime

    return datetime(day.year, day.month, day.day, 9, 0)  # 17:00 in Shanghai, stored in UTC

