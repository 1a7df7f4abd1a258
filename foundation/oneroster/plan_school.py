"""Phase 1, teaching structure: academic sessions, courses and classes."""
from __future__ import annotations

from foundation.models import Course
from foundation.oneroster.context import Context
from foundation.oneroster.csvio import Row, Table
from foundation.oneroster.plan import ClassP, CourseP, Plan, SchoolKey, SessionP, check_row, school_key
from foundation.oneroster.spec import CLASS_TYPES, SESSION_TYPES
from foundation.oneroster.values import UNGRADED, grade_of, parse_date, split_list


def plan_sessions(ctx: Context, plan: Plan, table: Table, mode: str) -> None:
    """Academic sessions: types, dates and parents checked; stored (with their dates) in apply."""
    seen: dict[str, int] = {}
    for row in table.rows:
        deleted = check_row(ctx, table, row, mode, seen)
        if deleted is None:
            ctx.report.count("academicSession", "skipped")
            continue
        ok = True
        kind = row.get("type")
        if kind not in SESSION_TYPES:
            match = next((t for t in SESSION_TYPES if t.lower() == kind.lower()), None)
            if match is None:
                ctx.report.error(table.name, row.line, table.col("type"), f"unknown session type {kind!r}")
                ok = False
            else:
                ctx.report.warn(table.name, row.line, table.col("type"), f"session type {kind!r} read as {match!r}")
                kind = match
        start, end = parse_date(row.get("startDate")), parse_date(row.get("endDate"))
        for col, val in (("startDate", start), ("endDate", end)):
            if val is None:
                ctx.report.error(table.name, row.line, table.col(col), f"not an ISO 8601 date: {row.get(col)!r}")
                ok = False
        if start and end and start > end:
            ctx.report.error(table.name, row.line, table.col("endDate"), "ends before it starts")
            ok = False
        year = row.get("schoolYear")
        if year and not (year.isdigit() and len(year) == 4):
            ctx.report.warn(table.name, row.line, table.col("schoolYear"), f"not a four-digit year: {year!r}; ignored")
        if not ok:
            ctx.report.count("academicSession", "skipped")
            continue
        sid = row.get("sourcedId")
        plan.sessions[sid] = SessionP(sid, row.line, row.get("title"), kind, start, end, row.get("parentSourcedId"),
                                      int(year) if year.isdigit() and len(year) == 4 else None, deleted)
    for sess in plan.sessions.values():
        if sess.parent and sess.parent not in plan.sessions and not ctx.known("academicSession", sess.parent):
            ctx.report.warn(table.name, sess.line, table.col("parentSourcedId"),
                            f"parent session {sess.parent!r} is not in the bundle; stored without a parent")
            sess.parent = ""


def plan_courses(ctx: Context, plan: Plan, table: Table, mode: str) -> None:
    seen: dict[str, int] = {}
    for row in table.rows:
        deleted = check_row(ctx, table, row, mode, seen)
        if deleted is None:
            ctx.report.count("course", "skipped")
            continue
        org = row.get("orgSourcedId")
        key = school_key(ctx, plan, org)
        if key is None and (org in plan.district_sids or ctx.known("district", org)):
            key = _school_of_district_course(ctx, plan, table, row)
            if key is None:
                ctx.report.count("course", "skipped")
                continue
        elif key is None:
            if org not in plan.skipped_orgs:
                ctx.report.error(table.name, row.line, table.col("orgSourcedId"), f"unknown school {org!r}")
            ctx.report.count("course", "skipped")
            continue
        grade, why = grade_of(row.get("grades"))
        if why and not deleted:
            ctx.report.warn(table.name, row.line, table.col("grades"), why)
        year = row.get("schoolYearSourcedId")
        if year and "academicSessions.csv" in plan.tables and year not in plan.sessions \
                and not ctx.known("academicSession", year):
            ctx.report.warn(table.name, row.line, table.col("schoolYearSourcedId"),
                            f"school year {year!r} is not in the bundle; stored without it")
            year = ""
        plan.courses[row.get("sourcedId")] = CourseP(
            row.get("sourcedId"), row.line, key, grade, deleted, row.get("title"), row.get("courseCode"),
            row.get("grades"), row.get("subjects"), row.get("subjectCodes"), year)


def _school_of_district_course(ctx: Context, plan: Plan, table: Table, row: Row) -> SchoolKey | None:
    """A course the district owns (orgSourcedId is the district, as the spec allows): Jizuo keeps courses
    per school, so it lands in the school its classes are in, said so; otherwise a precise error."""
    sid, org, col = row.get("sourcedId"), row.get("orgSourcedId"), table.col("orgSourcedId")
    classes = plan.tables["classes.csv"].rows if "classes.csv" in plan.tables else []
    schools = {school_key(ctx, plan, r.get("schoolSourcedId")) for r in classes if r.get("courseSourcedId") == sid}
    schools.discard(None)
    if len(schools) == 1:
        ctx.report.warn(table.name, row.line, col, f"course owned by the district {org!r}: "
                        "placed in the school its classes are in")
        return schools.pop()
    where = "no class of the bundle uses it" if not schools else f"its classes are in {len(schools)} schools"
    ctx.report.error(table.name, row.line, col, f"course owned by the district {org!r}, and {where}: "
                     "Jizuo keeps a course in one school; the course is skipped")
    return None


def plan_classes(ctx: Context, plan: Plan, table: Table, mode: str) -> None:
    seen: dict[str, int] = {}
    for row in table.rows:
        deleted = check_row(ctx, table, row, mode, seen)
        if deleted is None:
            ctx.report.count("class", "skipped")
            continue
        sid, org = row.get("sourcedId"), row.get("schoolSourcedId")
        key = school_key(ctx, plan, org)
        if deleted:
            plan.deleted_classes.add(sid)
        if key is None:
            if org not in plan.skipped_orgs and not deleted:  # a tobedeleted class there is nothing to do
                ctx.report.error(table.name, row.line, table.col("schoolSourcedId"), f"unknown school {org!r}")
            ctx.report.count("class", "skipped")
            continue
        if deleted:
            plan.classes[sid] = ClassP(sid, row.line, row.get("title"), "", False, key, None, "", True)
            continue
        if org in plan.departments:
            ctx.report.warn(table.name, row.line, table.col("schoolSourcedId"),
                            f"{org!r} is a department; the class is placed in its school")
        ctype = row.get("classType")
        if ctype and ctype not in CLASS_TYPES:
            ctx.report.warn(table.name, row.line, table.col("classType"),
                            f"classType {ctype!r} is not one of {', '.join(CLASS_TYPES)}"
                            + (f"; read as {ctype.lower()!r}" if ctype.lower() in CLASS_TYPES else "; not stored"))
        course = row.get("courseSourcedId")
        if "courses.csv" in plan.tables and course and course not in plan.courses and not ctx.known("course", course):
            ctx.report.warn(table.name, row.line, table.col("courseSourcedId"), f"course {course!r} is not in the bundle")
        terms = []
        for term in split_list(row.get("termSourcedIds")):
            if term in plan.sessions or ctx.known("academicSession", term):
                terms.append(term)
            elif "academicSessions.csv" in plan.tables:
                ctx.report.warn(table.name, row.line, table.col("termSourcedIds"), f"term {term!r} is not in the bundle")
        grade, why = grade_of(row.get("grades"))
        if why:
            ctx.report.warn(table.name, row.line, table.col("grades"), why)
        if grade is None and course in plan.courses:
            grade = plan.courses[course].grade
        elif grade is None and (known := ctx.known("course", course)):
            grade = grade_of((ctx.sess.get(Course, known.local_id) or Course()).grades or "")[0]
        if grade is None:
            grade = UNGRADED
            ctx.report.warn(table.name, row.line, table.col("grades"),
                            "no grade (class or course); placed in the ungraded group")
        plan.classes[sid] = ClassP(sid, row.line, row.get("title"), row.get("classCode"),
                                   ctype.lower() == "homeroom", key, grade, course, deleted,
                                   ctype.lower() if ctype.lower() in CLASS_TYPES else None, terms)
