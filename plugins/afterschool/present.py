"""What the API and the pages show, written once: courses with their venue and grades, a family's view of its
children's windows, offers and choices, and the request's school through the platform's reach."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.plugin_api import StudentRef, acting_in, family_students
from plugins.afterschool import catalog, selection
from plugins.afterschool.caps import NAME
from plugins.afterschool.models import Course, Window


def iso(value: Any) -> str | None:
    return value.isoformat() + "Z" if isinstance(value, datetime) else (value.isoformat() if value else None)


def courses_view(sess: so.Session, school_id: int, rows: list[Course]) -> list[dict[str, Any]]:
    grid = catalog.periods(school_id)
    venues = catalog.venue_names(sess)
    grades = {g["id"]: g["name"] for g in catalog.grades(sess)}
    return [catalog.course_view(c, grid, venues, grades) for c in rows]


def window_view(w: Window) -> dict[str, Any]:
    return {"id": w.id, "title": w.title, "term": w.term, "grades": w.grades, "opens_at": iso(w.opens_at),
            "closes_at": iso(w.closes_at), "mode": w.mode, "max_courses": w.max_courses,
            "students_choose": w.students_choose, "status": w.status, "open": selection.is_open(w),
            "priority_groups": len(w.priority or []), "course_ids": w.course_ids}


def kid_view(sess: so.Session, kid: StudentRef) -> dict[str, Any]:
    """One child: the windows of their grade, the courses each offers them (seats left), their choices."""
    grade = selection.grade_of(sess, kid)
    out = {"student_id": kid.id, "name": kid.name, "windows": []}
    for w in selection.windows_for(sess, grade):
        offered = courses_view(sess, kid.school_id, selection.open_courses(sess, w, grade))
        picked = [selection.choice_view(sess, c) for c in selection.mine(sess, w, kid.id)]
        out["windows"].append(window_view(w) | {"courses": offered, "choices": picked})
    return out


def family_view(sess: so.Session) -> list[dict[str, Any]]:
    out = []
    for kid in family_students(NAME):
        with acting_in(kid.school_id):
            out.append(kid_view(sess, kid))
    return out


def my_courses(sess: so.Session, staff_id: int | None) -> list[Course]:
    if staff_id is None:
        return []
    return list(sess.scalars(sa.select(Course).where(Course.teacher_staff_id == staff_id, Course.active.is_(True))
                             .order_by(Course.id)))
