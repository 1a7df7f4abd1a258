"""Phase 2, sign-in: an account for each user the bundle lets sign in (``enabledUser``), named by its
``username``; the e-mail and phone it gives, where messages reach the person; and teacher enrollments as
the class assignments (homeroom / subject teacher memberships) that teachers' reach is made of.

An account made here has no password: the person signs in through the district's portal, or once an
admin sets one (``jizuo accounts set-password``). An existing account keeps its name."""
from __future__ import annotations

import sqlalchemy as sa

from foundation.models import Account, GuardianLink, Membership, MessageContact, Student
from foundation.oneroster.context import Context, _chunks
from foundation.oneroster.plan import PersonP, Plan

KINDS = ("staff", "student", "guardian")  # the person an account is, when a user is several
TEACHING = ("homeroom_teacher", "subject_teacher")


def _existing(ctx: Context, plan: Plan) -> dict[tuple[str, int], Account]:
    out: dict[tuple[str, int], Account] = {}
    for kind in KINDS:
        ids = sorted({k.local_id for sid in plan.people if (k := ctx.known(kind, sid))})
        for chunk in _chunks(ids):
            out.update(((kind, a.person_id), a) for a in ctx.sess.scalars(
                sa.select(Account).where(Account.person_kind == kind, Account.person_id.in_(chunk))))
    return out


def _kinds(ctx: Context, p: PersonP) -> list[tuple[str, int]]:
    roles = {"staff": p.staff is not None, "student": p.student is not None, "guardian": bool(p.guardian_role)}
    return [(kind, k.local_id) for kind in KINDS if roles[kind] and (k := ctx.known(kind, p.sid))]


def apply_accounts(ctx: Context, plan: Plan) -> None:
    accounts = _existing(ctx, plan)
    names = sorted({p.username for p in plan.people.values() if p.username})
    taken: set[str] = set()
    for chunk in [names[i:i + 500] for i in range(0, len(names), 500)]:
        taken.update(ctx.sess.scalars(sa.select(Account.username).where(Account.username.in_(chunk))))
    users = plan.tables.get("users.csv")
    col = users.col("username") if users else "username"
    made: list[tuple[PersonP, str, Account]] = []
    contacts: list[tuple[PersonP, Account]] = []
    for p in plan.people.values():
        if p.stub:
            continue
        kinds = _kinds(ctx, p)
        acct = next((accounts[k] for k in kinds if k in accounts), None)
        if p.deleted:
            for kind in KINDS:
                if (k := ctx.known(kind, p.sid)) and (a := accounts.get((kind, k.local_id))) and a.active:
                    a.active = False
                    ctx.report.count("account", "deactivated")
            continue
        if acct is not None:
            if p.username and acct.username != p.username:
                ctx.report.warn("users.csv", p.line, col, f"the account is named {acct.username!r}; it keeps "
                                                          f"its name (username {p.username!r} not applied)")
            ctx.report.count("account", "unchanged")
        elif not kinds or not p.enabled:
            continue
        elif not p.username:
            ctx.report.warn("users.csv", p.line, col, "no username: no account made (the person cannot sign in)")
            continue
        elif len(p.username) > 64 or p.username in taken:
            why = "longer than 64 characters" if len(p.username) > 64 else "taken by another account"
            ctx.report.warn("users.csv", p.line, col, f"username {p.username!r} is {why}: no account made")
            continue
        else:
            kind, person = kinds[0]
            acct = Account(username=p.username, display_name=p.name[:60], password_hash=None, person_kind=kind,
                           person_id=person, active=True)
            ctx.sess.add(acct)
            taken.add(p.username)
            accounts[(kind, person)] = acct
            made.append((p, kind, acct))
            ctx.report.count("account", "created")
        contacts.append((p, acct))
    ctx.sess.flush()
    for _p, kind, acct in made:
        _base_roles(ctx, kind, acct)
    for p, acct in contacts:
        _contact(ctx, p, acct)
    _teaching(ctx, plan, accounts)


def _contact(ctx: Context, p: PersonP, acct: Account) -> None:
    """The roster's e-mail and phone fill in the person's contact; what is there already is kept."""
    phone = p.phone if acct.person_kind != "guardian" and ctx.cipher is not None else ""
    if not (p.email or phone):
        return
    contact = ctx.sess.get(MessageContact, acct.id)
    if contact is None:
        contact = MessageContact(account_id=acct.id)
        ctx.sess.add(contact)
    if p.email and not contact.email and len(p.email) <= 254:
        contact.email = p.email
    if phone and not contact.phone_enc:
        contact.phone_enc = ctx.cipher.encrypt(phone)


def _base_roles(ctx: Context, kind: str, acct: Account) -> None:
    """A new student account holds the student role at the student's class (else school); a guardian's,
    the parent role at each child's school, as the portal's first sign-in gives it."""
    if kind == "student":
        student = ctx.sess.get(Student, acct.person_id)
        school = student.school_id if student else None
        unit = (student.class_id or school) if student else None
        if unit is not None:
            acct.memberships.append(Membership(role="student", org_unit_id=unit, school_id=school))
    elif kind == "guardian":
        for school in sorted(set(ctx.sess.scalars(sa.select(GuardianLink.school_id)
                                                  .where(GuardianLink.guardian_id == acct.person_id)))):
            acct.memberships.append(Membership(role="parent", org_unit_id=school, school_id=school))


def _teaching(ctx: Context, plan: Plan, accounts: dict[tuple[str, int], Account]) -> None:
    """Teacher enrollments → homeroom_teacher (the primary teacher of a homeroom class) or subject_teacher
    memberships at the class; a tobedeleted one removes it."""
    for t in plan.teaching:
        staff, klass = ctx.known("staff", t.user), ctx.known("class", t.cls)
        unit = ctx.unit(klass.local_id) if klass else None
        acct = accounts.get(("staff", staff.local_id)) if staff else None
        if unit is None or staff is None:
            ctx.report.count("assignment", "skipped")
            continue
        if acct is None:
            if not t.deleted:
                ctx.report.warn("enrollments.csv", t.line, "userSourcedId",
                                f"teacher {t.user!r} has no account in Jizuo (enabledUser false or no usable "
                                "username): the class assignment is not stored")
                ctx.report.count("assignment", "skipped")
            continue
        held = [m for m in acct.memberships if m.org_unit_id == unit.id and m.role in TEACHING]
        if t.deleted:
            for m in held:
                acct.memberships.remove(m)
            ctx.report.count("assignment", "removed" if held else "unchanged")
            continue
        c = plan.classes.get(t.cls)
        homeroom = (c.class_type if c is not None else unit.class_type) == "homeroom"
        role = "homeroom_teacher" if t.primary and homeroom else "subject_teacher"
        if any(m.role == role for m in held):
            ctx.report.count("assignment", "unchanged")
            continue
        acct.memberships.append(Membership(role=role, org_unit_id=unit.id, school_id=unit.school_id))
        ctx.report.count("assignment", "created")
