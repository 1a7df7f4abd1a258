"""The escalation sweep: a case whose deadline passed unmet climbs its rule's own chain if the rule declares
one, else the school's (default 班主任 → 年级组长 → 心理教师 → 校长/学校管理员), one step per interval (red: hours, yellow: school days). Each step
adds that role's people to the case, is recorded on the timeline, tells them and the school admin, and
fires once per case and epoch — a unique row guards it even when two sweeps run together. A re-triggered
case starts a new epoch, so its chain starts again."""
from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.alerts import assign, clock, notify
from foundation.alerts.calendar import DEFAULT_CHAIN, SchoolClock, load_clock
from foundation.models import AlertAssignee, AlertCase, AlertEscalation, AlertEvent, AlertSettings, Student
from foundation.permissions import ROLES


def _overdue(case: AlertCase, at: datetime) -> tuple[str, datetime] | None:
    """The earliest unmet deadline that has passed: (which, when)."""
    late = [(due, name) for name, due, done in (("contact", case.contact_due_at, case.contact_at),
                                                ("plan", case.plan_due_at, case.plan_at),
                                                ("follow", case.follow_due_at, case.follow_at))
            if due is not None and done is None and due <= at]
    if not late:
        return None
    due, name = min(late)
    return name, due


def _own_chains() -> dict[str, tuple[str, ...]]:
    """Rules that declare their own escalation chain (a psychology rule: the wellbeing lead, the principal)."""
    from foundation.alerts.rules import all_rules

    return {k: r.chain for k, r in all_rules().items() if r.chain}


def _chain_left(own: dict[str, tuple[str, ...]]) -> sa.ColumnElement[bool]:
    """Cases with steps left in their rule's or their school's chain (an exhausted case is not reloaded every
    sweep)."""
    steps = (sa.select(sa.func.json_array_length(AlertSettings.chain) - 1)
             .where(AlertSettings.school_id == AlertCase.school_id).scalar_subquery())
    school = AlertCase.escalation_step < sa.func.coalesce(steps, len(DEFAULT_CHAIN) - 1)
    if not own:
        return school
    return sa.or_(sa.and_(AlertCase.rule_key.not_in(list(own)), school),
                  *[sa.and_(AlertCase.rule_key == k, AlertCase.escalation_step < len(c) - 1) for k, c in own.items()])


def sweep(sess: so.Session, now: datetime | None = None, school_id: int | None = None) -> int:
    """Fire every escalation step that is due; returns how many fired. The caller commits."""
    at = now or clock.now()
    own = _own_chains()
    stmt = sa.select(AlertCase).where(AlertCase.next_due_at <= at, AlertCase.closed_at.is_(None),
                                      AlertCase.parent_case_id.is_(None), _chain_left(own)).order_by(AlertCase.id)
    if school_id is not None:
        stmt = stmt.where(AlertCase.school_id == school_id)
    clocks: dict[int, SchoolClock] = {}
    fired = 0
    for case in sess.scalars(stmt).all():
        if case.school_id not in clocks:
            clocks[case.school_id] = load_clock(sess, case.school_id)
        fired += _escalate(sess, case, clocks[case.school_id], at, own.get(case.rule_key))
    return fired


def _escalate(sess: so.Session, case: AlertCase, sclock: SchoolClock, at: datetime,
              chain: tuple[str, ...] | None = None) -> int:
    late = _overdue(case, at)
    if late is None:
        return 0
    which, due = late
    case.missed = True
    steps = list(chain or sclock.chain)[1:]  # the chain's first role is the one already assigned
    if case.last_escalated_at is None:  # the chain's start: the miss, or the re-trigger that restarted it
        next_at = due if case.escalation_epoch == 0 else max(due, case.last_triggered_at)
    else:
        next_at = max(due, sclock.next_escalation(case.level, case.last_escalated_at))
    fired = 0
    while case.escalation_step < len(steps) and next_at <= at:
        step = case.escalation_step + 1
        role = steps[step - 1]
        people = assign.for_case(assign.holders(sess, case.school_id, [role], [case.class_id]), [role],
                                 case.class_id)
        recipients = [a for a, _ in people]
        try:
            with sess.begin_nested():
                sess.add(AlertEscalation(case_id=case.id, school_id=case.school_id, epoch=case.escalation_epoch,
                                         step=step, role=role, deadline=which, due_at=next_at, fired_at=at,
                                         recipients=recipients))
                sess.flush()
        except sa.exc.IntegrityError:  # another sweep fired this step first
            sess.refresh(case)
            return fired
        _record(sess, case, step, role, which, due, next_at, recipients, at, sclock)
        case.escalation_step, case.last_escalated_at = step, next_at
        fired += 1
        next_at = sclock.next_escalation(case.level, next_at)
    sess.flush()
    return fired


def _record(sess: so.Session, case: AlertCase, step: int, role: str, which: str, due: datetime,
            step_at: datetime, recipients: list[int], at: datetime, sclock: SchoolClock) -> None:
    have = set(sess.scalars(sa.select(AlertAssignee.account_id).where(AlertAssignee.case_id == case.id)))
    for account in recipients:
        if account not in have:
            sess.add(AlertAssignee(case_id=case.id, account_id=account, role=role, reason="escalation", at=at))
    sess.add(AlertEvent(case_id=case.id, school_id=case.school_id, at=at, kind="escalated",
                        data={"step": step, "role": role, "deadline": which, "due_at": due.isoformat() + "Z",
                              "step_due_at": step_at.isoformat() + "Z", "recipients": recipients,
                              "epoch": case.escalation_epoch}))
    sess.flush()
    name = sess.scalar(sa.select(Student.name).where(Student.id == case.student_id))
    local_due = due.replace(tzinfo=UTC).astimezone(sclock.tz).strftime("%Y-%m-%d %H:%M")
    notify.message(sess, "alert.case.escalated", case, recipients, student_name=name or "", due=local_due,
                   step_role=ROLES[role].zh, step_role_en=ROLES[role].en, dedupe_key=f"alert:{case.id}:esc:{case.escalation_epoch}:{step}",
                   extra_recipients=[{"role": "school_admin", "school": case.school_id}])
    notify.publish("escalated", [case])
