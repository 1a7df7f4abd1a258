"""Flow deadlines (a step's ``"deadline": {"school_days": n, "escalate_to": approver}``): at the end of the
n-th school day after the step started its open approvers are reminded, once; one school day later the
step is escalated: ``escalate_to``'s people are added as approvers and told. School days are the school's
calendar (foundation/alerts/calendar.py). :func:`committed_sweep` runs beside the alert engine's scheduled
pass (``jizuo alerts run``, ``jizuo worker``); tests drive :func:`sweep` with an explicit ``now``."""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.alerts.calendar import load_clock
from foundation.db import utcnow
from foundation.lowcode import flow as engine
from foundation.lowcode import flow_people as people
from foundation.models import FlowTask, Submission
from foundation.tenancy import unscoped

SWEEP = unscoped("flow deadlines are swept in every school")


def due_times(clock, started: datetime, school_days: int) -> tuple[datetime, datetime]:
    """(reminder, escalation) times of a step that started at ``started``."""
    due = clock.end_of_nth_school_day(started, school_days)
    return due, clock.end_of_nth_school_day(due - timedelta(microseconds=1), 1)


def sweep(sess: so.Session, now: datetime | None = None) -> dict[str, int]:
    """Remind and escalate what is due; returns the counts. The caller commits."""
    from foundation.lowcode import notify

    now = now or utcnow()
    out = {"reminded": 0, "escalated": 0}
    clocks: dict[int, object] = {}
    rows = sess.scalars(sa.select(Submission).where(
        Submission.status == engine.OPEN, Submission.flow_step.is_not(None),
        sa.or_(Submission.step_reminded_at.is_(None), Submission.step_escalated_at.is_(None)))
        .order_by(Submission.id)).all()
    for sub in rows:
        flow = engine._flow(sess, sub)
        step = flow["steps"][sub.flow_step] if flow and sub.flow_step < len(flow["steps"]) else None
        deadline = (step or {}).get("deadline")
        if not deadline or sub.step_started_at is None:
            continue
        clock = clocks.setdefault(sub.school_id, load_clock(sess, sub.school_id))
        remind_at, escalate_at = due_times(clock, sub.step_started_at, deadline["school_days"])
        form = engine._form(sess, sub)
        if sub.step_reminded_at is None and now >= remind_at:
            waiting = list(sess.scalars(sa.select(FlowTask.account_id).where(
                FlowTask.submission_id == sub.id, FlowTask.step == sub.flow_step, FlowTask.status == "open")))
            standing = people.deputies(sess, sub.school_id, waiting, now)
            notify.flow_reminded(sess, form, sub, step, waiting + [d for a in waiting for d in standing.get(a, [])])
            engine._event(sess, sub, "reminded", step=step["key"], at=now)
            sub.step_reminded_at = now
            out["reminded"] += 1
        if sub.step_escalated_at is None and now >= escalate_at:
            sub.step_escalated_at = now
            target = deadline.get("escalate_to")
            have = set(sess.scalars(sa.select(FlowTask.account_id).where(
                FlowTask.submission_id == sub.id, FlowTask.step == sub.flow_step)))
            added = [a for a in people.approvers(sess, sub, target) if a not in have] if target else []
            if added:
                engine._assign(sess, sub, step, sub.flow_step, added, "escalation", now)
                out["escalated"] += 1
    sess.flush()
    return out


def committed_sweep(now: datetime | None = None) -> dict[str, int]:
    """One :func:`sweep` in the app's own unscoped session, committed — or rolled back and re-raised."""
    from foundation import db

    sess = SWEEP.mark(db.session())
    try:
        out = sweep(sess, now)
        sess.commit()
    except Exception:
        sess.rollback()
        raise
    return out
