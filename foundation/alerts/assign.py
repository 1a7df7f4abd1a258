"""Who holds a role for a student: the homeroom teacher of the student's class, a grade head of its grade,
the school's psychology teacher or admin. Used to assign cases and to find each escalation step's people.

Reads memberships (not school-scoped) but always for one named school: the engine acts for the
school whatever the caller's own reach (a plugin's event handler, the scheduler).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.models import Account, Membership, OrgUnit
from foundation.permissions import ROLES


def holders(sess: so.Session, school_id: int, roles: Iterable[str],
            class_ids: Iterable[int | None]) -> dict[tuple[str, int | None], list[int]]:
    """``{(role, class_id): [account ids]}`` for every role and class asked about. School-reach roles hold
    every class of the school; class-reach roles hold a class through a membership at it or at its grade."""
    # a role no plugin declares any more (a chain saved while it was installed) is held by nobody
    roles = [r for r in dict.fromkeys(roles) if r in ROLES]
    classes = [c for c in dict.fromkeys(class_ids) if c is not None]
    out: dict[tuple[str, int | None], list[int]] = defaultdict(list)
    if not roles:
        return out
    grade_of: dict[int, int | None] = {}
    if classes:
        grade_of = dict(sess.execute(sa.select(OrgUnit.id, OrgUnit.parent_id).where(OrgUnit.id.in_(classes))).all())
    rows = sess.execute(
        sa.select(Membership.role, Membership.org_unit_id, Membership.account_id)
        .join(Account, Account.id == Membership.account_id)
        .where(Membership.school_id == school_id, Membership.role.in_(roles), Account.active.is_(True))
        .order_by(Membership.account_id)).all()
    at_unit: dict[tuple[str, int], list[int]] = defaultdict(list)
    school_wide: dict[str, list[int]] = defaultdict(list)
    for role, unit, account in rows:
        if ROLES[role].reach == "school":
            school_wide[role].append(account)
        else:
            at_unit[(role, unit)].append(account)
    for role in roles:
        if ROLES[role].reach == "school":
            out[(role, None)] = list(dict.fromkeys(school_wide[role]))
            for c in classes:
                out[(role, c)] = out[(role, None)]
        else:
            for c in classes:
                found = at_unit[(role, c)] + at_unit[(role, grade_of.get(c) or -1)]
                out[(role, c)] = list(dict.fromkeys(found))
    return out


def for_case(found: dict[tuple[str, int | None], list[int]], roles: Iterable[str],
             class_id: int | None) -> list[tuple[int, str]]:
    """[(account id, role)] for one case, each account once (its first role in ``roles`` order)."""
    seen: dict[int, str] = {}
    for role in roles:
        key = (role, class_id) if ROLES[role].reach != "school" or class_id is not None else (role, None)
        for account in found.get(key, []):
            seen.setdefault(account, role)
    return list(seen.items())
