"""Phase 2, teaching structure: academic sessions (with their dates), courses, and what a class says
beyond its place in the tree — its type (homeroom / scheduled), its course and its terms."""
from __future__ import annotations

import sqlalchemy as sa

from foundation.models import AcademicSession, ClassTerm, Course
from foundation.oneroster.context import Context
from foundation.oneroster.plan import Plan
from foundation.oneroster.values import truncate


def _target_school(ctx: Context, plan: Plan) -> int | None:
    """Sessions belong to the district (NULL), or to the one school of a --school-code import."""
    if not ctx.school_code:
        return None
    if ctx.target is not None:
        return ctx.target.id
    return next((ctx.school_id(k) for k in plan.alias.values() if ctx.school_id(k) is not None), None)


def _upsert(ctx: Context, kind: str, row, model, school: int | None, values: dict):
    """Create the row, or change what differs on it; counted as created, updated or unchanged."""
    if row is None:
        row = model(school_id=school, **values)
        ctx.sess.add(row)
        ctx.sess.flush()
        ctx.report.count(kind, "created")
        return row
    changed = {k: v for k, v in values.items() if getattr(row, k) != v}
    for k, v in changed.items():
        setattr(row, k, v)
    ctx.report.count(kind, "updated" if changed else "unchanged")
    return row


def apply_sessions(ctx: Context, plan: Plan) -> None:
    school = _target_school(ctx, plan)
    rows: dict[str, AcademicSession] = {}
    for sid, s in plan.sessions.items():
        known = ctx.known("academicSession", sid)
        row = ctx.sess.get(AcademicSession, known.local_id) if known else None
        if row is None and s.deleted:
            ctx.report.count("academicSession", "skipped")
            continue
        values = {"active": False} if s.deleted else {
            "title": truncate(s.title, 120), "kind": s.kind, "start_date": s.start, "end_date": s.end,
            "school_year": s.year, "active": True}
        row = _upsert(ctx, "academicSession", row, AcademicSession, school, values)
        ctx.link("academicSession", sid, row.id, row.school_id)
        rows[sid] = row
    for sid, s in plan.sessions.items():  # parents, once every session has its row
        if sid in rows and not s.deleted:
            parent = ctx.known("academicSession", s.parent) if s.parent else None
            rows[sid].parent_id = parent.local_id if parent else None


def apply_courses(ctx: Context, plan: Plan) -> None:
    for sid, c in plan.courses.items():
        school = ctx.school_id(c.school)
        known = ctx.known("course", sid)
        row = ctx.sess.get(Course, known.local_id) if known else None
        if school is None or (row is None and c.deleted):
            ctx.report.count("course", "skipped")
            continue
        year = ctx.known("academicSession", c.year) if c.year else None
        values = {"active": False} if c.deleted else {
            "title": truncate(c.title, 120), "code": truncate(c.code, 60) or None,
            "grades": truncate(c.grades, 60) or None, "subjects": truncate(c.subjects, 200) or None,
            "subject_codes": truncate(c.subject_codes, 200) or None,
            "school_year_id": year.local_id if year else None, "active": True}
        row = _upsert(ctx, "course", row, Course, school, values)
        ctx.link("course", sid, row.id, school)


def apply_class_details(ctx: Context, plan: Plan) -> None:
    """Type, course and terms of each class of the bundle (a delta class keeps what it does not state)."""
    class_ids = {k.local_id for sid in plan.classes if (k := ctx.known("class", sid))}
    have: dict[int, set[int]] = {}
    if class_ids:
        for cid, session in ctx.sess.execute(sa.select(ClassTerm.class_id, ClassTerm.session_id)
                                             .where(ClassTerm.class_id.in_(sorted(class_ids)))):
            have.setdefault(cid, set()).add(session)
    for sid, c in plan.classes.items():
        known = ctx.known("class", sid)
        unit = ctx.unit(known.local_id) if known and not c.deleted else None
        if unit is None:
            continue
        course = ctx.known("course", c.course) if c.course else None
        if c.class_type is not None and unit.class_type != c.class_type:
            unit.class_type = c.class_type
        if course is not None and course.school_id == unit.school_id and unit.course_id != course.local_id:
            unit.course_id = course.local_id
        want = {k.local_id for t in c.terms if (k := ctx.known("academicSession", t))}
        for session in want - have.get(unit.id, set()):
            ctx.sess.add(ClassTerm(class_id=unit.id, session_id=session, school_id=unit.school_id))
        gone = have.get(unit.id, set()) - want
        if gone and c.terms:
            ctx.sess.execute(sa.delete(ClassTerm).where(ClassTerm.class_id == unit.id, ClassTerm.session_id.in_(gone)))
