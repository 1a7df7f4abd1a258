"""Who decides a flow's step (foundation/lowcode/flow.py): the approvers a step's ``approver`` names for one
submission — the student's homeroom teacher or grade head, every holder of a role in the school, one named
staff member — never the submitter; and the deputies people name while they are away (delegation)."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.alerts.assign import holders
from foundation.db import utcnow
from foundation.models import Account, Delegation, Membership, Submission
from foundation.permissions import ROLES

RELATIVE = {"homeroom": "homeroom_teacher", "grade_head": "grade_head"}
STAFF_REACH = ("school", "class")
MAX_DAYS = 366


def approvers(sess: so.Session, sub: Submission, approver: dict) -> list[int]:
    """The accounts ``approver`` names for ``sub`` (in its school; active accounts; the submitter left out)."""
    found: list[int] = []
    if "relative" in approver or "role" in approver:
        role = RELATIVE.get(approver.get("relative")) or approver.get("role")
        if role in ROLES:
            klass = sub.class_id if ROLES[role].reach == "class" else None
            if ROLES[role].reach != "class" or klass is not None:
                found = holders(sess, sub.school_id, [role], [klass] if klass else [])[(role, klass)]
    elif "person" in approver and is_staff(sess, approver["person"], sub.school_id):
        found = [approver["person"]]
    return [a for a in dict.fromkeys(found) if a != sub.submitted_by]


def is_staff(sess: so.Session, account_id, school_id: int) -> bool:
    """Does the (active) account hold a staff role in the school?"""
    if isinstance(account_id, bool) or not isinstance(account_id, int) or not 0 < account_id < 2**31:
        return False
    roles = sess.scalars(sa.select(Membership.role).join(Account, Account.id == Membership.account_id).where(
        Membership.account_id == account_id, Membership.school_id == school_id, Account.active.is_(True)))
    return any(r in ROLES and ROLES[r].reach in STAFF_REACH for r in roles)


def names(sess: so.Session, ids) -> dict[int, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(sess.execute(sa.select(Account.id, Account.display_name).where(Account.id.in_(ids))).all())


# -- delegation ------------------------------------------------------------------------------------------

def _today(sess: so.Session, school_id: int, now: datetime | None) -> date:
    from foundation.alerts.calendar import load_clock

    return load_clock(sess, school_id).local_date(now or utcnow())


def active(sess: so.Session, school_id: int, now: datetime | None = None) -> sa.ColumnElement[bool]:
    """The delegations of ``school_id`` that hold today (the school's date)."""
    today = _today(sess, school_id, now)
    return sa.and_(Delegation.school_id == school_id, Delegation.cancelled_at.is_(None),
                   Delegation.starts <= today, Delegation.ends >= today)


def deputies(sess: so.Session, school_id: int, accounts, now: datetime | None = None) -> dict[int, list[int]]:
    """account → the deputies standing in for them today."""
    out: dict[int, list[int]] = {}
    if not accounts:
        return out
    for who, deputy in sess.execute(sa.select(Delegation.account_id, Delegation.deputy_id).where(
            active(sess, school_id, now), Delegation.account_id.in_(set(accounts)))):
        out.setdefault(who, []).append(deputy)
    return out


def standing_in_for(sess: so.Session, deputy: int, school_ids, now: datetime | None = None) -> dict[int, int]:
    """Whom ``deputy`` stands in for today: account → school."""
    out = {}
    for school in school_ids:
        for who in sess.scalars(sa.select(Delegation.account_id).where(active(sess, school, now),
                                                                       Delegation.deputy_id == deputy)):
            out[who] = school
    return out


class DelegationError(ValueError):
    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in problems.items()))
        self.problems = problems


def delegate(sess: so.Session, account_id: int, school_id: int, deputy_id, starts, ends,
             now: datetime | None = None) -> Delegation:
    """``account_id`` names ``deputy_id`` (staff of the same school, not themself) from ``starts`` to
    ``ends`` (dates, at most a year; not ending in the past). Problems name the field."""
    problems: dict[str, str] = {}
    if deputy_id == account_id:
        problems["deputy"] = "flow.deputy_self"
    elif not is_staff(sess, deputy_id, school_id):
        problems["deputy"] = "flow.deputy_not_staff"
    for key, value in (("starts", starts), ("ends", ends)):
        if not isinstance(value, date):
            problems[key] = "flow.date"
    if not problems:
        if ends < starts:
            problems["ends"] = "flow.ends_before_starts"
        elif ends < _today(sess, school_id, now):
            problems["ends"] = "flow.ends_past"
        elif ends - starts > timedelta(days=MAX_DAYS):
            problems["ends"] = "flow.too_long"
    if problems:
        raise DelegationError(problems)
    row = Delegation(account_id=account_id, deputy_id=deputy_id, school_id=school_id, starts=starts, ends=ends,
                     created_at=utcnow())
    sess.add(row)
    sess.flush()
    return row


def mine(sess: so.Session, account_id: int) -> list[Delegation]:
    """The delegations a person made or was named in, not cancelled, newest first."""
    return list(sess.scalars(sa.select(Delegation).where(
        sa.or_(Delegation.account_id == account_id, Delegation.deputy_id == account_id),
        Delegation.cancelled_at.is_(None)).order_by(Delegation.starts.desc(), Delegation.id.desc())))
