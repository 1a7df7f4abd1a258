"""The approval-flow engine (the app document's "flow", schemas/lowcode-app.schema.json; docs/lowcode.md).

A submission with a flow starts at the first step whose "when" holds ("pending"); each step gives its
approvers a task (foundation/lowcode/flow_people.py says who: never the submitter); "any" (或签) ends the
step at the first decision, "all" (会签) when everyone approved; one rejection rejects; after the last step
(or with every step skipped) it is "approved"; an approver may return it for changes with a note ("returned"), and the submitter's resubmission
(foundation/lowcode/forms.py ``resubmit``) keeps its id, keeps the earlier answers on the timeline and starts
the flow again from its first step; the submitter may withdraw while pending or returned. A deputy named for
today decides for the approver, recorded as such. Every step goes on the submission's timeline, people are
told through the message center (foundation/lowcode/notify.py), and ``lowcode.flow.step_decided`` /
``lowcode.flow.finished`` events let plugins watch outcomes. Deadlines: foundation/lowcode/flow_deadlines.py.
The old ``"approval": {"by": role}`` is a one-step flow."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.db import utcnow
from foundation.errors import NotFound, ValidationFailed
from foundation.lowcode import flow_people as people
from foundation.lowcode.apps import matches
from foundation.models import FlowEvent, FlowTask, FormVersion, LowcodeForm, OrgUnit, Student, Submission
from foundation.permissions import Forbidden, Principal

DECISIONS = ("approved", "rejected")
RETURN = "returned"  # 退回修改: back to the submitter with a note; never in a batch (a note each)
OPEN = "pending"
SHORTHAND_TITLE = {"zh": "审批", "en": "Approval"}


def flow_of(app: dict | None) -> dict | None:
    """The app's flow, normalised (every step with a title and a mode, cc and notify_submitter set); the
    ``approval`` shorthand as its one-step flow; None without either."""
    app = app or {}
    if app.get("flow"):
        flow = app["flow"]
        steps = [{**s, "title": s.get("title") or {"zh": s["key"], "en": s["key"]}, "mode": s.get("mode", "any")}
                 for s in flow["steps"]]
        return {"steps": steps, "cc": list(flow.get("cc") or []),
                "notify_submitter": flow.get("notify_submitter", True)}
    if app.get("approval"):
        return {"steps": [{"key": "approval", "title": dict(SHORTHAND_TITLE), "approver": {"role": app["approval"]["by"]},
                           "mode": "any"}],
                "cc": [], "notify_submitter": app["approval"].get("notify_submitter", True)}
    return None


def path(flow: dict | None, data: dict) -> list[dict]:
    """Which steps a submission with ``data`` would take (pure): ``[{"key", "taken"}]``."""
    return [{"key": s["key"], "taken": "when" not in s or matches(s["when"], data or {})}
            for s in (flow or {}).get("steps") or []]


def _flow(sess: so.Session, sub: Submission) -> dict | None:
    return flow_of(sess.scalar(sa.select(FormVersion.app).where(FormVersion.id == sub.version_id)))


def _form(sess: so.Session, sub: Submission) -> LowcodeForm:
    return sess.get(LowcodeForm, sub.form_id)


def _event(sess: so.Session, sub: Submission, kind: str, *, step: str | None = None, by: int | None = None,
           by_name: str | None = None, for_name: str | None = None, note: str | None = None,
           detail: dict | None = None, at: datetime | None = None) -> None:
    sess.add(FlowEvent(submission_id=sub.id, school_id=sub.school_id, kind=kind, step_key=step, by_account=by,
                       by_name=by_name, for_name=for_name, note=note, detail=detail, at=at or utcnow()))


# -- moving through the steps -------------------------------------------------------------------------------

def start(sess: so.Session, submission: Submission, now: datetime | None = None) -> None:
    """Put a new submission into its app's flow (nothing for an app without one)."""
    flow = _flow(sess, submission)
    if flow is None:
        return
    submission.status = OPEN
    who = people.names(sess, [submission.submitted_by]).get(submission.submitted_by)
    _event(sess, submission, "submitted", by=submission.submitted_by, by_name=who, at=now)
    _enter(sess, submission, flow, 0, now or utcnow())


def _enter(sess: so.Session, sub: Submission, flow: dict, index: int, now: datetime) -> None:
    """Start the first step from ``index`` whose condition holds (the others are skipped); none: approved."""
    steps = flow["steps"]
    while index < len(steps) and not path({"steps": [steps[index]]}, sub.data)[0]["taken"]:
        _event(sess, sub, "skipped", step=steps[index]["key"], at=now)
        index += 1
    if index >= len(steps):
        _finish(sess, sub, flow, "approved", None, now)
        return
    step = steps[index]
    sub.flow_step, sub.step_started_at, sub.step_reminded_at, sub.step_escalated_at = index, now, None, None
    found, origin = people.approvers(sess, sub, step["approver"]), "approver"
    if not found:  # nobody else can decide (the approver is the submitter, or the role is vacant)
        escalate = (step.get("deadline") or {}).get("escalate_to")
        found, origin = (people.approvers(sess, sub, escalate), "escalation") if escalate else ([], "fallback")
        if not found:
            found, origin = people.approvers(sess, sub, {"role": "school_admin"}), "fallback"
        sub.step_escalated_at = now if origin == "escalation" else None
    _assign(sess, sub, step, index, found, origin, now)


def _assign(sess: so.Session, sub: Submission, step: dict, index: int, accounts: list[int], origin: str,
            now: datetime) -> None:
    from foundation.lowcode import notify

    for account in accounts:
        sess.add(FlowTask(submission_id=sub.id, school_id=sub.school_id, step=index, step_key=step["key"],
                          account_id=account, origin=origin, status="open", created_at=now))
    named = people.names(sess, accounts)
    _event(sess, sub, "escalated" if origin == "escalation" else "step", step=step["key"], at=now,
           detail={"approvers": [named.get(a, "—") for a in accounts], "origin": origin})
    sess.flush()
    standing = people.deputies(sess, sub.school_id, accounts, now)
    notify.flow_requested(sess, _form(sess, sub), sub, step, accounts, [d for a in accounts for d in standing.get(a, [])],
                          escalated=origin == "escalation")


def _finish(sess: so.Session, sub: Submission, flow: dict, outcome: str, by: Principal | None, now: datetime,
            note: str | None = None) -> None:
    from foundation.events import publish
    from foundation.lowcode import notify
    from foundation.lowcode.lineage import root_template

    sub.status, sub.flow_step = outcome, None
    for task in sess.scalars(sa.select(FlowTask).where(FlowTask.submission_id == sub.id, FlowTask.status == "open")):
        task.status, task.decided_at = "closed", now
    _event(sess, sub, "finished", at=now, detail={"outcome": outcome})
    form = _form(sess, sub)
    if outcome != "withdrawn":
        notify.flow_finished(sess, form, sub, flow, outcome, by, note)
    sess.flush()
    publish("lowcode.flow.finished", [{"form_id": sub.form_id, "submission_id": sub.id, "school_id": sub.school_id,
                                       "outcome": outcome, "student_id": sub.student_id, "data": sub.data,
                                       "template_key": root_template(sess, form)}])


def _acting_for(sess: so.Session, p: Principal, task: FlowTask, now: datetime) -> int | None:
    """Whom ``p`` decides ``task`` as: the approver themself (None), or the approver they stand in for."""
    if task.account_id == p.account_id:
        return None
    if task.account_id in people.standing_in_for(sess, p.account_id, [task.school_id], now):
        return task.account_id
    raise Forbidden("lowcode.approve")


def decide(sess: so.Session, principal: Principal, task_id: int, decision: str, note: str | None,
           now: datetime | None = None) -> Submission:
    """``principal`` (the task's approver or their deputy for today) approves, rejects or returns (``RETURN``,
    a note required); moves the flow on. Raises NotFound (no such open task), Forbidden (not theirs; their
    own submission), ValidationFailed."""
    now = now or utcnow()
    if decision not in (*DECISIONS, RETURN):
        raise ValidationFailed({"decision": ["lowcode.decision"]})
    if decision == RETURN and not (note or "").strip():
        raise ValidationFailed({"note": ["flow.return_note"]})
    task = sess.scalar(sa.select(FlowTask).where(FlowTask.id == task_id)) if isinstance(task_id, int) and 0 < task_id < 2**31 else None
    if task is None:
        raise NotFound("task")
    sub = sess.scalar(sa.select(Submission).where(Submission.id == task.submission_id))
    if sub is None:
        raise NotFound("task")
    deputy_for = _acting_for(sess, principal, task, now)
    if sub.submitted_by == principal.account_id:
        raise Forbidden("lowcode.approve")
    if task.status != "open" or sub.status != OPEN or sub.flow_step != task.step:
        raise ValidationFailed({"task": ["lowcode.already_decided"]})
    flow = _flow(sess, sub)
    step = flow["steps"][task.step]
    note = (note or "").strip()[:300] or None
    task.status, task.decided_by, task.note, task.decided_at = decision, principal.account_id, note, now
    for_name = people.names(sess, [deputy_for]).get(deputy_for) if deputy_for else None
    _event(sess, sub, decision, step=step["key"], by=principal.account_id, by_name=principal.display_name,
           for_name=for_name, note=note, at=now)
    sess.flush()
    still_open = sess.scalar(sa.select(sa.func.count()).select_from(FlowTask).where(
        FlowTask.submission_id == sub.id, FlowTask.step == task.step, FlowTask.status == "open"))
    if decision == "approved" and step["mode"] == "all" and still_open:
        return sub  # 会签: the others still have to approve
    for other in sess.scalars(sa.select(FlowTask).where(FlowTask.submission_id == sub.id, FlowTask.step == task.step,
                                                        FlowTask.status == "open")):
        other.status, other.decided_at = "closed", now
    _step_decided(sess, sub, flow, step, decision, principal, note, now)
    if decision == RETURN:
        from foundation.lowcode import notify

        sub.status, sub.flow_step = RETURN, None  # waits for its submitter; no approver holds it now
        notify.flow_returned(sess, _form(sess, sub), sub, step, principal, note)
    elif decision == "rejected":
        _finish(sess, sub, flow, "rejected", principal, now, note)
    else:
        last = all(not p["taken"] for p in path({"steps": flow["steps"][task.step + 1:]}, sub.data))
        if last:
            _finish(sess, sub, flow, "approved", principal, now, note)
        else:
            from foundation.lowcode import notify

            notify.flow_step_decided(sess, _form(sess, sub), sub, flow, step, decision, principal, note)
            _enter(sess, sub, flow, task.step + 1, now)
    sess.flush()
    return sub


def _step_decided(sess: so.Session, sub: Submission, flow: dict, step: dict, decision: str, by: Principal,
                  note: str | None, now: datetime) -> None:
    from foundation.events import publish
    from foundation.lowcode.lineage import root_template

    publish("lowcode.flow.step_decided", [{
        "form_id": sub.form_id, "submission_id": sub.id, "school_id": sub.school_id, "step": step["key"],
        "decision": decision, "by_account": by.account_id, "note": note, "at": now.isoformat(),
        "template_key": root_template(sess, _form(sess, sub))}])


def restart(sess: so.Session, sub: Submission, previous: dict, previous_version: int | None, by: Principal,
            now: datetime | None = None) -> None:
    """A returned submission was changed and resubmitted (its data and version already the new ones): the
    timeline keeps the earlier answers, and the flow starts again from its first step on the new answers."""
    now = now or utcnow()
    _event(sess, sub, "resubmitted", by=by.account_id, by_name=by.display_name, at=now,
           detail={"previous": previous, "version": previous_version})
    sub.status = OPEN
    flow = _flow(sess, sub)
    if flow is None:  # the new version has no flow any more: received as it is
        sub.status, sub.flow_step = "submitted", None
        return
    _enter(sess, sub, flow, 0, now)


def withdraw(sess: so.Session, principal: Principal, submission_id: int, now: datetime | None = None) -> Submission:
    """The submitter takes back a pending (or returned) submission; its open tasks close."""
    sub = sess.scalar(sa.select(Submission).where(Submission.id == submission_id)) if isinstance(submission_id, int) and 0 < submission_id < 2**31 else None
    if sub is None or sub.submitted_by != principal.account_id:
        raise NotFound("submission")
    if sub.status not in (OPEN, RETURN):
        raise ValidationFailed({"submission": ["flow.not_pending"]})
    now = now or utcnow()
    _event(sess, sub, "withdrawn", by=principal.account_id, by_name=principal.display_name, at=now)
    _finish(sess, sub, _flow(sess, sub) or {"steps": [], "cc": []}, "withdrawn", principal, now)
    return sub


# -- what people see ----------------------------------------------------------------------------------------

def tasks_for(sess: so.Session, principal: Principal, now: datetime | None = None) -> list[dict[str, Any]]:
    """What awaits ``principal``: their open tasks at a submission's current step, and those of the people
    they stand in for today (``for`` names them), oldest first."""
    standing = people.standing_in_for(sess, principal.account_id, principal.school_ids(), now)
    accounts = {principal.account_id, *standing}
    rows = sess.execute(
        sa.select(FlowTask, Submission, LowcodeForm.title)
        .join(Submission, Submission.id == FlowTask.submission_id)
        .join(LowcodeForm, LowcodeForm.id == Submission.form_id)
        .where(FlowTask.status == "open", FlowTask.account_id.in_(accounts), Submission.status == OPEN,
               Submission.flow_step == FlowTask.step, Submission.submitted_by.is_distinct_from(principal.account_id))
        .order_by(Submission.step_started_at, FlowTask.id)).all()
    seen, out = set(), []
    named = people.names(sess, {t.account_id for t, _, _ in rows} | {s.submitted_by for _, s, _ in rows})
    students = _student_names(sess, {s.student_id for _, s, _ in rows})
    classes = _class_names(sess, {s.class_id for _, s, _ in rows})
    flows: dict[int, dict | None] = {}
    for task, sub, title in rows:
        if sub.id in seen and task.account_id != principal.account_id:
            continue  # one task per submission: their own first
        seen.add(sub.id)
        if sub.version_id not in flows:
            flows[sub.version_id] = _flow(sess, sub)
        step = flows[sub.version_id]["steps"][task.step]
        out.append({"id": task.id, "submission_id": sub.id, "form_id": sub.form_id, "app": title,
                    "step": {"key": step["key"], "title": step["title"]}, "mode": step["mode"],
                    "for": named.get(task.account_id) if task.account_id != principal.account_id else None,
                    "submitted_by": named.get(sub.submitted_by), "student": students.get(sub.student_id),
                    "class_id": sub.class_id, "class": classes.get(sub.class_id), "data": sub.data,
                    "waiting_since": sub.step_started_at, "submitted_at": sub.created_at})
    return out


def _student_names(sess: so.Session, ids) -> dict[int, str]:
    ids = {i for i in ids if i}
    return dict(sess.execute(sa.select(Student.id, Student.name).where(Student.id.in_(ids))).all()) if ids else {}


def _class_names(sess: so.Session, ids) -> dict[int, str]:
    ids = {i for i in ids if i}
    return dict(sess.execute(sa.select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_(ids))).all()) if ids else {}


def state(sess: so.Session, submission: Submission) -> dict[str, Any]:
    """``{"status", "step": {key, title} | None, "waiting_for": [display names]}``."""
    out = {"status": submission.status, "step": None, "waiting_for": []}
    if submission.status != OPEN or submission.flow_step is None:
        return out
    flow = _flow(sess, submission)
    step = flow["steps"][submission.flow_step]
    waiting = list(sess.scalars(sa.select(FlowTask.account_id).where(
        FlowTask.submission_id == submission.id, FlowTask.step == submission.flow_step, FlowTask.status == "open")
        .order_by(FlowTask.id)))
    named = people.names(sess, waiting)
    return out | {"step": {"key": step["key"], "title": step["title"]}, "waiting_for": [named[a] for a in waiting if a in named]}


def may_see(sess: so.Session, p: Principal, sub: Submission) -> bool:
    """The submitter, anyone who has (or stands in for one who has) a task on it, and those who see the
    app's submissions."""
    from foundation.lowcode.apps import visible

    if sub.submitted_by == p.account_id:
        return True
    accounts = {p.account_id, *people.standing_in_for(sess, p.account_id, [sub.school_id])}
    if sess.scalar(sa.select(FlowTask.id).where(FlowTask.submission_id == sub.id,
                                                FlowTask.account_id.in_(accounts)).limit(1)):
        return True
    app = sess.scalar(sa.select(FormVersion.app).where(FormVersion.id == sub.version_id)) or {}
    stmt = visible(sa.select(Submission.id).where(Submission.id == sub.id), p, _form(sess, sub), app)
    return sess.scalar(stmt) is not None


def timeline(sess: so.Session, submission_id: int, lang: str = "zh") -> list[dict[str, Any]]:
    """The submission's flow, line by line: ``{"at", "kind", "step", "by", "for", "note", "text"}`` with
    ``text`` the line in ``lang``'s words; a resubmission's line also has the earlier answers (``previous``)
    and what changed (``changes``: ``[{"field", "before", "after"}]``)."""
    from foundation.i18n import t

    sub = sess.scalar(sa.select(Submission).where(Submission.id == submission_id))
    if sub is None:
        return []
    flow = _flow(sess, sub) or {"steps": []}
    titles = {s["key"]: s["title"].get(lang) or s["title"].get("zh") or s["key"] for s in flow["steps"]}
    out = []
    events = list(sess.scalars(sa.select(FlowEvent).where(FlowEvent.submission_id == submission_id)
                               .order_by(FlowEvent.id)))
    # each resubmission's earlier answers, and what they became (the next revision's, or today's answers)
    revisions = [(e.detail or {}).get("previous") or {} for e in events if e.kind == "resubmitted"] + [sub.data or {}]
    n = 0
    for e in events:
        step = titles.get(e.step_key, e.step_key or "")
        detail = e.detail or {}
        changes = None
        if e.kind == "resubmitted":
            before, after = revisions[n], revisions[n + 1]
            changes = [{"field": k, "before": before.get(k), "after": after.get(k)}
                       for k in dict.fromkeys([*before, *after]) if before.get(k) != after.get(k)]
            n += 1
        who = ("、" if lang == "zh" else ", ").join(detail.get("approvers") or []) or "—"
        kind = e.kind if e.kind != "finished" else f"finished.{detail.get('outcome')}"
        text = t(f"flow.event.{kind}", lang, step=step, by=e.by_name or "—", who=who)
        if e.for_name:
            text += t("flow.event.for", lang, name=e.for_name)
        out.append({"at": e.at, "kind": e.kind, "step": step or None, "by": e.by_name, "for": e.for_name,
                    "note": e.note, "text": text, "outcome": detail.get("outcome"),
                    **({"previous": detail.get("previous") or {}, "changes": changes} if changes is not None else {})})
    return out
