"""The alert engine through the API: the inbox (sorted by urgency), one case with its timeline, the steps
people record, and raising a teacher's own concern. A case someone may not see answers 404, like a row of
another school. Settings, calendar and figures are in alerts_school.py."""
from __future__ import annotations

import sqlalchemy as sa
from flask import jsonify
from marshmallow import fields, validate

from foundation import db
from foundation.alerts import access, actions, clock
from foundation.alerts.engine import trigger
from foundation.alerts.rules import get_rule, rules_for
from foundation.api.blueprint import bp, doc
from foundation.api.common import get_or_404, load_body, load_query, principal
from foundation.api.org import filters_or_404
from foundation.api.schemas import PageQuery, Strict, _id
from foundation.audit import record
from foundation.errors import NotFound, ValidationFailed
from foundation.i18n import current_lang
from foundation.inputs import no_control_chars
from foundation.models import AlertCase, Student
from foundation.permissions import require
from foundation.reach import school_for


class CaseQuery(PageQuery):
    status = fields.String(load_default="open", validate=validate.OneOf(["open", "closed", "all"], error="field.one_of"))
    level = fields.String(validate=validate.OneOf(["red", "yellow"], error="field.one_of"))
    scope = fields.String(load_default="mine", validate=validate.OneOf(["mine", "school"], error="field.one_of"))
    rule = fields.String(validate=validate.Length(min=1, max=120, error="field.length:{max}"))
    class_id = _id()
    school_id = _id()


class ActionIn(Strict):
    kind = fields.String(required=True, validate=validate.OneOf(actions.KINDS, error="field.one_of"))
    note = fields.String(validate=[validate.Length(max=4000, error="field.length:4000"), no_control_chars],
                         allow_none=True)
    method = fields.String(validate=validate.OneOf(actions.METHODS, error="field.one_of"), allow_none=True)
    evaluation_days = fields.Integer(validate=validate.Range(min=1, max=366, error="field.range:{min}-{max}"),
                                     allow_none=True)
    recovered = fields.Boolean(allow_none=True)
    outcome = fields.String(validate=validate.OneOf(actions.OUTCOMES, error="field.one_of"), allow_none=True)


class RaiseIn(Strict):
    student_id = _id(required=True)
    rule = fields.String(load_default="core.manual", validate=validate.Length(min=1, max=120, error="field.length:{max}"))
    level = fields.String(validate=validate.OneOf(["red", "yellow"], error="field.one_of"), allow_none=True)
    note = fields.String(validate=[validate.Length(min=1, max=4000, error="field.length:4000"), no_control_chars,
                                   validate.Regexp(r"\S", error="field.required")], required=True)


def _audit_sensitive(cases: list[AlertCase], what: str) -> None:
    sensitive = [c for c in cases if c.sensitive]
    for school in sorted({c.school_id for c in sensitive}):
        record(what, "alert_case", ",".join(str(c.id) for c in sensitive if c.school_id == school)[:200],
               school_id=school, detail={"cases": [c.id for c in sensitive if c.school_id == school]})


@bp.get("/alerts/cases")
@doc("Alert cases you handle (or, with scope=school, your school's), most urgent first, with the time left",
     tags=["alerts"], query=CaseQuery)
def list_alert_cases():
    p = principal()
    require(p, "alerts.case.read")
    args = load_query(CaseQuery())
    filters_or_404({k: v for k, v in args.items() if k in ("class_id", "school_id")})  # out of reach: 404
    stmt = sa.select(AlertCase).where(access.visible_where(p))
    if args["scope"] == "mine":  # one's own work: assigned, not attached to a red case already in the list
        stmt = stmt.where(AlertCase.id.in_(access.assigned_ids(p)), AlertCase.parent_case_id.is_(None))
    if args["status"] != "all":
        stmt = stmt.where(AlertCase.closed_at.is_(None) if args["status"] == "open" else AlertCase.closed_at.is_not(None))
    for key, col in (("level", AlertCase.level), ("rule", AlertCase.rule_key), ("class_id", AlertCase.class_id),
                     ("school_id", AlertCase.school_id)):
        if key in args:
            stmt = stmt.where(col == args[key])
    sess = db.session()
    total = sess.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))
    per_page = args["per_page"]
    rows = list(sess.scalars(stmt.order_by(*access.urgency_order()).limit(per_page)
                             .offset((args["page"] - 1) * per_page)))
    _audit_sensitive(rows, "alerts.case.list")
    return jsonify({"items": access.summaries(sess, rows, current_lang()), "total": total, "page": args["page"],
                    "per_page": per_page, "now": access._iso(clock.now())})


@bp.post("/alerts/cases")
@doc("Raise an alert about a student you reach (a teacher's own concern, or a registered rule)",
     tags=["alerts"], body=RaiseIn, status=201)
def raise_alert_case():
    p = principal()
    body = load_body(RaiseIn())
    student = get_or_404(Student, body["student_id"], "student")
    require(p, "alerts.case.act", student.school_id)
    rule = get_rule(body["rule"], student.school_id)  # only a rule known in the student's school
    if rule is None:
        raise ValidationFailed({"rule": ["alerts.rule.unknown"]})
    case = trigger(db.session(), rule, student_id=student.id, school_id=student.school_id,
                   level=body.get("level"), detail={"note": body["note"]}, source=f"account:{p.account_id}")
    actions.act(db.session(), case, "note", account_id=p.account_id, actor=p.display_name, note=body["note"])
    record("alerts.case.raise", "alert_case", case.id, school_id=case.school_id, detail={"rule": rule.key})
    return jsonify(access.detail(db.session(), case, p, current_lang())), 201


def _case(case_id: int) -> AlertCase:
    p = principal()
    if p is not None and not p.can("alerts.case.read"):
        # a case is a row about a student: to whoever may see none (a subject teacher, a parent, a student)
        # it is not there, like another school's row, rather than a 403 saying there is something to forbid
        raise NotFound("alert_case")
    require(p, "alerts.case.read")
    case = access.load_case(db.session(), p, case_id)
    if case is None:
        raise NotFound("alert_case")
    return case


@bp.get("/alerts/cases/<int:case_id>")
@doc("One case: people, deadlines, escalation steps and the timeline (sensitive notes for assigned staff only)",
     tags=["alerts"])
def get_alert_case(case_id: int):
    case = _case(case_id)
    out = access.detail(db.session(), case, principal(), current_lang())
    if case.sensitive:
        record("alerts.case.read", "alert_case", case.id, school_id=case.school_id,
               detail={"notes_visible": out["notes_visible"]})
    return jsonify(out)


@bp.post("/alerts/cases/<int:case_id>/actions")
@doc("Record a step: acknowledge, contact, plan, follow_up, note, evaluate or close (with an outcome)",
     tags=["alerts"], body=ActionIn, status=201)
def act_on_alert_case(case_id: int):
    p = principal()
    case = _case(case_id)
    require(p, "alerts.case.act", case.school_id)
    body = load_body(ActionIn())
    try:
        event = actions.act(db.session(), case, body["kind"], account_id=p.account_id, actor=p.display_name,
                            note=body.get("note"), method=body.get("method"),
                            evaluation_days=body.get("evaluation_days"), recovered=body.get("recovered"),
                            outcome=body.get("outcome"))
    except actions.ActionError as err:
        raise ValidationFailed({err.field: [err.key]}) from err
    record(f"alerts.case.{body['kind']}", "alert_case", case.id, school_id=case.school_id,
           detail={"event_id": event.id})
    return jsonify(access.detail(db.session(), case, p, current_lang())), 201


@bp.get("/alerts/rules")
@doc("The alert rules known in your school: the platform's, those of plugins enabled there, and the school's "
     "own apps' (?school_id= when you have several)", tags=["alerts"])
def list_alert_rules():
    school = school_for("alerts.case.read")
    lang = current_lang()
    items = [{"key": r.key, "title": r.label(lang), "level": r.level, "category": r.category,
              "assign": list(r.assign), "sensitive": r.sensitive, "evaluation_days": r.evaluation_days,
              "scheduled": r.scan is not None, "plugin": r.plugin, "lowcode": r.lowcode}
             for r in sorted(rules_for(db.session(), school).values(), key=lambda r: r.key)]
    return jsonify({"items": items, "total": len(items), "school_id": school})
