"""Phase 1, people: users with their roles (roles.csv, or 1.1's users.role / orgSourcedIds), demographics,
enrollments and guardian links — checked and resolved, nothing written."""
from __future__ import annotations

from typing import NamedTuple

from foundation import codes
from foundation.oneroster.context import Context
from foundation.oneroster.csvio import Table
from foundation.oneroster.plan import PersonP, Plan, TeachP, check_row, school_key
from foundation.oneroster.spec import (
    ETHNICITY_COLUMN,
    GUARDIAN_ROLES,
    RELATION_OF_ROLE,
    ROLES,
    SEX_CODES,
    STAFF_ROLES,
    STUDENT_ROLES,
)
from foundation.oneroster.values import compose_name, parse_date, split_list

_ROLE_BY_LOWER = {r.lower(): r for r in ROLES}


class RoleRef(NamedTuple):
    user: str
    role: str
    org: str
    primary: bool
    table: Table
    line: int


def plan_users(ctx: Context, plan: Plan, users: Table, roles: Table | None, modes: dict[str, str]) -> None:
    seen: dict[str, int] = {}
    refs: list[RoleRef] = []
    bad: set[str] = set()
    for row in users.rows:
        deleted = check_row(ctx, users, row, modes.get(users.name, ""), seen)
        sid = row.get("sourcedId")
        name = compose_name(row.get("givenName"), row.get("familyName"))
        if deleted is not None and not name and not deleted:
            ctx.report.error(users.name, row.line, users.col("givenName"), "no name (givenName and familyName blank)")
            deleted = None
        elif deleted is not None and len(name) > 60:
            ctx.report.error(users.name, row.line, users.col("familyName"), "name longer than 60 characters")
            deleted = None
        if deleted is None:
            bad.add(sid)
            ctx.report.count("user", "skipped")
            continue
        numbers = [v for v in (row.get("identifier"), row.get("username"), sid) if v]
        plan.people[sid] = PersonP(sid, row.line, name, numbers, row.get("phone") or row.get("sms"),
                                   split_list(row.get("agentSourcedIds")), deleted, username=row.get("username"),
                                   enabled=row.get("enabledUser").lower() != "false", email=row.get("email"))
        if roles is None and users.has("role"):  # OneRoster 1.1: the role is on the user
            for org in split_list(row.get("orgSourcedIds")) or [row.get("primaryOrgSourcedId")]:
                refs.append(RoleRef(sid, row.get("role"), org, True, users, row.line))
    if roles is not None:
        for row in roles.rows:
            deleted = check_row(ctx, roles, row, modes.get(roles.name, ""), None)
            if deleted is None or deleted:
                ctx.report.count("role", "skipped")
                continue
            user = row.get("userSourcedId")
            if user not in plan.people:
                if user not in bad:
                    ctx.report.error(roles.name, row.line, roles.col("userSourcedId"), f"unknown user {user!r}")
                continue
            refs.append(RoleRef(user, row.get("role"), row.get("orgSourcedId"),
                                row.get("roleType").lower() != "secondary", roles, row.line))
    elif not users.has("role"):
        ctx.report.error(users.name, None, None, "no roles.csv and no role column: nobody's role is known")
    for ref in sorted(refs, key=lambda r: not r.primary):
        _assign(ctx, plan, ref)
    with_role = {r.user for r in refs}
    for sid, p in list(plan.people.items()):
        if p.student is None and p.staff is None and not p.guardian_role and not p.deleted:
            if sid not in with_role:
                ctx.report.error(users.name, p.line, users.col("sourcedId"), "the user has no role")
            del plan.people[sid]
            ctx.report.count("user", "skipped")
    _numbers(ctx, plan, users)


def _assign(ctx: Context, plan: Plan, ref: RoleRef) -> None:
    p = plan.people[ref.user]
    role = _ROLE_BY_LOWER.get(ref.role.lower())
    role_col = ref.table.col("role")
    if role is None:
        ctx.report.error(ref.table.name, ref.line, role_col, f"unknown role {ref.role!r}")
        return
    if role != ref.role:
        ctx.report.warn(ref.table.name, ref.line, role_col, f"role {ref.role!r} read as {role!r}")
    if role in GUARDIAN_ROLES:
        p.guardian_role = p.guardian_role or role
        return
    org_col = ref.table.col("orgSourcedIds" if ref.table.name == "users.csv" else "orgSourcedId")
    if ref.org in plan.skipped_orgs:
        return
    key = school_key(ctx, plan, ref.org)
    district = ref.org in plan.district_sids or ctx.known("district", ref.org)
    if key is None and district and role in STAFF_ROLES:
        ctx.report.warn(ref.table.name, ref.line, org_col, "a district-level role; Jizuo keeps staff per school: not imported")
        return
    if key is None:
        ctx.report.error(ref.table.name, ref.line, org_col, f"{ref.org!r} is not a known school")
        return
    if role in STUDENT_ROLES:
        if p.student is None:
            p.student = key
        elif p.student != key:
            ctx.report.warn(ref.table.name, ref.line, org_col, "a student role in a second school; the first is kept")
    elif p.staff is None:
        p.staff, p.staff_role = key, role
    elif p.staff != key:
        ctx.report.warn(ref.table.name, ref.line, org_col, "a staff role in a second school; the first is kept")


def _numbers(ctx: Context, plan: Plan, users: Table) -> None:
    """student_no / staff_no: identifier, else username, else sourcedId (the first that fits 32
    characters); unique per school within the bundle."""
    taken: dict[tuple[str, object, str], int] = {}
    for sid, p in list(plan.people.items()):
        number = next((n for n in p.numbers if len(n) <= 32), None)
        for kind, key in (("student", p.student), ("staff", p.staff)):
            if key is None or p.deleted:
                continue
            if number is None:
                ctx.report.error(users.name, p.line, users.col("identifier"), "identifier, username and sourcedId are all longer than 32 characters")
            elif (kind, key, number) in taken:
                ctx.report.error(users.name, p.line, users.col("identifier"),
                                 f"{kind} number {number!r} is used twice in one school (also line {taken[(kind, key, number)]})")
            else:
                taken[(kind, key, number)] = p.line
                continue
            setattr(p, kind, None)
            if p.student is None and p.staff is None and not p.guardian_role:
                del plan.people[sid]
                ctx.report.count("user", "skipped")
                break
        p.numbers = [number] if number else []


def plan_demographics(ctx: Context, plan: Plan, table: Table, mode: str) -> None:
    seen: dict[str, int] = {}
    for row in table.rows:
        deleted = check_row(ctx, table, row, mode, seen)
        if deleted is None or deleted:
            continue
        p = plan.people.get(row.get("sourcedId"))
        if p is None:
            ctx.report.warn(table.name, row.line, table.col("sourcedId"), "no such user in users.csv; ignored")
            continue
        sex = row.get("sex").lower()
        if sex:
            p.sex = SEX_CODES.get(sex, "0")
            if sex not in SEX_CODES and sex != "other":
                ctx.report.warn(table.name, row.line, table.col("sex"), f"unknown sex {row.get('sex')!r}; read as 0 (unknown)")
        birth = row.get("birthDate")
        if birth:
            p.birth = parse_date(birth)
            if p.birth is None:
                ctx.report.warn(table.name, row.line, table.col("birthDate"), f"not an ISO 8601 date: {birth!r}; ignored")
        eth = row.get(ETHNICITY_COLUMN)
        if eth and codes.is_valid("ethnicity", eth):
            p.ethnicity = eth
        elif eth:
            ctx.report.warn(table.name, row.line, table.col(ETHNICITY_COLUMN), f"not a GB/T 3304 code: {eth!r}; ignored")


def plan_enrollments(ctx: Context, plan: Plan, table: Table, mode: str) -> None:
    """Student enrollments give the student's classes (homeroom and subject classes, in apply); teacher
    ones the staff member's class assignments."""
    seen: dict[str, int] = {}
    staff_roles = {r.lower() for r in STAFF_ROLES}
    for row in table.rows:
        deleted = check_row(ctx, table, row, mode, seen if table.has("sourcedId") else None)
        if deleted is None:
            ctx.report.count("enrollment", "skipped")
            continue
        problem = _enrollment(ctx, plan, row.get("classSourcedId"), row.get("userSourcedId"),
                              row.get("role").lower(), row.line, deleted, staff_roles,
                              row.get("primary").lower() == "true")
        if problem is None:
            continue
        column, message, is_error = problem
        (ctx.report.error if is_error else ctx.report.warn)(table.name, row.line, table.col(column), message)
        ctx.report.count("enrollment", "skipped")


def _enrollment(ctx: Context, plan: Plan, cls_sid: str, user: str, role: str, line: int, deleted: bool,
                staff_roles: set[str], primary: bool) -> tuple[str, str, bool] | None:
    """Record one enrollment; or (column, message, is_error) when it cannot be used."""
    klass = plan.classes.get(cls_sid)
    if cls_sid in plan.deleted_classes:
        return "classSourcedId", f"class {cls_sid!r} is tobedeleted; enrollment ignored", False
    if klass is None and not ctx.known("class", cls_sid):
        return "classSourcedId", f"class {cls_sid!r} is not imported", True
    p = plan.people.get(user)
    if role == "student":
        if p is None and ctx.known("student", user):
            p = plan.people.setdefault(user, PersonP(user, line, "", [], "", [], False, stub=True))
        if p is None:
            return "userSourcedId", f"user {user!r} is not imported", True
        if p.student is None and not p.stub:
            return "role", f"user {user!r} has no student role", True
        (p.dropped if deleted else p.classes).append((cls_sid, line))
        return None
    if role in staff_roles:
        if p is None and not ctx.known("staff", user):
            return "userSourcedId", f"user {user!r} is not imported", True
        if p is not None and p.staff is None and not p.deleted:
            return "role", f"user {user!r} has no staff role", True
        if role not in ("teacher", "aide"):
            return "role", f"a {role} enrollment is not a class assignment in Jizuo; ignored", False
        plan.teaching.append(TeachP(user, cls_sid, primary and role == "teacher", deleted, line))
        return None
    return "role", f"enrollment role {role!r} ignored", False


def plan_links(ctx: Context, plan: Plan, users: Table) -> None:
    """Guardian ↔ student from agentSourcedIds, read from either side."""
    for sid, p in plan.people.items():
        if p.deleted or p.stub:
            continue
        for agent in p.agents:
            other = plan.people.get(agent)
            if p.student is not None:
                if other is not None and other.guardian_role:
                    plan.links[(agent, sid)] = RELATION_OF_ROLE[other.guardian_role]
                    continue
                if other is None and ctx.known("guardian", agent):
                    plan.links[(agent, sid)] = RELATION_OF_ROLE["parent"]
                    continue
            elif p.guardian_role:
                if (other is not None and other.student is not None) or (other is None and ctx.known("student", agent)):
                    plan.links.setdefault((sid, agent), RELATION_OF_ROLE[p.guardian_role])
                    continue
            else:
                continue  # a staff member's agents mean nothing here
            ctx.report.warn(users.name, p.line, users.col("agentSourcedIds"),
                            f"agent {agent!r} is not an imported {'parent/guardian/relative' if p.student is not None else 'student'}; no link")
    linked = {g for g, _ in plan.links}
    for sid, p in plan.people.items():
        if p.guardian_role and sid not in linked and not p.deleted and not ctx.known("guardian", sid):
            ctx.report.warn(users.name, p.line, users.col("agentSourcedIds"), "no student of this guardian is imported; guardian skipped")
            p.guardian_role = ""
            if p.student is None and p.staff is None:
                ctx.report.count("guardian", "skipped")


def check_existing(ctx: Context, plan: Plan, users: Table) -> None:
    """Match people to existing rows — by sourcedId, else by student_no / staff_no in the school — and
    refuse what the database would not take (a number held by someone else, a move between schools)."""
    ints = {k for p in plan.people.values() for k in (p.student, p.staff) if isinstance(k, int)}
    ids = {kind: {k.local_id for sid in plan.people if (k := ctx.known(kind, sid))} for kind in ("student", "staff")}
    ctx.load_people(ints, ids["student"], ids["staff"])
    for kind, rows, by_no in (("student", ctx.students, ctx.student_by_no), ("staff", ctx.staff, ctx.staff_by_no)):
        owners = ctx.linked(kind)
        for sid, p in plan.people.items():
            known = ctx.known(kind, sid)
            row = rows.get(known.local_id) if known else None
            if p.stub or p.deleted:
                setattr(p, f"local_{kind}", row.id if row else None)
                if p.stub and row is not None and kind == "student":
                    p.student = row.school_id
                continue
            key = getattr(p, kind)
            if key is None:
                continue
            school = key if isinstance(key, int) else None
            number = p.numbers[0]
            holder = by_no.get((school, number)) if school is not None else None
            if row is not None and row.school_id != school:
                column, problem = "sourcedId", f"this {kind} is in another school in Jizuo; moves between schools are not imported"
            elif row is not None and holder not in (None, row.id):
                column, problem = "identifier", f"{kind} number {number!r} belongs to another {kind} of the school"
            elif row is None and holder is not None and owners.get(holder, sid) != sid:
                column, problem = "identifier", f"{kind} number {number!r} belongs to the {kind} imported as {owners[holder]!r}"
            else:
                setattr(p, f"local_{kind}", row.id if row is not None else holder)
                continue
            ctx.report.error(users.name, p.line, users.col(column), problem)
            setattr(p, kind, None)
