"""How far a notice goes, told honestly before it is sent: the accounts it reaches, and — for a class or a
school — how many of its students' families (or the students themselves) have no account yet, and so
will not see it. "全校 / 所有人" reaching 37 people in a school of 600 pupils says so.

Counted in the sender's own scope: a homeroom teacher counts their class, a school admin their school.
District staff see no students, so a district-wide notice reports the accounts it reaches only.
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.messaging.recipients import resolve
from foundation.models import Account, GuardianLink, Student


def _has_account(kind: str, person_id) -> sa.Exists:
    return sa.exists().where(Account.person_kind == kind, Account.person_id == person_id, Account.active.is_(True))


def family_has_account():
    """True for a student (the outer ``Student`` row) with at least one guardian holding an active account."""
    return sa.exists().where(GuardianLink.student_id == Student.id,
                             _has_account("guardian", GuardianLink.guardian_id))


def student_has_account():
    return _has_account("student", Student.id)


def covers(audience: dict) -> tuple[bool, bool]:
    """Does the audience include parents, and students? (``audience``: kind, target, role as sent.)"""
    kind = audience.get("kind")
    if kind == "student":  # one student's guardians
        return True, False
    if kind == "class":
        target = audience.get("target") or "parents"
        return target in ("parents", "both"), target in ("students", "both")
    if kind == "school":
        role = audience.get("role")
        return role in (None, "parent"), role in (None, "student")
    return False, False


def students_where(audience: dict, school_id: int | None, class_id: int | None):
    """The students an audience is about (None: a district notice, whose students the sender does not see)."""
    if audience.get("kind") == "student" and audience.get("student_id"):
        return Student.id == audience["student_id"]
    if audience.get("kind") == "class" and class_id is not None:
        return Student.class_id == class_id
    if audience.get("kind") == "school" and school_id is not None:
        return Student.school_id == school_id
    return None


def count(sess: so.Session, selectors: list[dict], audience: dict, school_id: int | None,
          class_id: int | None) -> dict:
    """``{accounts, students, families_without_account, students_without_account}``; a figure that does
    not apply to this audience is None."""
    accounts = sess.scalar(sa.select(sa.func.count()).select_from(resolve(selectors).subquery()))
    out = {"accounts": accounts, "students": None, "families_without_account": None,
           "students_without_account": None}
    where = students_where(audience, school_id, class_id)
    parents, kids = covers(audience)
    if where is None or not (parents or kids):
        return out
    total = sa.func.count(Student.id)
    cols = [total]
    if parents:
        cols.append(sa.func.count(Student.id).filter(~family_has_account()))
    if kids:
        cols.append(sa.func.count(Student.id).filter(~student_has_account()))
    row = list(sess.execute(sa.select(*cols).where(where)).one())
    out["students"] = row.pop(0)
    if parents:
        out["families_without_account"] = row.pop(0)
    if kids:
        out["students_without_account"] = row.pop(0)
    return out
