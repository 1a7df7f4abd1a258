"""Phase 2, the org tree: the district, schools, departments, grades (from courses and classes) and
classes. Existing units change only through the authority rules (library ``school``)."""
from __future__ import annotations

from foundation.demo.names import grade_name
from foundation.models import OrgUnit
from foundation.oneroster.context import Context
from foundation.oneroster.plan import ClassP, Plan
from foundation.oneroster.values import UNGRADED, is_cjk, stable_code, truncate

LIB = "school"
DEFAULT_DISTRICT = ("区教育局", "District Education Bureau")


def _name_en(name: str) -> str | None:
    return None if is_cjk(name) else truncate(name, 120)


def _school_code(text: str) -> bool:
    return len(text) == 10 and text.isdigit()


def ensure_district(ctx: Context, plan: Plan) -> OrgUnit:
    org = plan.district
    if org is not None and (known := ctx.known("district", org.sid)) and (unit := ctx.unit(known.local_id)):
        return unit
    unit = ctx.district
    if unit is None:
        name = org.name if org is not None else DEFAULT_DISTRICT[0]
        code = org.identifier if org is not None and org.identifier and org.identifier not in ctx.codes else None
        unit = ctx.add_unit(OrgUnit(kind="district", name=truncate(name, 120), name_en=_name_en(name), code=code))
        ctx.sess.flush()
        ctx.district = unit
        ctx.report.count("district", "created")
    elif org is not None:
        ctx.report.count("district", "unchanged")
    if org is not None:
        ctx.link("district", org.sid, unit.id, None)
    return unit


def apply_schools(ctx: Context, plan: Plan) -> None:
    table = plan.tables.get("orgs.csv")
    for sid, org in plan.schools.items():
        key = plan.alias[sid]
        if isinstance(key, int):
            unit = ctx.unit(key)
            # a bundle school only put into the --school-code school (not the same school) changes nothing
            proposed = {} if sid in plan.onto_target else {"active": False} if org.deleted else {
                "name": truncate(org.name, 120), "active": True}
            result = ctx.update(unit, proposed, library=LIB, entity="org_unit", school_id=unit.id, count_as="school")
            ctx.report.count("school", "updated" if result == "updated" else "unchanged")
            if sid not in plan.onto_target and org.identifier != unit.code and not _school_code(org.identifier):
                ctx.report.warn("orgs.csv", org.line, table.col("identifier") if table else "identifier",
                                f"identifier {org.identifier!r} is not a 10-digit school code; the school's code is {unit.code}")
            if ctx.link("school", sid, unit.id, unit.id):
                ctx.report.count("school", "linked")
            ctx.school_ids[sid] = unit.id
            continue
        if org.deleted:
            ctx.report.count("school", "skipped")
            continue
        code = org.identifier
        if not _school_code(code) or code in ctx.codes:
            code = ctx.free_code(stable_code("OR", sid))
            why = (f"identifier {org.identifier!r} is not a 10-digit school code" if org.identifier not in ctx.codes
                   else f"school code {org.identifier} is taken by another org unit")
            ctx.report.warn("orgs.csv", org.line, table.col("identifier") if table else "identifier",
                            f"{why}; the school's code is {code}")
        district = ensure_district(ctx, plan)
        unit = ctx.add_unit(OrgUnit(kind="school", name=truncate(org.name, 120), name_en=_name_en(org.name),
                                    code=code, parent_id=district.id))
        ctx.sess.flush()
        unit.school_id = unit.id
        ctx.units[unit.id] = unit
        ctx.schools[unit.id] = code
        ctx.school_ids[sid] = unit.id
        ctx.link("school", sid, unit.id, unit.id)
        ctx.report.count("school", "created")


def apply_departments(ctx: Context, plan: Plan) -> None:
    from foundation.oneroster.plan import school_key

    for sid, org in plan.departments.items():
        school = ctx.school_id(school_key(ctx, plan, sid))
        known = ctx.known("department", sid)
        unit = ctx.unit(known.local_id) if known else next(
            (u for u in ctx.units.values() if u.school_id == school and u.kind == "department" and u.name == org.name), None)
        if unit is not None:
            proposed = {"active": False} if org.deleted else {"name": truncate(org.name, 120), "active": True}
            result = ctx.update(unit, proposed, library=LIB, entity="org_unit", school_id=school, count_as="department")
            ctx.report.count("department", "updated" if result == "updated" else "unchanged")
        elif org.deleted:
            ctx.report.count("department", "skipped")
            continue
        else:
            school_code = ctx.unit(school).code or f"S{school}"
            code = org.identifier if org.identifier.startswith(f"{school_code}-") and len(org.identifier) <= 40 \
                and org.identifier not in ctx.codes else ctx.free_code(stable_code(f"{school_code}-D", sid, 6))
            unit = ctx.add_unit(OrgUnit(kind="department", name=truncate(org.name, 120), name_en=_name_en(org.name),
                                        code=code,
                                        parent_id=school, school_id=school))
            ctx.sess.flush()
            ctx.units[unit.id] = unit
            ctx.report.count("department", "created")
        ctx.link("department", sid, unit.id, school)


def grade_unit(ctx: Context, school: int, grade: int | str) -> OrgUnit:
    """The grade unit of ``school`` (created when missing); codes as the demo builds them: <school>-G09."""
    base = ctx.unit(school).code or f"S{school}"
    code = f"{base}-G{grade}" if isinstance(grade, str) else f"{base}-G{grade:02d}"
    unit = ctx.units_by_code.get(code)
    if unit is not None:
        return unit
    zh, en = ("未分年级", "Ungraded") if grade == UNGRADED else grade_name(int(grade))
    unit = ctx.add_unit(OrgUnit(kind="grade", name=zh, name_en=en, code=code, parent_id=school, school_id=school,
                                seq=99 if grade == UNGRADED else int(grade)))
    ctx.sess.flush()
    ctx.units[unit.id] = unit
    ctx.report.count("grade", "created")
    return unit


def apply_classes(ctx: Context, plan: Plan, progress) -> None:
    owners = ctx.linked("class")
    total = len(plan.classes)
    for done, (sid, c) in enumerate(plan.classes.items(), 1):
        _apply_class(ctx, sid, c, owners)
        if progress and (done % 200 == 0 or done == total):
            progress("classes.csv", done, total)


def _apply_class(ctx: Context, sid: str, c: ClassP, owners: dict[int, str]) -> None:
    school = ctx.school_id(c.school)
    parent = None
    if c.deleted:
        pass
    elif c.grade is not None:
        parent = grade_unit(ctx, school, c.grade).id
    known = ctx.known("class", sid)
    unit = ctx.unit(known.local_id) if known else None
    if unit is None and c.code and (cand := ctx.units_by_code.get(c.code)) is not None:
        if cand.kind == "class" and cand.school_id == school and owners.get(cand.id, sid) == sid:
            unit = cand  # our own export, or a class made by hand with the same code: adopt it
    if unit is not None:
        proposed = {"active": False} if c.deleted else {"name": truncate(c.title, 120), "active": True}
        if parent is not None:
            proposed["parent_id"] = parent
        result = ctx.update(unit, proposed, library=LIB, entity="org_unit", school_id=school, count_as="class")
        ctx.report.count("class", "updated" if result == "updated" else "unchanged")
        if ctx.link("class", sid, unit.id, school) and known is None:
            ctx.report.count("class", "linked")
        return
    if c.deleted:
        ctx.report.count("class", "skipped")
        return
    base = ctx.unit(school).code or f"S{school}"
    code = c.code if c.code.startswith(f"{base}-") and c.code not in ctx.codes and len(c.code) <= 40 else \
        ctx.free_code(stable_code(f"{base}-C", sid, 8))
    unit = ctx.add_unit(OrgUnit(kind="class", name=truncate(c.title, 120), name_en=_name_en(c.title), code=code,
                                parent_id=parent, school_id=school, seq=0))
    ctx.sess.flush()
    ctx.units[unit.id] = unit
    ctx.link("class", sid, unit.id, school)
    ctx.report.count("class", "created")
