"""Who sees which case, and what of it. A case is staff work: it is visible to a principal holding
``alerts.case.read`` in its school who is assigned to it, or reaches its class as homeroom teacher or grade
head, or holds ``alerts.overview`` there (school admins) — except a restricted rule's case (aid, psychology),
which only its assignees see (escalation assigns the next people). Parents and students never see cases (no
capability, and the tenant criteria give them no class). On a sensitive case (psychology) the notes, the
plan and the rule's detail are shown to the assigned staff only; reading one is audited by the caller."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.alerts import clock
from foundation.alerts.rules import RESTRICTED_CATEGORIES, all_rules
from foundation.i18n import t
from foundation.models import Account, AlertAssignee, AlertCase, AlertEscalation, AlertEvent, OrgUnit, Student
from foundation.permissions import ROLES, Principal

CLASS_ROLES = ("homeroom_teacher", "grade_head")  # reach their classes' cases without being assigned
HIDDEN = "alerts.hidden_note"


def visible_where(p: Principal) -> sa.ColumnElement[bool]:
    """The SQL condition for the cases ``p`` may see (on top of the session's tenant criteria)."""
    schools = [s for s in p.school_ids() if p.can("alerts.case.read", s)]
    overview = [s for s in schools if p.can("alerts.overview", s)]
    classes = sorted({c for g in p.grants if g.role in CLASS_ROLES and g.school_id in schools for c in g.class_ids})
    by_reach = sa.or_(AlertCase.school_id.in_(overview), AlertCase.class_id.in_(classes))
    return sa.and_(AlertCase.school_id.in_(schools), sa.or_(
        sa.and_(by_reach, sa.not_(restricted())), AlertCase.id.in_(assigned_ids(p))))


def restricted() -> sa.ColumnElement[bool]:
    """Cases only their assignees see (a rule's ``restricted``, by default the aid and psychology categories):
    not the grade head's class view nor the school admin's overview, which keep the counts."""
    rules = all_rules().values()
    on = sorted(r.key for r in rules if r.restricted)
    off = sorted(r.key for r in rules if not r.restricted and r.category in RESTRICTED_CATEGORIES)
    return sa.or_(AlertCase.rule_key.in_(on), sa.and_(AlertCase.category.in_(sorted(RESTRICTED_CATEGORIES)),
                                                      AlertCase.rule_key.not_in(off)))


def assigned_ids(p: Principal) -> sa.Select:
    """The ids of the cases ``p`` is assigned to (a subquery)."""
    return sa.select(AlertAssignee.case_id).where(AlertAssignee.account_id == (p.account_id or -1))


def load_case(sess: so.Session, p: Principal, case_id: int) -> AlertCase | None:
    if not 0 < case_id <= 2**31 - 1:
        return None
    return sess.scalar(sa.select(AlertCase).where(AlertCase.id == case_id, visible_where(p)))


def assigned_accounts(sess: so.Session, case_ids: list[int]) -> dict[int, list[tuple[int, str, str, str]]]:
    """``{case id: [(account id, display name, role, reason)]}``."""
    out: dict[int, list[tuple[int, str, str, str]]] = {}
    if not case_ids:
        return out
    rows = sess.execute(sa.select(AlertAssignee.case_id, Account.id, Account.display_name, AlertAssignee.role,
                                  AlertAssignee.reason).join(Account, Account.id == AlertAssignee.account_id)
                        .where(AlertAssignee.case_id.in_(case_ids)).order_by(AlertAssignee.id))
    for case_id, *rest in rows:
        out.setdefault(case_id, []).append(tuple(rest))  # type: ignore[arg-type]
    return out


def _iso(at: datetime | None) -> str | None:
    return at.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z") if at else None


def time_left(case: AlertCase, now: datetime | None = None) -> int | None:
    """Seconds until the next deadline (negative when overdue); None when nothing is due."""
    if case.next_due_at is None:
        return None
    return int((case.next_due_at - (now or clock.now())).total_seconds())


def next_deadline(case: AlertCase) -> str | None:
    for name, due, done in (("contact", case.contact_due_at, case.contact_at), ("plan", case.plan_due_at,
                            case.plan_at), ("follow", case.follow_due_at, case.follow_at)):
        if due is not None and done is None and due == case.next_due_at:
            return name
    return None


def summaries(sess: so.Session, cases: list[AlertCase], lang: str) -> list[dict[str, Any]]:
    """The list view of cases: student, class, rule, level, status, count, the deadline and time left."""
    ids = sorted({c.student_id for c in cases})
    names = dict(sess.execute(sa.select(Student.id, Student.name).where(Student.id.in_(ids))).all()) if ids else {}
    class_ids = sorted({c.class_id for c in cases if c.class_id})
    classes = dict(sess.execute(sa.select(OrgUnit.id, OrgUnit.title_col(lang)).where(OrgUnit.id.in_(class_ids))).all()
    ) if class_ids else {}
    now = clock.now()
    return [{"id": c.id, "student_id": c.student_id, "student_name": names.get(c.student_id),
             "class_id": c.class_id, "class_name": classes.get(c.class_id), "school_id": c.school_id,
             "rule": c.rule_key, "rule_title": c.rule_title.get(lang) or c.rule_key, "category": c.category,
             "level": c.level, "status": c.status, "count": c.count, "sensitive": c.sensitive,
             "parent_case_id": c.parent_case_id, "opened_at": _iso(c.opened_at),
             "next_due_at": _iso(c.next_due_at), "next_deadline": next_deadline(c),
             "seconds_left": time_left(c, now), "missed": c.missed, "outcome": c.outcome,
             "closed_at": _iso(c.closed_at)} for c in cases]


def urgency_order():
    """Overdue and soonest deadlines first, red before yellow, then the oldest."""
    return (AlertCase.next_due_at.is_(None), AlertCase.next_due_at, sa.case((AlertCase.level == "red", 0), else_=1),
            AlertCase.opened_at, AlertCase.id)


def detail(sess: so.Session, case: AlertCase, p: Principal, lang: str) -> dict[str, Any]:
    """One case with its people, deadlines, escalation steps and timeline (notes hidden where they must be)."""
    people = assigned_accounts(sess, [case.id]).get(case.id, [])
    mine = any(a == p.account_id for a, *_ in people)
    show = mine or not case.sensitive
    out = summaries(sess, [case], lang)[0]
    out |= {
        "notes_visible": show, "assigned_to_me": mine, "value": case.value if show else None,
        "detail": case.detail if show else None, "plan": case.plan if show else (t(HIDDEN) if case.plan else None),
        "source": case.source, "round": case.round_no,
        "deadlines": [{"name": n, "due_at": _iso(d), "done_at": _iso(x), "met": None if x is None else x <= d}
                      for n, d, x in (("contact", case.contact_due_at, case.contact_at),
                                      ("plan", case.plan_due_at, case.plan_at),
                                      ("follow", case.follow_due_at, case.follow_at)) if d is not None],
        "evaluate_after": case.evaluate_after.isoformat() if case.evaluate_after else None,
        "recovered": case.recovered, "escalation_step": case.escalation_step,
        "assignees": [{"account_id": a, "name": n, "role": r, "role_title": getattr(ROLES[r], lang) if r in ROLES
                       else r, "reason": why} for a, n, r, why in people],
        "escalations": [{"step": e.step, "role": e.role, "deadline": e.deadline, "due_at": _iso(e.due_at),
                         "fired_at": _iso(e.fired_at), "epoch": e.epoch} for e in sess.scalars(
            sa.select(AlertEscalation).where(AlertEscalation.case_id == case.id).order_by(AlertEscalation.id))],
        "timeline": [{"id": e.id, "at": _iso(e.at), "kind": e.kind, "actor": e.actor, "account_id": e.account_id,
                      "note": e.note if show or e.note is None else t(HIDDEN),
                      "data": e.data if show or not e.data else {k: v for k, v in e.data.items() if k != "value"}}
                     for e in sess.scalars(sa.select(AlertEvent).where(AlertEvent.case_id == case.id)
                                           .order_by(AlertEvent.at, AlertEvent.id))],
        "attached": summaries(sess, list(sess.scalars(sa.select(AlertCase).where(
            AlertCase.parent_case_id == case.id).order_by(AlertCase.id))), lang),
    }
    return out
