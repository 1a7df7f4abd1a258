"""Low-code apps through the API: an app's computed views, its approval flow and its listing in the app
square. (Forms, drafts, versions and submissions are in foundation/api/forms.py.)"""
from __future__ import annotations

import sqlalchemy as sa
from flask import jsonify, request

from foundation import db
from foundation.api.blueprint import bp, doc
from foundation.api.common import get_or_404, principal
from foundation.audit import record
from foundation.errors import NotFound, ValidationFailed
from foundation.inputs import clean_text
from foundation.lowcode import flow
from foundation.lowcode import forms as svc
from foundation.lowcode import views as appviews
from foundation.models import FormVersion, LowcodeForm, Submission
from foundation.permissions import Forbidden
from foundation.services import square


def published(form_id: int) -> tuple[LowcodeForm, FormVersion]:
    form = get_or_404(LowcodeForm, form_id, "form")
    version = svc.latest(db.session(), form.id)
    if version is None:
        raise ValidationFailed({"form": ["lowcode.not_published"]})
    return form, version


@bp.get("/forms/<int:form_id>/view")
@doc("An app's view over the submissions you may see: filtered (f_<field>=value), sorted "
     "(sort=<field>&dir=asc|desc), with its aggregates and chart series", tags=["lowcode"])
def app_view(form_id: int):
    form, version = published(form_id)
    out = appviews.for_request(db.session(), principal(), form, version, request.args)
    view, result = out["view"], out["result"]
    rows = [{k: v for k, v in r.items() if k != "sub"} for r in result["rows"]]
    return jsonify({"view": view, "views": [v["key"] for v in out["views"]], "total": len(rows), **result,
                    "rows": rows,
                    "chart": [{"value": v, "label": appviews.label_of(version.schema, version.ui_schema,
                                                                        (view.get("chart") or {}).get("by", ""), v),
                               "measure": m} for v, m in result["chart"]]})


@bp.post("/forms/<int:form_id>/submissions/<int:submission_id>/decision")
@doc("Approve or reject a submission at the step of its approval flow that awaits you (or the person you "
     "stand in for); the flow moves on and the submitter is told", tags=["lowcode"], body="DecisionIn")
def app_decide(form_id: int, submission_id: int):
    p = principal()
    form, version = published(form_id)
    row = db.session().scalar(sa.select(Submission).where(Submission.id == submission_id,
                                                          Submission.form_id == form.id)) \
        if 0 < submission_id < 2**31 else None
    if row is None:
        raise NotFound("submission")
    app = db.session().get(FormVersion, row.version_id).app or {}
    if flow.flow_of(app) is None:
        raise ValidationFailed({"form": ["lowcode.no_approval"]})
    body = request.get_json(silent=True)
    body = body if isinstance(body, dict) else {}
    decision, note = body.get("decision"), body.get("note")
    if decision not in flow.DECISIONS:
        raise ValidationFailed({"decision": ["lowcode.decision"]})
    note = clean_text(note, "note", required=False, limit=300)
    task = next((t for t in flow.tasks_for(db.session(), p) if t["submission_id"] == row.id), None)
    if task is None:
        if row.status != "pending":
            raise ValidationFailed({"submission": ["lowcode.already_decided"]})
        raise Forbidden("lowcode.approve")
    flow.decide(db.session(), p, task["id"], decision, note)
    record("lowcode.approval", "submission", row.id, school_id=row.school_id, detail={"decision": decision})
    return jsonify({"id": row.id, "status": row.status, "decided_by": p.display_name, "note": note,
                    **{k: v for k, v in flow.state(db.session(), row).items() if k != "status"}})


@bp.post("/forms/<int:form_id>/square")
@doc("Submit your school's published app to the app square (school level, for the district to review)",
     tags=["lowcode", "square"], body="SquareSubmitIn", status=201)
def app_to_square(form_id: int):
    p = principal()
    form, version = published(form_id)
    if form.school_id is None:
        raise ValidationFailed({"form": ["square.district_form"]})
    if form.owner_account_id != p.account_id and not p.can("plugins.manage", form.school_id):
        raise Forbidden("lowcode.square.submit")
    body = request.get_json(silent=True)
    body = body if isinstance(body, dict) else {}
    text = clean_text(body.get("description"), "description", required=False, limit=300) or ""
    try:
        row = square.list_app(db.session(), form, version.version, account_id=p.account_id, name=p.username,
                              description={"zh": text, "en": text})
    except square.SquareError as err:
        raise ValidationFailed({err.field: [err.key]}) from err
    record("square.submit", "listing", row.id, school_id=form.school_id, detail={"form": form.id})
    return jsonify({"id": row.id, "kind": row.kind, "key": row.key, "status": row.status, "level": row.level}), 201
