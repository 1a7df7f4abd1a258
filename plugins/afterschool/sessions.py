"""Sessions of a course: the roll (the enrolled children), attendance taken by the course's teacher on a phone,
leave asked through the plugin's low-code leave template, ratings after sessions.

A course gathers children of many classes, and its teacher (often a homeroom or subject teacher, who reaches
only their own classes) needs its whole roll. So the API checks that the caller teaches the course, then
publishes ``afterschool.roll.read`` / ``afterschool.attendance.saved``; the plugin's subscriber, which the
platform runs for the course's school, reads the roll and writes the marks — the same way a parent's form
causes school-wide work. Saving tells the parents of every child absent without leave at once (message center,
pushed live); a child with leave for that day is marked ``leave`` and nobody is alarmed."""
from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.plugin_api import Student, ValidationFailed, text_field, utcnow
from plugins.afterschool import catalog, notify
from plugins.afterschool.models import Attendance, Choice, Course, Leave, Rating, Session, attendance

STATUSES = ("present", "late", "leave", "absent")


def roll(sess: so.Session, course_id: int) -> list[dict[str, Any]]:
    kids = sess.execute(sa.select(Student.id, Student.name, Student.student_no).join(
        Choice, Choice.student_id == Student.id).where(Choice.course_id == course_id, Choice.status == "enrolled")
        .order_by(Student.student_no)).all()
    return [{"id": k.id, "name": k.name, "student_no": k.student_no} for k in kids]


def leaves_on(sess: so.Session, day: date, course_id: int, kids: list[int]) -> set[int]:
    if not kids:
        return set()
    return set(sess.scalars(sa.select(Leave.student_id).where(
        Leave.day == day, Leave.student_id.in_(kids), sa.or_(Leave.course_id.is_(None), Leave.course_id == course_id))))


def session_for(sess: so.Session, course: Course, day: date) -> Session:
    row = sess.scalar(sa.select(Session).where(Session.course_id == course.id, Session.day == day))
    if row is None:
        grid = catalog.periods(course.school_id)
        today = [s for s in course.slots if s[0] == day.isoweekday()]
        row = Session(school_id=course.school_id, course_id=course.id, day=day,
                      hours=catalog.slot_hours(grid, today or course.slots[:1]))
        sess.add(row)
        sess.flush()
    return row


def sheet(sess: so.Session, course: Course, day: date) -> dict[str, Any]:
    kids = roll(sess, course.id)
    row = sess.scalar(sa.select(Session).where(Session.course_id == course.id, Session.day == day))
    marks = dict(sess.execute(sa.select(Attendance.student_id, Attendance.status).where(
        Attendance.session_id == row.id)).all()) if row else {}
    on_leave = leaves_on(sess, day, course.id, [k["id"] for k in kids])
    return {"course_id": course.id, "day": day.isoformat(), "taken": bool(row and row.taken_at),
            "items": [k | {"status": marks.get(k["id"]), "leave": k["id"] in on_leave} for k in kids]}


def check_marks(marks: Any, kids: set[int]) -> dict[int, str]:
    """``marks`` = {student_id: status} of enrolled children only, or 422."""
    if not isinstance(marks, dict) or not marks:
        raise ValidationFailed({"marks": ["afterschool.err.marks"]})
    clean: dict[int, str] = {}
    for key, status in marks.items():
        kid = int(key) if str(key).isdigit() and len(str(key)) < 11 else None
        if kid not in kids:
            raise ValidationFailed({"marks": ["afterschool.err.not_enrolled"]})
        if status not in STATUSES:
            raise ValidationFailed({f"marks.{kid}": ["afterschool.err.status"]})
        clean[kid] = status
    return clean


READ, SAVED = "afterschool.roll.read", "afterschool.attendance.saved"


def on_roll(event: str, payloads: list[dict]) -> None:
    """The platform runs this for the course's school (the API checked the caller teaches the course)."""
    from foundation.plugin_api import session

    sess = session()
    for p in payloads:
        course = sess.get(Course, p["course_id"])
        if course is None:
            continue
        day = date.fromisoformat(p["day"])
        if event == READ:
            p["sheet"] = sheet(sess, course, day)
        else:
            p["result"] = take(sess, course, day, {int(k): v for k, v in p["marks"].items()}, p.get("by"))


def take(sess: so.Session, course: Course, day: date, clean: dict[int, str], account_id: int | None) -> dict[str, Any]:
    """Save checked marks; returns how many were saved and how many families were told."""
    on_leave = leaves_on(sess, day, course.id, list(clean))
    row = session_for(sess, course, day)
    before = dict(sess.execute(sa.select(Attendance.student_id, Attendance.status).where(
        Attendance.session_id == row.id)).all())
    now = utcnow()
    told = []
    for kid, status in clean.items():
        if status == "absent" and kid in on_leave:
            status = "leave"
        if kid in before:
            sess.execute(sa.update(attendance).where(attendance.c.session_id == row.id, attendance.c.student_id == kid)
                         .values(status=status, marked_at=now))
        else:
            sess.add(Attendance(school_id=course.school_id, session_id=row.id, student_id=kid, status=status,
                                marked_at=now))
        if status == "absent" and before.get(kid) != "absent":
            told.append(kid)
    row.taken_by, row.taken_at = account_id, now
    sess.flush()
    grid = catalog.periods(course.school_id)
    today = [s for s in course.slots if s[0] == day.isoweekday()] or course.slots[:1]
    time = f"{grid[today[0][1] - 1][0]}" if today else ""
    for kid in told:
        notify.absent(sess, kid, course, day.isoformat(), time, row.id)
    return {"session_id": row.id, "told": len(told), "saved": len(clean)}


def record_leave(sess: so.Session, school_id: int, student_id: int, day: date, course_id: int | None,
                 reason: str | None, submission_id: int | None) -> None:
    sess.add(Leave(school_id=school_id, student_id=student_id, day=day, course_id=course_id, reason=reason,
                   submission_id=submission_id, created_at=utcnow()))
    # a roll already saved for that day: the absence becomes leave
    sess.flush()
    ids = sa.select(Session.id).join(Course, Course.id == Session.course_id).where(Session.day == day)
    if course_id is not None:
        ids = ids.where(Course.id == course_id)
    sess.execute(sa.update(attendance).where(attendance.c.student_id == student_id, attendance.c.status == "absent",
                                             attendance.c.session_id.in_(ids)).values(status="leave"))


def rate(sess: so.Session, course: Course, kid_id: int, kind: str, data: dict) -> Rating:
    stars = data.get("stars")
    if isinstance(stars, bool) or not isinstance(stars, int) or not 1 <= stars <= 5:
        raise ValidationFailed({"stars": ["afterschool.err.range:1–5"]})
    comment = text_field(data, "comment", required=False, limit=500)
    enrolled = sess.scalar(sa.select(Choice.id).where(Choice.course_id == course.id, Choice.student_id == kid_id,
                                                       Choice.status == "enrolled"))
    had = sess.scalar(sa.select(sa.func.count()).select_from(Session).where(Session.course_id == course.id,
                                                                          Session.taken_at.is_not(None)))
    if enrolled is None or not had:
        raise ValidationFailed({"course_id": ["afterschool.err.rate_after"]})
    row = sess.scalar(sa.select(Rating).where(Rating.course_id == course.id, Rating.student_id == kid_id,
                                              Rating.rater_kind == kind))
    if row is None:
        row = Rating(school_id=course.school_id, course_id=course.id, student_id=kid_id, rater_kind=kind,
                     stars=stars, comment=comment, created_at=utcnow())
        sess.add(row)
    else:
        row.stars, row.comment, row.created_at = stars, comment, utcnow()
    sess.flush()
    return row
