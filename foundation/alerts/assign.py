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
from foundation.plugin_models import in_parts


def holders(sess: so.Session, school_id: int, roles: Iterable[str],
            class_ids: Iterable[int | None]) -> dict[tuple[str, int | None], list[int]]:
    """``{(role, class_id): [account ids]}`` for every role and class asked about. School-reach roles hold
    every class of the school; class-reach roles hold a class through a membership at it or at its grade."""
    return holders_many(sess, roles, {school_id: class_ids})[school_id]


def holders_many(sess: so.Session, roles: Iterable[str], classes_of: dict[int, Iterable[int | None]],
                 ) -> dict[int, dict[tuple[str, int | None], list[int]]]:
    """:func:`holders` for many schools at once (``{school_id: class ids}``), in two queries."""
    # a role no plugin declares any more (a chain saved while it was installed) is held by nobody
    roles = [r for r in dict.fromkeys(roles) if r in ROLES]
    wanted = {s: [c for c in dict.fromkeys(cs) if c is not None] for s, cs in classes_of.items()}
    out: dict[int, dict[tuple[str, int | None], list[int]]] = {s: defaultdict(list) for s in wanted}
    if not roles or not wanted:
        return out
    grade_of: dict[int, int | None] = {}
    for part in in_parts(sess, OrgUnit.id, sorted({c for cs in wanted.values() for c in cs})):
        grade_of.update(sess.execute(sa.select(OrgUnit.id, OrgUnit.parent_id).where(part)).all())
    rows = sess.execute(
        sa.select(Membership.school_id, Membership.role, Membership.org_unit_id, Membership.account_id)
        .join(Account, Account.id == Membership.account_id)
        .where(Membership.school_id.in_(sorted(wanted)), Membership.role.in_(roles), Account.active.is_(True))
        .order_by(Membership.account_id)).all()
    at_unit: dict[tuple[int, str, int], list[int]] = defaultdict(list)
    school_wide: dict[tuple[int, str], list[int]] = defaultdict(list)
    for school, role, unit, account in rows:
        if ROLES[role].reach == "school":
            school_wide[(school, role)].append(account)
        else:
            at_unit[(school, role, unit)].append(account)
    for school, classes in wanted.items():
        found = out[school]
        for role in roles:
            if ROLES[role].reach == "school":
                found[(role, None)] = list(dict.fromkeys(school_wide[(school, role)]))
                for c in classes:
                    found[(role, c)] = found[(role, None)]
            else:
                for c in classes:
                    held = at_unit[(school, role, c)] + at_unit[(school, role, grade_of.get(c) or -1)]
                    found[(role, c)] = list(dict.fromkeys(held))
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
