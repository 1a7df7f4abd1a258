"""Export, teaching structure: academic sessions (the stored ones, else the current school year), courses
(the stored ones, else one per grade) and classes with their type, course and terms."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.models import AcademicSession, ClassTerm, Course, OrgUnit

Rows = dict[str, list[list[str]]]
Ids = Callable[[str, int, int | None], str]


def stamp(obj) -> str:
    at = getattr(obj, "updated_at", None) or datetime(2020, 1, 1)
    return at.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def school_year(today: date | None = None) -> tuple[int, date, date]:
    """(start year, first day, last day) of the current school year: September to mid-July."""
    today = today or date.today()
    start = today.year if today.month >= 8 else today.year - 1
    return start, date(start, 9, 1), date(start + 1, 7, 15)


def grade_code(unit: OrgUnit | None) -> str:
    return f"{unit.seq:02d}" if unit is not None and unit.kind == "grade" and 1 <= unit.seq <= 12 else ""


def export_sessions(sess: so.Session, sid: Ids, rows: Rows, school_ids: list[int], today: date | None) -> str:
    """The stored sessions of the district and the schools exported. With none stored, the current school
    year (``jz-sy-<year>``) stands for them; its sourcedId is returned to name it as every class's term."""
    stored = list(sess.scalars(sa.select(AcademicSession).where(sa.or_(
        AcademicSession.school_id.is_(None), AcademicSession.school_id.in_(school_ids))).order_by(AcademicSession.id)))
    ids = {s.id: sid("academicSession", s.id, s.school_id) for s in stored}
    for s in stored:
        rows["academicSessions"].append([ids[s.id], "active" if s.active else "tobedeleted", stamp(s), s.title, s.kind,
                                         s.start_date.isoformat(), s.end_date.isoformat(), ids.get(s.parent_id, ""),
                                         str(s.school_year or "")])
    if stored:
        return ""
    start, first, last = school_year(today)
    term = f"jz-sy-{start}"
    rows["academicSessions"].append([term, "active", f"{first.isoformat()}T00:00:00.000Z", f"{start}-{start + 1}学年",
                                     "schoolYear", first.isoformat(), last.isoformat(), "", str(start + 1)])
    return term


def export_courses(sess: so.Session, sid: Ids, rows: Rows, school_ids: list[int], school_sid: dict[int, str]) -> dict[int, str]:
    """The stored courses; course id → sourcedId."""
    out: dict[int, str] = {}
    for c in sess.scalars(sa.select(Course).where(Course.school_id.in_(school_ids)).order_by(Course.id)):
        out[c.id] = sid("course", c.id, c.school_id)
        year = sid("academicSession", c.school_year_id, None) if c.school_year_id else ""
        rows["courses"].append([out[c.id], "active" if c.active else "tobedeleted", stamp(c), year, c.title,
                                c.code or "", c.grades or "", school_sid[c.school_id], c.subjects or "",
                                c.subject_codes or ""])
    return out


def export_classes(sess: so.Session, sid: Ids, rows: Rows, units: dict[int, OrgUnit], school_sid: dict[int, str],
                   course_sid: dict[int, str], term: str) -> dict[int, str]:
    """Classes (class id → sourcedId). A class with no stored course names its grade's course, made here
    from the grade unit (``grade_course``), or the school's catch-all course when it is outside any grade."""
    classes = [u for u in units.values() if u.kind == "class"]
    terms: dict[int, list[str]] = {}
    for chunk in [classes[i:i + 500] for i in range(0, len(classes), 500)]:
        for cid, session_id, school in sess.execute(
                sa.select(ClassTerm.class_id, ClassTerm.session_id, ClassTerm.school_id)
                .where(ClassTerm.class_id.in_([u.id for u in chunk])).order_by(ClassTerm.id)):
            terms.setdefault(cid, []).append(sid("academicSession", session_id, school))
    grade_course: dict[int, str] = {}
    class_sid: dict[int, str] = {}
    for u in classes:
        grade = units.get(u.parent_id)
        course = course_sid.get(u.course_id) if u.course_id else None
        if course is None and grade is not None and grade.kind == "grade":
            if grade.id not in grade_course:
                grade_course[grade.id] = sid("grade_course", grade.id, grade.school_id)
                rows["courses"].append([grade_course[grade.id], "active", stamp(grade), term, grade.name,
                                        grade.code or "", grade_code(grade), school_sid[grade.school_id], "", ""])
            course = grade_course[grade.id]
        elif course is None:  # a class outside any grade: one catch-all course per school
            course = f"jz-course-school-{u.school_id}"
            if -u.school_id not in grade_course:
                grade_course[-u.school_id] = course
                rows["courses"].append([course, "active", stamp(u), term, "其他", "", "", school_sid[u.school_id], "", ""])
        class_sid[u.id] = sid("class", u.id, u.school_id)
        rows["classes"].append([class_sid[u.id], "active" if u.active else "tobedeleted", stamp(u), u.name,
                                grade_code(grade), course, u.code or "", u.class_type or "homeroom", "",
                                school_sid[u.school_id], ",".join(terms.get(u.id, [term] if term else [])), "", "", ""])
    return class_sid
