"""People for capabilities, read-only and scoped: a student's guardians, the school's staff and what they
hold (homeroom, subject, grade, school-wide roles), and the school calendar. Everything goes through the
session, so a caller sees only what its scope reaches; guardians' phones come masked, and reading a
student's guardians is audited."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation import codes
from foundation.models import Account, Guardian, GuardianLink, Membership, OrgUnit, Staff
from foundation.permissions import ROLES


def guardians_of(sess: so.Session, student_id: int, lang: str = "zh") -> list[dict[str, Any]]:
    """The student's guardians (empty when the student is out of reach): name, relation, primary or not,
    masked phone and their account (for messages), primary guardian first."""
    from foundation.audit import record
    from foundation.security.fields import mask_phone

    rows = sess.execute(sa.select(GuardianLink, Guardian, Account.id).join(Guardian, Guardian.id == GuardianLink.guardian_id)
                        .outerjoin(Account, sa.and_(Account.person_kind == "guardian", Account.person_id == Guardian.id))
                        .where(GuardianLink.student_id == student_id)
                        .order_by(GuardianLink.is_primary.desc(), GuardianLink.id)).all()
    if rows:
        record("people.guardian.read", "student", student_id, school_id=rows[0][0].school_id,
               detail={"guardians": len(rows)})
    return [{"id": gd.id, "name": gd.name, "relation": link.relation_code,
             "relation_label": codes.label("family_relation", link.relation_code, lang),
             "is_primary": link.is_primary, "phone": mask_phone(_phone(gd)), "account_id": account}
            for link, gd, account in rows]


def _phone(g: Guardian) -> str | None:
    if not g.phone_enc:
        return None
    from flask import current_app

    from foundation.security.fields import cipher_for

    return cipher_for(current_app.config["SECRET_KEY"]).decrypt(g.phone_enc)


def staff_of(sess: so.Session, school_id: int, roles: list[str] | None = None) -> list[dict[str, Any]]:
    """The school's staff with what each holds: ``{"account_id", "staff_id", "name", "subject", "title",
    "roles": [{"role", "unit_id", "unit_kind", "class_ids"}]}``. Grade-level roles list their grade's classes."""
    q = (sa.select(Membership.account_id, Membership.role, Membership.org_unit_id, Account.person_id,
                   Account.display_name, OrgUnit.kind)
         .join(Account, Account.id == Membership.account_id).join(OrgUnit, OrgUnit.id == Membership.org_unit_id)
         .where(Membership.school_id == school_id, Account.active.is_(True), Account.person_kind == "staff"))
    if roles:
        q = q.where(Membership.role.in_(roles))
    rows = sess.execute(q.order_by(Membership.account_id, Membership.id)).all()
    grades = {r.org_unit_id for r in rows if r.kind == "grade"}
    classes_of: dict[int, list[int]] = {}
    if grades:
        for cid, gid in sess.execute(sa.select(OrgUnit.id, OrgUnit.parent_id).where(
                OrgUnit.parent_id.in_(grades), OrgUnit.kind == "class")):
            classes_of.setdefault(gid, []).append(cid)
    people = {s.id: s for s in sess.scalars(sa.select(Staff).where(
        Staff.id.in_({r.person_id for r in rows if r.person_id})))}
    out: dict[int, dict[str, Any]] = {}
    for r in rows:
        if r.role not in ROLES:
            continue
        st = people.get(r.person_id)
        entry = out.setdefault(r.account_id, {"account_id": r.account_id, "staff_id": r.person_id,
                                              "name": st.name if st else r.display_name,
                                              "subject": st.subject if st else None,
                                              "title": st.title if st else None, "roles": []})
        held = [r.org_unit_id] if r.kind == "class" else classes_of.get(r.org_unit_id, [])
        entry["roles"].append({"role": r.role, "unit_id": r.org_unit_id, "unit_kind": r.kind,
                               "class_ids": held if ROLES[r.role].reach == "class" else []})
    return list(out.values())


def school_calendar(sess: so.Session, school_id: int):
    """The school's clock: ``is_school_day(d)``, ``local_date(dt)``, ``school_days(start, end)`` (its
    weekdays, holidays and make-up workdays, in its time zone)."""
    from foundation.alerts.calendar import load_clock

    return load_clock(sess, school_id)


def school_days(clock, start: date, end: date) -> list[date]:
    """The school days from ``start`` to ``end`` inclusive on ``clock``."""
    out, day = [], start
    while day <= end:
        if clock.is_school_day(day):
            out.append(day)
        day += timedelta(days=1)
    return out
