"""What people do with a case: acknowledge, record contact, record a plan, follow up, add a note, evaluate
(did the indicator recover after the agreed period?), close with an outcome. Each step is a timeline event
with who, when and what; deadlines met late mark the case as missed (timeliness is measured, not assumed).
"""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.alerts import clock, notify
from foundation.alerts.calendar import load_clock
from foundation.alerts.engine import refresh_due
from foundation.alerts.rules import get_rule
from foundation.models import AlertCase, AlertEvent

KINDS = ("acknowledge", "contact", "plan", "follow_up", "note", "evaluate", "close")
NEEDS_NOTE = {"contact", "plan", "follow_up", "note"}
OUTCOMES = ("recovered", "improved", "not_recovered", "referred", "false_alarm", "transferred")
METHODS = ("phone", "meeting", "home_visit", "message", "other")
_FORWARD = {"acknowledge": "acknowledged", "contact": "contacted", "plan": "planned", "follow_up": "following",
            "evaluate": "evaluated"}
_ORDER = ("opened", "acknowledged", "contacted", "planned", "following", "evaluated", "closed")


class ActionError(ValueError):
    """A step that does not fit the case (closed, no plan to evaluate…): ``field`` and an i18n key."""

    def __init__(self, field: str, key: str) -> None:
        super().__init__(key)
        self.field, self.key = field, key


def _advance(case: AlertCase, kind: str) -> None:
    target = _FORWARD.get(kind)
    if target and _ORDER.index(target) > _ORDER.index(case.status):
        case.status = target


def _met(case: AlertCase, due_attr: str, done_attr: str, at: datetime) -> None:
    """Mark one deadline of the round as met now (late counts as missed)."""
    if getattr(case, due_attr) is not None and getattr(case, done_attr) is None:
        setattr(case, done_attr, at)
        if at > getattr(case, due_attr):
            case.missed = True


def act(sess: so.Session, case: AlertCase, kind: str, *, account_id: int | None, actor: str | None,
        note: str | None = None, method: str | None = None, evaluation_days: int | None = None,
        recovered: bool | None = None, outcome: str | None = None, now: datetime | None = None) -> AlertEvent:
    """Record one step on ``case``; raises :class:`ActionError` when it does not fit."""
    at = now or clock.now()
    if kind not in KINDS:
        raise ActionError("kind", "alerts.action.kind")
    if case.closed_at is not None:
        raise ActionError("kind", "alerts.action.closed")
    note = note.strip() if isinstance(note, str) else None
    if kind in NEEDS_NOTE and not note:
        raise ActionError("note", "alerts.action.note_required")
    data: dict = {}
    if kind == "acknowledge" and case.status != "opened":
        raise ActionError("kind", "alerts.action.already_acknowledged")
    if kind == "contact":
        if method is not None and method not in METHODS:
            raise ActionError("method", "alerts.action.method")
        data["method"] = method or "other"
        _met(case, "contact_due_at", "contact_at", at)
    if kind == "plan":
        rule = get_rule(case.rule_key, case.school_id, sess)
        days = evaluation_days or (rule.evaluation_days if rule else 30)
        case.plan = note
        case.evaluate_after = load_clock(sess, case.school_id).local_date(at) + timedelta(days=days)
        data["evaluation_days"] = days
        data["evaluate_after"] = case.evaluate_after.isoformat()
        _met(case, "plan_due_at", "plan_at", at)
    if kind in ("contact", "plan", "follow_up"):
        _met(case, "follow_due_at", "follow_at", at)  # a yellow case's follow-up is any handling step
        case.first_action_at = case.first_action_at or at
    if kind == "evaluate":
        if case.plan_at is None and case.plan is None:
            raise ActionError("kind", "alerts.action.no_plan")
        if recovered is None:
            rule = get_rule(case.rule_key, case.school_id, sess)
            recovered = rule.judge(sess, case) if rule else None
            data["by"] = "rule"
        if recovered is None:
            raise ActionError("recovered", "alerts.action.needs_judgement")
        case.recovered, case.evaluated_at = bool(recovered), at
        data["recovered"] = case.recovered
    if kind == "close":
        if outcome not in OUTCOMES:
            raise ActionError("outcome", "alerts.action.outcome")
        data["outcome"] = outcome
        close(sess, case, outcome, at)
    _advance(case, kind)
    refresh_due(case)
    event = AlertEvent(case_id=case.id, school_id=case.school_id, at=at, kind=kind, account_id=account_id,
                       actor=actor, note=note, data=data or None)
    sess.add(event)
    sess.flush()
    return event


def close(sess: so.Session, case: AlertCase, outcome: str, at: datetime) -> None:
    """Close the case (and the yellow work attached to it): the (student, rule) pair may open again."""
    case.status, case.outcome, case.closed_at, case.open_key = "closed", outcome, at, None
    refresh_due(case)
    children = sess.scalars(sa.select(AlertCase).where(AlertCase.parent_case_id == case.id,
                                                       AlertCase.closed_at.is_(None))).all()
    for child in children:
        child.status, child.outcome, child.closed_at, child.open_key = "closed", "with_parent", at, None
        refresh_due(child)
        sess.add(AlertEvent(case_id=child.id, school_id=child.school_id, at=at, kind="close",
                            data={"outcome": "with_parent", "parent_case_id": case.id}))
    sess.flush()
    notify.publish("closed", [case, *children])
