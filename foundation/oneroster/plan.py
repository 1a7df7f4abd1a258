"""Phase 1 of an import: check every row and resolve every reference, writing nothing. What passes is a
:class:`Plan` that phase 2 (apply) can write without further errors; so ``atomic`` can stop here."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from foundation.oneroster.context import Context, SchoolKey
from foundation.oneroster.csvio import BUNDLE, Row, Table
from foundation.oneroster.spec import ORG_TYPES, REQUIRED_VALUES
from foundation.oneroster.values import is_datetime


@dataclass
class OrgP:
    sid: str
    line: int
    kind: str  # district | school | department
    name: str
    identifier: str
    parent: str
    deleted: bool


@dataclass
class SessionP:
    sid: str
    line: int
    title: str
    kind: str
    start: date
    end: date
    parent: str
    year: int | None
    deleted: bool


@dataclass
class CourseP:
    sid: str
    line: int
    school: SchoolKey
    grade: int | str | None
    deleted: bool
    title: str = ""
    code: str = ""
    grades: str = ""
    subjects: str = ""
    subject_codes: str = ""
    year: str = ""  # schoolYearSourcedId


@dataclass
class ClassP:
    sid: str
    line: int
    title: str
    code: str
    homeroom: bool
    school: SchoolKey
    grade: int | str | None  # 1..12, UNGRADED, or None: not stated (then the course's, else ungraded)
    course: str
    deleted: bool
    class_type: str | None = None  # homeroom | scheduled | None (not stated)
    terms: list[str] = field(default_factory=list)


@dataclass
class TeachP:
    """A teacher enrollment: the staff member teaches the class (primary: its lead teacher)."""

    user: str
    cls: str
    primary: bool
    deleted: bool
    line: int


@dataclass
class PersonP:
    sid: str
    line: int
    name: str
    numbers: list[str]  # candidates for student_no / staff_no, best first
    phone: str
    agents: list[str]
    deleted: bool
    student: SchoolKey | None = None  # the school of the student role
    staff: SchoolKey | None = None  # the school of the staff role
    staff_role: str = ""
    guardian_role: str = ""
    sex: str | None = None  # from demographics
    birth: date | None = None
    ethnicity: str | None = None
    # student enrollments: (class sourcedId, line in enrollments.csv), in file order; and tobedeleted ones
    classes: list[tuple[str, int]] = field(default_factory=list)
    dropped: list[tuple[str, int]] = field(default_factory=list)
    local_student: int | None = None  # the existing student / staff row this person is (set by the checks)
    local_staff: int | None = None
    stub: bool = False  # not in users.csv: a known student named by a (delta) enrollment only
    username: str = ""
    enabled: bool = True  # enabledUser: may sign in (an account is made)
    email: str = ""


@dataclass
class Plan:
    tables: dict[str, Table]
    district: OrgP | None = None
    district_sids: set[str] = field(default_factory=set)
    schools: dict[str, OrgP] = field(default_factory=dict)
    departments: dict[str, OrgP] = field(default_factory=dict)
    alias: dict[str, SchoolKey] = field(default_factory=dict)  # bundle school sid → the school it lands in
    skipped_orgs: set[str] = field(default_factory=set)  # other schools when importing into one
    onto_target: set[str] = field(default_factory=set)  # bundle schools put into --school-code's school
    sessions: dict[str, SessionP] = field(default_factory=dict)
    courses: dict[str, CourseP] = field(default_factory=dict)
    classes: dict[str, ClassP] = field(default_factory=dict)
    deleted_classes: set[str] = field(default_factory=set)
    people: dict[str, PersonP] = field(default_factory=dict)
    links: dict[tuple[str, str], str] = field(default_factory=dict)  # (guardian sid, student sid) → relation
    teaching: list[TeachP] = field(default_factory=list)


def check_row(ctx: Context, table: Table, row: Row, mode: str, seen: dict[str, int] | None) -> bool | None:
    """Common checks. Returns None for a bad row (reported), else whether the row is tobedeleted."""
    name, ok = table.name, True
    for col in REQUIRED_VALUES.get(name, ()):
        if not row.get(col):
            ctx.report.error(name, row.line, table.col(col), "required value is blank")
            ok = False
    sid = row.get("sourcedId")
    if seen is not None and sid:
        if sid in seen:
            ctx.report.error(name, row.line, table.col("sourcedId"), f"duplicate sourcedId {sid!r} (first on line {seen[sid]})")
            ok = False
        else:
            seen[sid] = row.line
    modified = row.get("dateLastModified")
    if modified and not is_datetime(modified):
        ctx.report.warn(name, row.line, table.col("dateLastModified"),
                        f"not an ISO 8601 date-time: {modified!r}; ignored")
    status = row.get("status").lower()
    deleted = False
    if status == "tobedeleted":
        deleted = True
    elif status == "inactive":
        ctx.report.warn(name, row.line, table.col("status"),
                        "status 'inactive' is not in OneRoster 1.1/1.2; treated as tobedeleted")
        deleted = True
    elif not status and table.has("status") and (mode == "delta" or table.any_value("status")):
        ctx.report.warn(name, row.line, table.col("status"), "status is blank; treated as active")
    elif status and status != "active":
        ctx.report.error(name, row.line, table.col("status"), f"unknown status {row.get('status')!r}")
        ok = False
    return deleted if ok else None


def school_key(ctx: Context, plan: Plan, sid: str, depth: int = 0) -> SchoolKey | None:
    """The school an org reference lands in: a bundle school, a department's school, a known school."""
    if sid in plan.alias:
        return plan.alias[sid]
    if sid in plan.departments and depth < 8:
        dept = plan.departments[sid]
        if dept.parent in plan.skipped_orgs:
            return None
        key = school_key(ctx, plan, dept.parent, depth + 1) if dept.parent else None
        return key if key is not None else _target_key(ctx, plan)
    for entity in ("school", "department"):
        if known := ctx.known(entity, sid):
            return known.local_id if entity == "school" else known.school_id
    return None


def _target_key(ctx: Context, plan: Plan) -> SchoolKey | None:
    if ctx.target is not None:
        return ctx.target.id
    return next((s for s, o in plan.schools.items() if o.identifier == ctx.school_code and ctx.school_code), None)


def plan_orgs(ctx: Context, plan: Plan, table: Table, mode: str) -> bool:
    """Schools, departments and the district. False when the import cannot go on (--school-code)."""
    seen: dict[str, int] = {}
    for row in table.rows:
        deleted = check_row(ctx, table, row, mode, seen)
        if deleted is None:
            continue
        kind = row.get("type")
        if kind not in ORG_TYPES:
            match = next((t for t in ORG_TYPES if t.lower() == kind.lower()), None)
            if match is None:
                ctx.report.error(table.name, row.line, table.col("type"), f"unknown org type {kind!r}")
                continue
            ctx.report.warn(table.name, row.line, table.col("type"), f"org type {kind!r} read as {match!r}")
            kind = match
        org = OrgP(row.get("sourcedId"), row.line, kind, row.get("name"), row.get("identifier"),
                   row.get("parentSourcedId"), deleted)
        if kind == "district":
            plan.district_sids.add(org.sid)
            if plan.district is None:
                plan.district = org
            else:
                ctx.report.warn(table.name, row.line, None, "a second district org; read as the same district")
        elif kind == "school":
            plan.schools[org.sid] = org
        elif kind == "department":
            plan.departments[org.sid] = org
        else:
            ctx.report.warn(table.name, row.line, table.col("type"), f"{kind} orgs are above the district; ignored")
    if not _choose_target(ctx, plan, table):
        return False
    for sid, dept in list(plan.departments.items()):
        if dept.parent in plan.skipped_orgs:  # a department of a school not being imported
            plan.skipped_orgs.add(sid)
            del plan.departments[sid]
            continue
        if (school_key(ctx, plan, dept.parent) if dept.parent else None) is not None:
            continue
        what = f"parent org {dept.parent!r} is not in the bundle nor in Jizuo" if dept.parent else \
            "no parent org (parentSourcedId is blank)"
        if _target_key(ctx, plan) is None:
            ctx.report.error(table.name, dept.line, table.col("parentSourcedId"),
                             f"{what}: a department needs its school; give --school-code to place it")
            del plan.departments[sid]
            ctx.report.count("department", "skipped")
        else:
            ctx.report.warn(table.name, dept.line, table.col("parentSourcedId"),
                            f"{what}; placed under school {ctx.school_code}")
    for org in plan.schools.values():
        if not org.parent or org.parent in plan.district_sids or ctx.known("district", org.parent):
            continue
        above = "another school" if org.parent in plan.schools or ctx.known("school", org.parent) else \
            "a department" if org.parent in plan.departments else "not in the bundle"
        ctx.report.warn(table.name, org.line, table.col("parentSourcedId"),
                        f"parent org {org.parent!r} is {above}; Jizuo keeps every school under the district: "
                        "placed there")
    return True


def _existing_school(ctx: Context, org: OrgP) -> int | None:
    """The school a bundle school row is already in the database as: by its sourcedId, else by its code."""
    if known := ctx.known("school", org.sid):
        return known.local_id
    return ctx.school_codes.get(org.identifier) if len(org.identifier) == 10 and org.identifier.isdigit() else None


def _choose_target(ctx: Context, plan: Plan, table: Table) -> bool:
    for sid, org in list(plan.schools.items()):
        existing = _existing_school(ctx, org)
        if existing is None and org.deleted:  # nothing to deactivate; whatever names it is skipped too
            plan.skipped_orgs.add(sid)
            del plan.schools[sid]
            ctx.report.count("school", "skipped")
            continue
        plan.alias[sid] = existing if existing is not None else sid
    if not ctx.school_code:
        return True
    matching = [s for s, o in plan.schools.items() if o.identifier == ctx.school_code]
    target: SchoolKey | None = ctx.target.id if ctx.target is not None else (matching[0] if matching else None)
    if target is None:
        ctx.report.error(BUNDLE, None, None, f"school {ctx.school_code!r} is neither in the database nor in the bundle")
        return False
    if not matching and len(plan.schools) > 1:
        ctx.report.error(table.name, None, "identifier", f"{len(plan.schools)} schools in the bundle and none has "
                                                         f"identifier {ctx.school_code!r}: cannot tell which to import")
        return False
    for sid, org in plan.schools.items():
        if matching and sid not in matching:
            plan.skipped_orgs.add(sid)
            del plan.alias[sid]
            ctx.report.warn(table.name, org.line, None, f"school {org.name!r} is not {ctx.school_code}; skipped")
            ctx.report.count("school", "skipped")
        else:
            plan.alias[sid] = target
            if not matching:  # not this school by its code: its name etc. are not this school's
                plan.onto_target.add(sid)
                ctx.report.warn(table.name, org.line, table.col("identifier"),
                                f"school {org.name!r} imported as school {ctx.school_code}")
    for sid in plan.skipped_orgs:
        plan.schools.pop(sid, None)
    return True
