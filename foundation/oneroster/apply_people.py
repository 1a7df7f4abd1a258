"""Phase 2, people: students (with their class), staff, guardians and guardian links. New rows are added
in bulk (one flush per kind); existing ones change only through the authority rules."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from foundation.models import Guardian, GuardianLink, Staff, Student, StudentClass
from foundation.oneroster.context import Context, _chunks
from foundation.oneroster.plan import PersonP, Plan
from foundation.oneroster.spec import DELETED_STUDENT_STATUS, TITLE_OF_ROLE, UNKNOWN_ETHNICITY

Progress = Callable[[str, int, int], None] | None


def _tick(progress: Progress, done: int, total: int) -> None:
    if progress and (done % 500 == 0 or done == total):
        progress("users.csv", done, total)


def apply_people(ctx: Context, plan: Plan, progress: Progress = None) -> None:
    new_students: list[tuple[str, Student]] = []
    new_staff: list[tuple[str, Staff]] = []
    new_guardians: list[tuple[str, Guardian]] = []
    subject: dict[str, tuple[bool, list[int]]] = {}  # student sid → (classes listed?, subject class ids)
    total = len(plan.people)
    ids = sorted({k.local_id for sid, p in plan.people.items() if p.guardian_role and (k := ctx.known("guardian", sid))})
    guardians: dict[int, Guardian] = {}
    for chunk in _chunks(ids):
        guardians.update((g.id, g) for g in ctx.sess.scalars(sa.select(Guardian).where(Guardian.id.in_(chunk))))
    for done, p in enumerate(plan.people.values(), 1):
        if p.deleted:
            _deactivate(ctx, p)
        elif p.stub:
            if p.local_student is not None:
                _student(ctx, plan, p, new_students, subject)
        else:
            if p.student is not None:
                _student(ctx, plan, p, new_students, subject)
            if p.staff is not None:
                _staff(ctx, p, new_staff)
            if p.guardian_role:
                _guardian(ctx, p, guardians, new_guardians)
        _tick(progress, done, total)
    for entity, rows in (("student", new_students), ("staff", new_staff), ("guardian", new_guardians)):
        if rows:
            ctx.sess.add_all([obj for _, obj in rows])
            ctx.sess.flush()
            for sid, obj in rows:
                ctx.link(entity, sid, obj.id, getattr(obj, "school_id", None))
            ctx.report.count(entity, "created", len(rows))
    _subject_classes(ctx, plan, subject)
    _links(ctx, plan)


def _deactivate(ctx: Context, p: PersonP) -> None:
    """tobedeleted: never a hard delete. Students get status 99 (其他), staff active=False; guardians stay."""
    done = False
    if p.local_student is not None and (s := ctx.students.get(p.local_student)):
        _count(ctx, "student", ctx.update(s, {"status_code": DELETED_STUDENT_STATUS}, library="student",
                                          entity="student", school_id=s.school_id), deleted=True)
        done = True
    if p.local_staff is not None and (t := ctx.staff.get(p.local_staff)):
        _count(ctx, "staff", ctx.update(t, {"active": False}, library="staff", entity="staff",
                                        school_id=t.school_id), deleted=True)
        done = True
    if not done:
        ctx.report.count("user", "skipped")


def _count(ctx: Context, entity: str, result: str, deleted: bool = False) -> None:
    if deleted and result == "updated":
        ctx.report.count(entity, "deactivated")
    ctx.report.count(entity, "updated" if result == "updated" else "unchanged")


def _class_of(ctx: Context, plan: Plan, p: PersonP, school: int | None) -> tuple[bool, int | None, list[int]]:
    """(whether the bundle says anything about the classes, the homeroom class id, the subject class ids).
    The homeroom is the first homeroom class, else the first class whose type is not stated; scheduled
    classes, and any further ones, are subject classes."""
    options: list[tuple[int, int, int]] = []  # (rank: 0 homeroom, 1 not stated, 2 scheduled; class id; line)
    for cls_sid, line in p.classes:
        known = ctx.known("class", cls_sid)
        unit = ctx.unit(known.local_id) if known is not None else None
        if unit is None:
            continue
        if known.school_id != school:
            ctx.report.warn("enrollments.csv", line, "classSourcedId", f"class {cls_sid!r} is in another school; ignored")
            ctx.report.count("enrollment", "skipped")
            continue
        c = plan.classes.get(cls_sid)
        kind = c.class_type if c is not None else unit.class_type
        options.append(({"homeroom": 0, "scheduled": 2}.get(kind or "", 1), known.local_id, line))
    if options:
        best = min(options, key=lambda o: o[0])  # stable: the first of the best kind
        homeroom = best[1] if best[0] < 2 else None
        homerooms = [o for o in options if o[0] == 0]
        if len(homerooms) > 1:
            ctx.report.warn("enrollments.csv", homerooms[1][2], "classSourcedId",
                            f"student in {len(homerooms)} homeroom classes; the first is the homeroom, "
                            "the others are kept as further classes")
        return True, homeroom, list(dict.fromkeys(o[1] for o in options if o[1] != homeroom))
    dropped = {k.local_id for c, _ in p.dropped if (k := ctx.known("class", c))}
    current = ctx.students[p.local_student].class_id if p.local_student in ctx.students else None
    if current is not None and current in dropped:
        return True, None, []
    return False, None, []


def _student(ctx: Context, plan: Plan, p: PersonP, new: list[tuple[str, Student]],
             subject: dict[str, tuple[bool, list[int]]]) -> None:
    school = ctx.school_id(p.student)
    says_class, class_id, others = _class_of(ctx, plan, p, school)
    if says_class:
        subject[p.sid] = (True, others)
    elif p.dropped:
        subject[p.sid] = (False, [])
    existing = ctx.students.get(p.local_student) if p.local_student is not None else None
    if existing is None:
        new.append((p.sid, Student(school_id=school, student_no=p.numbers[0], name=p.name, sex_code=p.sex or "0",
                                   ethnicity_code=p.ethnicity or UNKNOWN_ETHNICITY, birth_date=p.birth,
                                   class_id=class_id, status_code="01")))
        if says_class and class_id is not None:
            ctx.report.count("enrollment", "created")
        return
    proposed: dict[str, Any] = {} if p.stub else {"student_no": p.numbers[0], "name": p.name}
    for attr, value in (("sex_code", p.sex), ("birth_date", p.birth), ("ethnicity_code", p.ethnicity)):
        if value is not None:
            proposed[attr] = value
    if says_class:
        proposed["class_id"] = class_id
        if class_id is not None:
            ctx.report.count("enrollment", "unchanged" if existing.class_id == class_id else "updated")
    _count(ctx, "student", ctx.update(existing, proposed, library="student", entity="student", school_id=school))
    if ctx.link("student", p.sid, existing.id, school):
        ctx.report.count("student", "linked")


def _subject_classes(ctx: Context, plan: Plan, subject: dict[str, tuple[bool, list[int]]]) -> None:
    """The student's classes besides the homeroom: added as the bundle lists them; one it marks
    tobedeleted is removed, and so is one a bulk enrollments file no longer lists."""
    bulk = ctx.report.modes.get("enrollments.csv") == "bulk"
    students = {k.local_id: sid for sid in subject if (k := ctx.known("student", sid))}
    have: dict[int, set[int]] = {}
    for chunk in _chunks(sorted(students)):
        for stid, cid in ctx.sess.execute(sa.select(StudentClass.student_id, StudentClass.class_id)
                                          .where(StudentClass.student_id.in_(chunk))):
            have.setdefault(stid, set()).add(cid)
    for stid, sid in students.items():
        listed, wanted = subject[sid]
        p, mine = plan.people[sid], have.get(stid, set())
        dropped = {k.local_id for c, _ in p.dropped if (k := ctx.known("class", c))}
        gone = (mine - set(wanted)) if listed and bulk else (mine & dropped)
        if gone:
            ctx.sess.execute(sa.delete(StudentClass).where(StudentClass.student_id == stid,
                                                           StudentClass.class_id.in_(gone)))
            ctx.report.count("enrollment", "removed", len(gone))
        school = ctx.school_id(p.student)
        for cid in wanted:
            if cid in mine:
                ctx.report.count("enrollment", "unchanged")
            else:
                ctx.sess.add(StudentClass(student_id=stid, class_id=cid, school_id=school))
                ctx.report.count("enrollment", "created")


def _staff(ctx: Context, p: PersonP, new: list[tuple[str, Staff]]) -> None:
    school = ctx.school_id(p.staff)
    existing = ctx.staff.get(p.local_staff) if p.local_staff is not None else None
    if existing is None:
        new.append((p.sid, Staff(school_id=school, staff_no=p.numbers[0], name=p.name, sex_code=p.sex or "0",
                                 title=TITLE_OF_ROLE.get(p.staff_role), active=True)))
        return
    proposed: dict[str, Any] = {"staff_no": p.numbers[0], "name": p.name, "active": True}
    if p.sex is not None:
        proposed["sex_code"] = p.sex
    _count(ctx, "staff", ctx.update(existing, proposed, library="staff", entity="staff", school_id=school))
    if ctx.link("staff", p.sid, existing.id, school):
        ctx.report.count("staff", "linked")


def _guardian(ctx: Context, p: PersonP, guardians: dict[int, Guardian], new: list[tuple[str, Guardian]]) -> None:
    """Guardians are matched by sourcedId only (no natural key is safe: phones are shared). A phone is
    stored encrypted with its blind index, and only filled in, never overwritten (no clear value may
    sit in a conflict)."""
    known = ctx.known("guardian", p.sid)
    existing = guardians.get(known.local_id) if known else None
    phone = {}
    if p.phone and ctx.cipher is not None:
        phone = {"phone_enc": ctx.cipher.encrypt(p.phone), "phone_hash": ctx.cipher.blind_index(p.phone)}
    if existing is None:
        new.append((p.sid, Guardian(name=p.name, **phone)))
        return
    result = ctx.update(existing, {"name": p.name}, library="student", entity="guardian", school_id=None)
    if phone and existing.phone_enc is None:
        existing.phone_enc, existing.phone_hash = phone["phone_enc"], phone["phone_hash"]
        result = "updated"
    _count(ctx, "guardian", result)


def _links(ctx: Context, plan: Plan) -> None:
    pairs = []
    for (g_sid, s_sid), relation in plan.links.items():
        g, s = ctx.known("guardian", g_sid), ctx.known("student", s_sid)
        if g is None or s is None:
            continue
        pairs.append((g.local_id, s.local_id, s.school_id, relation))
    student_ids = sorted({p[1] for p in pairs})
    have: set[tuple[int, int]] = set()
    primary: set[int] = set()
    for chunk in _chunks(student_ids):
        for gid, stid, is_primary in ctx.sess.execute(sa.select(
                GuardianLink.guardian_id, GuardianLink.student_id, GuardianLink.is_primary)
                .where(GuardianLink.student_id.in_(chunk))):
            have.add((gid, stid))
            if is_primary:
                primary.add(stid)
    for gid, stid, school, relation in pairs:
        if (gid, stid) in have:
            ctx.report.count("guardian_link", "unchanged")
            continue
        ctx.sess.add(GuardianLink(guardian_id=gid, student_id=stid, school_id=school, relation_code=relation,
                                  is_primary=stid not in primary))
        have.add((gid, stid))
        primary.add(stid)
        ctx.report.count("guardian_link", "created")
