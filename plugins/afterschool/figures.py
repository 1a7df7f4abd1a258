"""What the district sees (课后服务数字化监管), computed per school by the platform acting for that school and
desensitised by it (no names; cells under 5 students suppressed): courses and weekly hours by category, the
share of students enrolled, venue use, attendance and ratings — each per term, so the page shows a term at a
time. Plus the leave template's subscriber and the job that draws lotteries at their deadline."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.plugin_api import Student, utcnow
from plugins.afterschool import catalog
from plugins.afterschool.models import Attendance, Choice, Course, Rating, Session, Venue


def _terms(period: dict[str, Any] | None) -> list[str] | None:
    """The terms a period (local dates, end exclusive) overlaps; None: every term."""
    if period is None:
        return None
    return sorted({catalog.term_of(period["start"]), catalog.term_of(period["end"] - timedelta(days=1))})


def _in_terms(terms: list[str] | None):
    return sa.true() if terms is None else Course.term.in_(terms)


def _courses(sess: so.Session, period: dict[str, Any] | None = None) -> list[Course]:
    return list(sess.scalars(sa.select(Course).where(Course.active.is_(True), _in_terms(_terms(period)))))


def _kids(sess: so.Session, period: dict[str, Any] | None, *by) -> dict[tuple, int]:
    """Distinct students enrolled in an active course of the period's terms, grouped by course columns."""
    rows = sess.execute(sa.select(*by, sa.func.count(sa.distinct(Choice.student_id)))
                        .join(Course, Course.id == Choice.course_id)
                        .where(Choice.status == "enrolled", Course.active.is_(True), _in_terms(_terms(period)))
                        .group_by(*by)).all()
    return {tuple(r[:-1]): r[-1] for r in rows}


def categories(sess: so.Session, school_id: int, period: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Per term and category: students enrolled (count) and hours offered a week (value)."""
    grid = catalog.periods(school_id)
    kids = _kids(sess, period, Course.term, Course.category)
    hours: dict[tuple, float] = {}
    for c in _courses(sess, period):
        hours[(c.term, c.category)] = hours.get((c.term, c.category), 0) + catalog.slot_hours(grid, c.slots)
    return [{"group": {"term": t, "category": cat}, "count": kids.get((t, cat), 0),
             "value": round(h, 2)} for (t, cat), h in sorted(hours.items())]


def participation(sess: so.Session, school_id: int, period: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Per term: students in at least one course and the others; value: the share (%)."""
    total = sess.scalar(sa.select(sa.func.count()).select_from(Student).where(Student.status_code == "01")) or 0
    terms = sorted(set(sess.scalars(sa.select(Course.term).where(Course.active.is_(True), _in_terms(_terms(period))))))
    per = _kids(sess, period, Course.term)
    out = []
    for t in terms:
        n = per.get((t,), 0)
        share = round(100 * n / total, 1) if total else None
        out += [{"group": {"term": t, "enrolled": True}, "count": n, "value": share},
                {"group": {"term": t, "enrolled": False}, "count": max(total - n, 0),
                 "value": round(100 - share, 1) if share is not None else None}]
    return out


def venues(sess: so.Session, school_id: int, period: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Per term and venue: students seated there (count) and the share of the week's periods in use (value)."""
    grid = catalog.periods(school_id)
    week = len(catalog.WEEKDAYS) * len(grid)
    names = dict(sess.execute(sa.select(Venue.id, Venue.name)).all())
    rows = _courses(sess, period)
    used: dict[tuple, set] = {}
    seated: dict[tuple, int] = {}
    for c in rows:
        key = (c.term, names.get(c.venue_id, "?"))
        used.setdefault(key, set()).update(tuple(s) for s in c.slots)
        seated[key] = seated.get(key, 0) + c.enrolled
    return [{"group": {"term": t, "venue": v}, "count": seated[(t, v)],
             "value": round(100 * len(used[(t, v)]) / week, 1)} for t, v in sorted(used)]


def _held(period: dict[str, Any] | None):
    return sa.true() if period is None else sa.and_(Session.day >= period["start"], Session.day < period["end"])


def attendance(sess: so.Session, school_id: int, period: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Per term and mark: how many marks (count) and their share (%), of the sessions held in the period."""
    rows = sess.execute(sa.select(Course.term, Attendance.status, sa.func.count())
                        .join(Session, Session.id == Attendance.session_id).join(Course, Course.id == Session.course_id)
                        .where(_held(period)).group_by(Course.term, Attendance.status)).all()
    totals: dict[str, int] = {}
    for t, _s, n in rows:
        totals[t] = totals.get(t, 0) + n
    return [{"group": {"term": t, "status": s}, "count": n, "value": round(100 * n / totals[t], 1)}
            for t, s, n in sorted(rows)]


def ratings(sess: so.Session, school_id: int, period: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Per term and category: ratings given (count) and their average stars (value), for the period's terms."""
    rows = sess.execute(sa.select(Course.term, Course.category, sa.func.count(), sa.func.avg(Rating.stars))
                        .join(Course, Course.id == Rating.course_id).where(_in_terms(_terms(period)))
                        .group_by(Course.term, Course.category)).all()
    return [{"group": {"term": t, "category": c}, "count": n, "value": round(float(avg), 2)} for t, c, n, avg in rows]


def courses_held(sess: so.Session, school_id: int, period: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Per term and category: courses running (count) and the hours of their sessions held in the period
    (value): one grouped statement over courses outer-joined to their sessions."""
    held = sa.and_(Session.course_id == Course.id, _held(period))
    rows = sess.execute(sa.select(Course.term, Course.category, sa.func.count(sa.distinct(Course.id)),
                                  sa.func.coalesce(sa.func.sum(Session.hours), 0))
                        .select_from(Course).outerjoin(Session, held)
                        .where(Course.active.is_(True), _in_terms(_terms(period)))
                        .group_by(Course.term, Course.category)).all()
    return [{"group": {"term": t, "category": c}, "count": n, "value": round(float(h), 1)}
            for t, c, n, h in sorted(rows)]


FIGURES = [
    ("afterschool.courses", {"zh": "课程数与已上课时", "en": "Courses and hours held"}, courses_held),
    ("afterschool.categories", {"zh": "课程类别：参加学生与每周课时", "en": "Categories: students and weekly hours"}, categories),
    ("afterschool.participation", {"zh": "参加课后服务的学生占比", "en": "Share of students enrolled"}, participation),
    ("afterschool.venues", {"zh": "场地使用", "en": "Venue use"}, venues),
    ("afterschool.attendance", {"zh": "课后服务考勤", "en": "After-school attendance"}, attendance),
    ("afterschool.ratings", {"zh": "课程评价", "en": "Course ratings"}, ratings),
]


CHARTS = {"afterschool.participation": "stacked", "afterschool.attendance": "stacked"}
UNITS = {"afterschool.courses": "courses", "afterschool.attendance": "marks", "afterschool.ratings": "ratings"}


def district_figures() -> list[dict[str, Any]]:
    return [{"key": key, "title": title, "unit": UNITS.get(key, "students"), "sensitive": False, "compute": fn,
             "tile": "afterschool", "chart": CHARTS.get(key, "bar"), "periods": True}
            for key, title, fn in FIGURES]


def on_submission(_event: str, payloads: list[dict]) -> None:
    """A leave asked through the plugin's leave template (or a school's clone of it): the day's absence is
    leave, and the roll shows it before the teacher calls it."""
    from foundation.plugin_api import session
    from plugins.afterschool.sessions import record_leave

    for p in payloads:
        if p.get("template_key") != "afterschool:leave" or p.get("student_id") is None:
            continue
        data = p.get("data") or {}
        try:
            day = date.fromisoformat(str(data.get("date")))
        except ValueError:
            continue
        reason = "；".join(str(x) for x in (data.get("kind"), data.get("note")) if x) or None
        record_leave(session(), p["school_id"], p["student_id"], day, None, reason, p.get("id"))


def draw_due(sess: so.Session, school_id: int) -> dict[str, int]:
    from plugins.afterschool import lottery

    drawn = 0
    for w in lottery.due(sess):
        lottery.run(sess, w, "定时抽签")
        drawn += 1
    return {"drawn": drawn}


def jobs() -> list[dict[str, Any]]:
    return [{"key": "afterschool.lottery", "title": {"zh": "截止后课后服务抽签", "en": "Draw lotteries at the deadline"},
             "every": 60, "run": draw_due}]


def profile_data(sess: so.Session, student: Any, p: Any) -> dict[str, Any] | None:
    """The student's courses this term and how often they came: for staff who reach the student and the family."""
    from foundation.plugin_api import is_family, is_staff_for
    from plugins.afterschool.caps import READ

    if not (is_staff_for(p, student, READ) or is_family(p, student)):
        return None
    term = catalog.term_of(utcnow().date())
    rows = sess.execute(sa.select(Course.id, Course.title, Course.category, Course.slots).join(
        Choice, Choice.course_id == Course.id).where(Choice.student_id == student.id, Choice.status == "enrolled",
                                                     Course.term == term).order_by(Course.id)).all()
    if not rows:
        return None
    marks = dict(sess.execute(sa.select(Attendance.status, sa.func.count()).join(
        Session, Session.id == Attendance.session_id).join(Course, Course.id == Session.course_id).where(
        Attendance.student_id == student.id, Course.term == term).group_by(Attendance.status)).all())
    total = sum(marks.values())
    came = marks.get("present", 0) + marks.get("late", 0)
    return {"term": term, "courses": [{"title": r.title, "category": r.category} for r in rows],
            "sessions": total, "absent": marks.get("absent", 0), "leave": marks.get("leave", 0),
            "rate": round(100 * came / total) if total else None}


def profile_sections() -> list[dict[str, Any]]:
    from plugins.afterschool.caps import CHOOSE, READ

    title = {"zh": "课后服务", "en": "After-school"}
    return [{"key": "afterschool.courses", "title": title, "capability": READ, "order": 40, "data": profile_data,
             "template": "afterschool/_profile.html"},
            {"key": "afterschool.courses_own", "title": title, "capability": CHOOSE, "order": 40, "data": profile_data,
             "template": "afterschool/_profile.html"}]
