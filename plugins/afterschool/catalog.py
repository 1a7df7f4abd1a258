"""Courses and venues: the school's period grid, a course checked whole before it is saved (refused with the
field and the reason: a venue or teacher already busy at that time, more seats than the venue holds), and the
views pages and the API share."""
from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.plugin_api import OrgUnit, ValidationFailed, plugin_config, staff_of, text_field, utcnow
from plugins.afterschool.caps import NAME
from plugins.afterschool.models import Course, Venue, courses

CATEGORIES = ("homework", "science", "sports", "arts", "reading", "clubs")
PERIODS = [["15:40", "16:40"], ["16:50", "17:50"]]  # the default grid: two periods after the last lesson
WEEKDAYS = (1, 2, 3, 4, 5)


def term_of(day: date) -> str:
    """The school year's term a day falls in: September–January the first, February–August the second."""
    if day.month >= 9:
        return f"{day.year}-{day.year + 1}-1"
    if day.month == 1:
        return f"{day.year - 1}-{day.year}-1"
    return f"{day.year - 1}-{day.year}-2"


def periods(school_id: int) -> list[list[str]]:
    cfg = plugin_config(NAME, school_id) or {}
    return cfg.get("periods") or PERIODS


def slot_hours(grid: list[list[str]], slots: list[list[int]]) -> float:
    """Hours a week the slots take on the grid."""
    total = 0
    for _day, period in slots:
        start, end = grid[period - 1]
        total += (int(end[:2]) * 60 + int(end[3:])) - (int(start[:2]) * 60 + int(start[3:]))
    return round(total / 60, 2)


def grades(sess: so.Session) -> list[dict[str, Any]]:
    """The school's grades (the session sees the one school it acts for)."""
    ou = OrgUnit.__table__.c
    return [{"id": r.id, "name": r.name, "name_en": r.name_en}
            for r in sess.execute(sa.select(ou.id, ou.name, ou.name_en).where(ou.kind == "grade").order_by(ou.seq, ou.id))]


def _int(data: dict, key: str, lo: int, hi: int, default: int | None = None) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ValidationFailed({key: [f"afterschool.err.range:{lo}–{hi}"]})
    return value


def check_slots(value: Any, grid: list[list[str]]) -> list[list[int]]:
    if not isinstance(value, list) or not value or len(value) > 10:
        raise ValidationFailed({"slots": ["afterschool.err.slots"]})
    out = []
    for item in value:
        ok = (isinstance(item, list | tuple) and len(item) == 2 and all(isinstance(x, int) and not isinstance(x, bool)
                                                                      for x in item))
        if not ok or item[0] not in WEEKDAYS or not 1 <= item[1] <= len(grid):
            raise ValidationFailed({"slots": ["afterschool.err.slots"]})
        if [item[0], item[1]] in out:
            raise ValidationFailed({"slots": ["afterschool.err.slots"]})
        out.append([item[0], item[1]])
    return sorted(out)


def overlap(a: list[list[int]], b: list[list[int]]) -> bool:
    return bool({tuple(x) for x in a} & {tuple(x) for x in b})


def check_course(sess: so.Session, school_id: int, data: dict, existing: Course | None = None) -> dict[str, Any]:
    """The course's columns from a request body, or 422 naming the field and why."""
    grid = periods(school_id)
    title = text_field(data, "title", limit=120)
    description = text_field(data, "description", required=False, limit=1000)
    category = data.get("category")
    if category not in CATEGORIES:
        raise ValidationFailed({"category": ["afterschool.err.category"]})
    venue = sess.get(Venue, data.get("venue_id")) if isinstance(data.get("venue_id"), int) else None
    if venue is None:
        raise ValidationFailed({"venue_id": ["afterschool.err.venue"]})
    capacity = _int(data, "capacity", 1, 500)
    if capacity > venue.capacity:
        raise ValidationFailed({"capacity": [f"afterschool.err.over_venue:{venue.capacity}"]})
    if existing is not None and capacity < existing.enrolled:
        raise ValidationFailed({"capacity": [f"afterschool.err.below_enrolled:{existing.enrolled}"]})
    slots = check_slots(data.get("slots"), grid)
    staff_id, provider = data.get("teacher_staff_id"), text_field(data, "provider", required=False, limit=120)
    if staff_id is not None:
        teachers = {s["staff_id"]: s["name"] for s in staff_of(sess, school_id) if s["staff_id"]}
        if staff_id not in teachers:
            raise ValidationFailed({"teacher_staff_id": ["afterschool.err.teacher"]})
        teacher_name, provider = teachers[staff_id], None
    else:
        teacher_name = text_field(data, "teacher_name", limit=60)
        if provider is None:
            raise ValidationFailed({"provider": ["field.required"]})
    known = {g["id"] for g in grades(sess)}
    wanted = data.get("grades")
    if not isinstance(wanted, list) or not wanted or not set(wanted) <= known:
        raise ValidationFailed({"grades": ["afterschool.err.grades"]})
    fee = _int(data, "fee", 0, 100000, 0)
    picture = text_field(data, "picture", required=False, limit=300)
    if picture and not picture.startswith(("/", "https://")):
        raise ValidationFailed({"picture": ["afterschool.err.picture"]})
    term = data.get("term") or (existing.term if existing else term_of(utcnow().date()))
    if not isinstance(term, str) or len(term) != 11 or not term[:4].isdigit():
        raise ValidationFailed({"term": ["afterschool.err.term"]})
    row = {"title": title, "description": description, "category": category, "venue_id": venue.id,
           "capacity": capacity, "slots": slots, "teacher_staff_id": staff_id, "teacher_name": teacher_name,
           "provider": provider, "grades": sorted(set(wanted)), "fee": fee, "picture": picture, "term": term}
    _clashes(sess, row, existing.id if existing else None)
    return row


def _clashes(sess: so.Session, row: dict, own_id: int | None) -> None:
    """The same venue, or the same teacher, at an overlapping time in the same term: refused, naming the other."""
    others = sess.scalars(sa.select(Course).where(Course.term == row["term"], Course.active.is_(True),
                                                  Course.id != (own_id or 0))).all()
    for other in others:
        if not overlap(other.slots, row["slots"]):
            continue
        if other.venue_id == row["venue_id"]:
            raise ValidationFailed({"venue_id": [f"afterschool.err.venue_clash:{other.title}"]})
        same = (other.teacher_staff_id == row["teacher_staff_id"] if row["teacher_staff_id"] is not None
                else (other.teacher_name, other.provider) == (row["teacher_name"], row["provider"]))
        if same:
            raise ValidationFailed({"teacher_staff_id" if row["teacher_staff_id"] else "teacher_name":
                                    [f"afterschool.err.teacher_clash:{other.title}"]})


def save_course(sess: so.Session, school_id: int, data: dict, existing: Course | None = None) -> Course:
    row = check_course(sess, school_id, data, existing)
    if existing is None:
        existing = Course(school_id=school_id, enrolled=0, active=True, created_at=utcnow(), **row)
        sess.add(existing)
    else:
        for k, v in row.items():
            setattr(existing, k, v)
    sess.flush()
    return existing


def check_venue(data: dict) -> dict[str, Any]:
    return {"name": text_field(data, "name", limit=120), "capacity": _int(data, "capacity", 1, 2000)}


def course_view(c: Course, grid: list[list[str]], venue_names: dict[int, str], grade_names: dict[int, str],
                lang: str = "zh") -> dict[str, Any]:
    return {"id": c.id, "term": c.term, "title": c.title, "description": c.description, "category": c.category,
            "teacher": c.teacher_name, "provider": c.provider, "teacher_staff_id": c.teacher_staff_id,
            "venue_id": c.venue_id, "venue": venue_names.get(c.venue_id),
            "slots": [{"weekday": d, "period": p, "start": grid[p - 1][0], "end": grid[p - 1][1]}
                      for d, p in c.slots if p <= len(grid)],
            "capacity": c.capacity, "enrolled": c.enrolled, "seats_left": max(c.capacity - c.enrolled, 0),
            "grades": c.grades, "grade_names": [grade_names.get(g, "") for g in c.grades], "fee": c.fee,
            "picture": c.picture, "hours_per_week": slot_hours(grid, c.slots), "active": c.active}


def term_courses(sess: so.Session, term: str | None = None) -> list[Course]:
    q = sa.select(Course).where(Course.active.is_(True)).order_by(Course.category, Course.id)
    if term:
        q = q.where(Course.term == term)
    return list(sess.scalars(q))


def venue_names(sess: so.Session) -> dict[int, str]:
    return dict(sess.execute(sa.select(Venue.id, Venue.name)).all())


def seat_taken(sess: so.Session, course_id: int) -> bool:
    """Take one seat of the course if one is left: a conditional UPDATE the database applies atomically (the
    row is locked while it runs, so two parents can never both take the last seat)."""
    res = sess.execute(sa.update(courses).where(courses.c.id == course_id, courses.c.enrolled < courses.c.capacity)
                       .values(enrolled=courses.c.enrolled + 1))
    return res.rowcount == 1


def seat_freed(sess: so.Session, course_id: int) -> None:
    sess.execute(sa.update(courses).where(courses.c.id == course_id, courses.c.enrolled > 0)
                 .values(enrolled=courses.c.enrolled - 1))
