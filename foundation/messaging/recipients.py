"""Recipient selectors → account ids, as one SQL statement (so a district notice to 100,000 people is an
``INSERT … SELECT``, not 100,000 round trips).

Selectors (a list; the union is taken and each account counted once):
``{"account": id}``, ``{"accounts": [ids]}``, ``{"role": r, "school": s}``, ``{"role": r, "class": c}``,
``{"parents_of_student": id}``, ``{"parents_of_class": c}``, ``{"students_of_class": c}``,
``{"students": [ids]}`` (those students' own accounts), ``{"homeroom_of_student": id}``,
``{"role": r, "school_of_student": id}``, ``{"district": True}``,
``{"school": s}``. Only active accounts are reached. Resolution does not apply the caller's school scope:
who may address whom is decided by the caller (the API checks the sender's reach before calling send).

Each row also carries the recipient's school (the membership's school, or for parents and students the
child's school), used by the figures and by a school admin's dead-letter list.
"""
from __future__ import annotations

import sqlalchemy as sa

from foundation.models import Account, GuardianLink, Membership, Student

A, M = Account.__table__.c, Membership.__table__.c
L, S = GuardianLink.__table__.c, Student.__table__.c


class RecipientError(ValueError):
    """A selector that is not one of the documented shapes."""


# typed, or PostgreSQL reads a bare NULL in the UNION as text and refuses it for the integer column
_NO_SCHOOL = sa.cast(sa.null(), sa.Integer).label("school_id")


def _int(sel: dict, key: str) -> int:
    value = sel.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise RecipientError(f"selector {sel!r}: {key} must be an integer id")
    return value


def _by_membership(where) -> sa.Select:
    return sa.select(M.account_id.label("account_id"), M.school_id.label("school_id")).where(where)


def _people(kind: str, person_ids: sa.Select, school) -> sa.Select:
    """Accounts of people (guardians or students) whose person id is in ``person_ids``."""
    return (sa.select(A.id.label("account_id"), school.label("school_id"))
            .where(A.person_kind == kind, A.person_id.in_(person_ids)))


def _guardian_accounts(links: sa.Select) -> sa.Select:
    """The accounts of the guardians in ``links`` (guardian_id, school_id)."""
    sub = links.subquery()
    return (sa.select(A.id.label("account_id"), sub.c.school_id.label("school_id"))
            .join(sub, sa.and_(A.person_kind == "guardian", A.person_id == sub.c.guardian_id)))


def _one(sel: dict) -> sa.Select:
    if not isinstance(sel, dict):
        raise RecipientError(f"selector {sel!r} must be an object")
    if "account" in sel:
        return sa.select(A.id.label("account_id"), _NO_SCHOOL).where(A.id == _int(sel, "account"))
    if "accounts" in sel:
        ids = sel["accounts"]
        if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
            raise RecipientError(f"selector {sel!r}: accounts must be a list of integer ids")
        return sa.select(A.id.label("account_id"), _NO_SCHOOL).where(A.id.in_(ids))
    if "parents_of_student" in sel:
        sid = _int(sel, "parents_of_student")
        return _guardian_accounts(sa.select(L.guardian_id, L.school_id).where(L.student_id == sid))
    if "parents_of_class" in sel:
        cid = _int(sel, "parents_of_class")
        return _guardian_accounts(sa.select(L.guardian_id, L.school_id).join(Student.__table__, S.id == L.student_id)
                                  .where(S.class_id == cid))
    if "students_of_class" in sel:
        cid = _int(sel, "students_of_class")
        kids = sa.select(S.id, S.school_id).where(S.class_id == cid).subquery()
        return (sa.select(A.id.label("account_id"), kids.c.school_id.label("school_id"))
                .join(kids, sa.and_(A.person_kind == "student", A.person_id == kids.c.id)))
    if "students" in sel:  # the students' own accounts (a reminder to those who have not yet answered)
        ids = sel["students"]
        if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
            raise RecipientError(f"selector {sel!r}: students must be a list of integer ids")
        kids = sa.select(S.id, S.school_id).where(S.id.in_(ids)).subquery()
        return (sa.select(A.id.label("account_id"), kids.c.school_id.label("school_id"))
                .join(kids, sa.and_(A.person_kind == "student", A.person_id == kids.c.id)))
    if "homeroom_of_student" in sel:
        klass = sa.select(S.class_id).where(S.id == _int(sel, "homeroom_of_student")).scalar_subquery()
        return _by_membership(sa.and_(M.role == "homeroom_teacher", M.org_unit_id == klass))
    if "role" in sel:
        role = sel["role"]
        if not isinstance(role, str):
            raise RecipientError(f"selector {sel!r}: role must be a string")
        if "class" in sel:
            return _by_membership(sa.and_(M.role == role, M.org_unit_id == _int(sel, "class")))
        if "school_of_student" in sel:
            school = sa.select(S.school_id).where(S.id == _int(sel, "school_of_student")).scalar_subquery()
            return _by_membership(sa.and_(M.role == role, M.school_id == school))
        if "school" in sel:
            return _by_membership(sa.and_(M.role == role, M.school_id == _int(sel, "school")))
        raise RecipientError(f"selector {sel!r}: a role needs a school, class or school_of_student")
    if "school" in sel:
        return _by_membership(M.school_id == _int(sel, "school"))
    if sel.get("district") is True:
        return _by_membership(sa.true())
    raise RecipientError(f"selector {sel!r} is not a known recipient selector")


def resolve(selectors: list[dict]) -> sa.Select:
    """One SELECT of ``(account_id, school_id)``, one row per active account reached."""
    if not isinstance(selectors, list) or not selectors:
        raise RecipientError("recipients must be a non-empty list of selectors")
    parts = [_one(sel) for sel in selectors]
    union = parts[0] if len(parts) == 1 else sa.union_all(*parts)
    rows = union.subquery("r")
    return (sa.select(rows.c.account_id, sa.func.max(rows.c.school_id).label("school_id"))
            .join(Account.__table__, A.id == rows.c.account_id)
            .where(A.active.is_(True))
            .group_by(rows.c.account_id))


def account_ids(sess, selectors: list[dict]) -> list[int]:
    """The resolved account ids (for previews and tests)."""
    return sorted(sess.execute(resolve(selectors)).scalars())
