"""Approval flows through the API (foundation/lowcode/flow.py): what awaits me (待我审批) and deciding it, one
or many at once, or returning one for changes with a note (and resubmitting it); my submissions with the step
each waits at; a submission's timeline; withdrawing; and
naming a deputy while I am away."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import jsonify, request

from foundation import db
from foundation.api.blueprint import bp, doc
from foundation.api.common import get_or_404, principal
from foundation.audit import record
from foundation.errors import NotFound, ValidationFailed
from foundation.i18n import current_lang
from foundation.inputs import clean_text, json_body
from foundation.lowcode import flow
from foundation.lowcode import flow_people as people
from foundation.models import Delegation, LowcodeForm, OrgUnit, Submission
from foundation.permissions import Forbidden, require

_TEXT = {"type": "object", "properties": {"zh": {"type": "string"}, "en": {"type": "string"}}}
_STEP = {"type": ["object", "null"], "properties": {"key": {"type": "string"}, "title": _TEXT}}
TASK = {"type": "object", "properties": {
    "id": {"type": "integer"}, "submission_id": {"type": "integer"}, "form_id": {"type": "integer"}, "app": _TEXT,
    "step": _STEP, "mode": {"enum": ["any", "all"]}, "for": {"type": ["string", "null"]},
    "submitted_by": {"type": ["string", "null"]}, "student": {"type": ["string", "null"]},
    "class_id": {"type": ["integer", "null"]}, "class": {"type": ["string", "null"]}, "data": {"type": "object"},
    "waiting_since": {"type": ["string", "null"], "format": "date-time"},
    "submitted_at": {"type": "string", "format": "date-time"}}}
STATE = {"type": "object", "properties": {"status": {"type": "string"}, "step": _STEP,
                                          "waiting_for": {"type": "array", "items": {"type": "string"}}}}
LINE = {"type": "object", "properties": {
    "at": {"type": "string", "format": "date-time"}, "kind": {"type": "string"}, "step": {"type": ["string", "null"]},
    "by": {"type": ["string", "null"]}, "for": {"type": ["string", "null"]}, "note": {"type": ["string", "null"]},
    "text": {"type": "string"}, "outcome": {"type": ["string", "null"]},
    "previous": {"type": "object"},  # a resubmission's line: the earlier answers, and what changed
    "changes": {"type": "array", "items": {"type": "object", "properties": {"field": {"type": "string"}}}}}}
MINE = {"type": "object", "properties": {
    "id": {"type": "integer"}, "form_id": {"type": "integer"}, "app": _TEXT,
    "created_at": {"type": "string", "format": "date-time"}, **STATE["properties"]}}
DELEGATION = {"type": "object", "properties": {
    "id": {"type": "integer"}, "account_id": {"type": "integer"}, "name": {"type": ["string", "null"]},
    "deputy": {"type": "integer"}, "deputy_name": {"type": ["string", "null"]},
    "starts": {"type": "string", "format": "date"}, "ends": {"type": "string", "format": "date"}}}
DECIDE_IN = {"type": "object", "required": ["tasks", "decision"], "additionalProperties": False, "properties": {
    "tasks": {"type": "array", "items": {"type": "integer", "minimum": 1}, "minItems": 1, "maxItems": 100},
    "decision": {"enum": list(flow.DECISIONS)}, "note": {"type": ["string", "null"], "maxLength": 300}}}
RETURN_IN = {"type": "object", "required": ["note"], "additionalProperties": False, "properties": {
    "note": {"type": "string", "minLength": 1, "maxLength": 300}}}
RESUBMIT_IN = {"type": "object", "required": ["data"], "additionalProperties": False, "properties": {
    "data": {"type": "object"}}}
DELEGATE_IN = {"type": "object", "required": ["deputy", "starts", "ends"], "additionalProperties": False,
               "properties": {"deputy": {"type": "integer", "minimum": 1}, "starts": {"type": "string", "format": "date"},
                              "ends": {"type": "string", "format": "date"}}}


def _iso(value):
    if isinstance(value, datetime):
        return value.isoformat() + "Z"  # naive UTC, given out with its zone
    return value.isoformat() if isinstance(value, date) else value


def _out(row: dict) -> dict:
    return {k: _iso(v) for k, v in row.items()}


MAX_WAITING_DAYS = 3650


def filtered_tasks(args) -> list[dict]:
    """My tasks, narrowed by ``form_id``, ``class_id`` and ``waiting_days`` (waiting at least that many days)."""
    tasks = flow.tasks_for(db.session(), principal())
    for key in ("form_id", "class_id"):
        want = args.get(key, type=int)
        if key == "class_id" and want is not None:  # a class out of reach is not found, not an empty list
            get_or_404(OrgUnit, want, "class")
        if want is not None:
            tasks = [t for t in tasks if t[key] == want]
    days = min(args.get("waiting_days", type=int) or 0, MAX_WAITING_DAYS)  # beyond ten years: none waits so long
    if days > 0:
        before = datetime.utcnow() - timedelta(days=days)  # noqa: DTZ003 - naive UTC like the columns
        tasks = [t for t in tasks if t["waiting_since"] and t["waiting_since"] <= before]
    return tasks


@bp.get("/flow/tasks")
@doc("What awaits my approval (待我审批) across apps, deputies' tasks included (\"for\" names whom), oldest "
     "first; form_id=, class_id=, waiting_days= narrow it", tags=["lowcode"],
     query={"type": "object", "properties": {"form_id": {"type": "integer"}, "class_id": {"type": "integer"},
                                             "waiting_days": {"type": "integer"}}},
     response={"type": "object", "properties": {"tasks": {"type": "array", "items": TASK}}})
def flow_tasks():
    return jsonify({"tasks": [_out(t) for t in filtered_tasks(request.args)]})


def decide_many(task_ids, decision, note) -> list[dict]:
    """Decide every one of ``task_ids`` or none (the first that cannot be decided names itself)."""
    p, sess = principal(), db.session()
    if not isinstance(task_ids, list) or not task_ids or len(task_ids) > 100:
        raise ValidationFailed({"tasks": ["flow.tasks_required"]})
    if decision not in flow.DECISIONS:
        raise ValidationFailed({"decision": ["lowcode.decision"]})
    note = clean_text(note, "note", required=False, limit=300)
    done = []
    with sess.begin_nested():
        for n, task_id in enumerate(task_ids, 1):
            if isinstance(task_id, bool) or not isinstance(task_id, int):
                raise ValidationFailed({"tasks": [f"flow.task_unknown:{n}"]})
            try:
                sub = flow.decide(sess, p, task_id, decision, note)
            except (NotFound, Forbidden):
                raise ValidationFailed({"tasks": [f"flow.task_unknown:{n}"]}) from None
            except ValidationFailed:
                raise ValidationFailed({"tasks": [f"flow.task_unknown:{n}"]}) from None
            done.append({"task": task_id, "submission_id": sub.id, "status": sub.status})
    for d in done:
        record("lowcode.flow.decide", "submission", d["submission_id"], detail={"decision": decision, "task": d["task"]})
    return done


@bp.post("/flow/tasks/decide")
@doc("Approve or reject one or several tasks of mine (or of those I stand in for) with one note: all of "
     "them or none", tags=["lowcode"], body=DECIDE_IN,
     response={"type": "object", "properties": {"decided": {"type": "array", "items": {"type": "object"}}}})
def flow_decide():
    body = json_body()
    return jsonify({"decided": decide_many(body.get("tasks"), body.get("decision"), body.get("note"))})


def return_task(task_id: int, note) -> Submission:
    """Return the submission of my task (or of the person I stand in for) to its submitter for changes."""
    note = clean_text(note, "note", required=True, limit=300, missing="flow.return_note")
    sub = flow.decide(db.session(), principal(), task_id, flow.RETURN, note)
    record("lowcode.flow.return", "submission", sub.id, school_id=sub.school_id, detail={"task": task_id})
    return sub


@bp.post("/flow/tasks/<int:task_id>/return")
@doc("Return the submission of one of my tasks to its submitter for changes (退回修改), with a note (required; "
     "one task at a time): it waits for them, they are told, and their resubmission starts the flow again",
     tags=["lowcode"], body=RETURN_IN, errors=[404],
     response={"type": "object", "properties": {"submission_id": {"type": "integer"}, **STATE["properties"]}})
def flow_return(task_id: int):
    sub = return_task(task_id, json_body().get("note"))
    return jsonify({"submission_id": sub.id, **flow.state(db.session(), sub)})


def resubmit(submission_id: int, data) -> Submission:
    """My changed answers to my returned submission: the same submission, its flow from the first step."""
    from foundation.lowcode import forms

    sub = get_or_404(Submission, submission_id, "submission")
    problems = forms.resubmit(db.session(), sub, data, principal=principal())
    if problems:
        raise ValidationFailed({k: [v] for k, v in problems.items()})
    record("lowcode.flow.resubmit", "submission", sub.id, school_id=sub.school_id)
    return sub


@bp.post("/flow/submissions/<int:submission_id>/resubmit")
@doc("Resubmit my submission returned for changes with changed answers (all of them, checked like a new "
     "submission): it keeps its id, its earlier answers stay on the timeline, and its flow starts again from "
     "the first step", tags=["lowcode"], body=RESUBMIT_IN, errors=[404],
     response={"type": "object", "properties": {"id": {"type": "integer"}, **STATE["properties"]}})
def flow_resubmit(submission_id: int):
    sub = resubmit(submission_id, json_body().get("data"))
    return jsonify({"id": sub.id, **flow.state(db.session(), sub)})


def my_submissions(lang: str | None = None) -> list[dict]:
    p, sess = principal(), db.session()
    rows = sess.execute(sa.select(Submission, LowcodeForm.title).join(LowcodeForm, LowcodeForm.id == Submission.form_id)
                        .where(Submission.submitted_by == p.account_id,
                               Submission.status.in_(("pending", "returned", "approved", "rejected", "withdrawn")))
                        .order_by(Submission.id.desc()).limit(200)).all()
    return [{"id": s.id, "form_id": s.form_id, "app": title, "created_at": s.created_at, **flow.state(sess, s)}
            for s, title in rows]


@bp.get("/flow/submissions")
@doc("My submissions in approval flows (我的提交), newest first, with the step each waits at and for whom",
     tags=["lowcode"], response={"type": "object", "properties": {"submissions": {"type": "array", "items": MINE}}})
def flow_mine():
    return jsonify({"submissions": [_out(s) for s in my_submissions()]})


def visible_submission(submission_id: int) -> Submission:
    sub = get_or_404(Submission, submission_id, "submission")
    if not flow.may_see(db.session(), principal(), sub):
        raise NotFound("submission")
    return sub


@bp.get("/flow/submissions/<int:submission_id>")
@doc("A submission's place in its flow and its timeline: who, when, decision, note, for whom, reminders "
     "and escalations", tags=["lowcode"], errors=[404],
     response={"type": "object", "properties": {"id": {"type": "integer"}, "state": STATE,
                                                "timeline": {"type": "array", "items": LINE}}})
def flow_submission(submission_id: int):
    sub = visible_submission(submission_id)
    return jsonify({"id": sub.id, "form_id": sub.form_id, "state": flow.state(db.session(), sub),
                    "timeline": [_out(x) for x in flow.timeline(db.session(), sub.id, current_lang())]})


@bp.post("/flow/submissions/<int:submission_id>/withdraw")
@doc("Withdraw my submission while it is pending or returned for changes (its approvers' tasks close)", tags=["lowcode"], errors=[404],
     response=STATE)
def flow_withdraw(submission_id: int):
    sub = flow.withdraw(db.session(), principal(), submission_id)
    record("lowcode.flow.withdraw", "submission", sub.id, school_id=sub.school_id)
    return jsonify(flow.state(db.session(), sub))


def _delegation(row: Delegation, named: dict) -> dict:
    return {"id": row.id, "account_id": row.account_id, "name": named.get(row.account_id), "deputy": row.deputy_id,
            "deputy_name": named.get(row.deputy_id), "starts": row.starts.isoformat(), "ends": row.ends.isoformat()}


def delegations_of(account_id: int) -> list[dict]:
    rows = people.mine(db.session(), account_id)
    named = people.names(db.session(), {r.account_id for r in rows} | {r.deputy_id for r in rows})
    return [_delegation(r, named) for r in rows]


@bp.get("/flow/delegations")
@doc("The deputies I named and the people I stand in for (not cancelled)", tags=["lowcode"],
     response={"type": "object", "properties": {"delegations": {"type": "array", "items": DELEGATION}}})
def flow_delegations():
    require(principal(), "lowcode.approve")
    return jsonify({"delegations": delegations_of(principal().account_id)})


def _date(value, key: str) -> date:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        raise ValidationFailed({key: ["flow.date"]}) from None


def create_delegation(deputy, starts, ends) -> Delegation:
    p = principal()
    require(p, "lowcode.approve")
    schools = sorted(s for s in p.school_ids() if p.can("lowcode.approve", s))
    if not schools:
        raise Forbidden("lowcode.approve")
    try:
        row = people.delegate(db.session(), p.account_id, schools[0], deputy, _date(starts, "starts"),
                              _date(ends, "ends"))
    except people.DelegationError as err:
        raise ValidationFailed({k: [v] for k, v in err.problems.items()}) from err
    record("lowcode.flow.delegate", "delegation", row.id, school_id=row.school_id,
           detail={"deputy": row.deputy_id, "starts": row.starts.isoformat(), "ends": row.ends.isoformat()})
    return row


@bp.post("/flow/delegations")
@doc("Name a deputy (staff of my school) for a date range: my approvals are offered to them too, and their "
     "decisions are recorded as made for me", tags=["lowcode"], body=DELEGATE_IN, status=201, response=DELEGATION)
def flow_delegate():
    body = json_body()
    row = create_delegation(body.get("deputy"), body.get("starts"), body.get("ends"))
    return jsonify(_delegation(row, people.names(db.session(), [row.account_id, row.deputy_id]))), 201


def cancel_delegation(delegation_id: int) -> Delegation:
    row = get_or_404(Delegation, delegation_id, "delegation")
    if row.account_id != principal().account_id:
        raise NotFound("delegation")
    row.cancelled_at = datetime.utcnow()  # noqa: DTZ003
    record("lowcode.flow.undelegate", "delegation", row.id, school_id=row.school_id)
    return row


@bp.delete("/flow/delegations/<int:delegation_id>")
@doc("Cancel a deputy I named", tags=["lowcode"], errors=[404], content=None, status=204)
def flow_undelegate(delegation_id: int):
    cancel_delegation(delegation_id)
    return "", 204

