"""Low-code forms through the API: create, edit the draft (as a JSON Schema, or as the editor's fields with
labels and option rows), publish a version, clone, submit, read."""
from __future__ import annotations

import sqlalchemy as sa
from flask import jsonify, request

from foundation import db
from foundation.api.blueprint import bp, doc
from foundation.api.common import get_or_404, principal
from foundation.audit import record
from foundation.errors import ValidationFailed
from foundation.i18n import current_lang, t
from foundation.lowcode import apps, editor
from foundation.lowcode import forms as svc
from foundation.models import FormVersion, LowcodeForm, OrgUnit, Submission
from foundation.permissions import Forbidden, require


def _form(form_id: int) -> LowcodeForm:
    return get_or_404(LowcodeForm, form_id, "form")


def _school_of_caller(cap: str) -> int:
    p = principal()
    schools = sorted(s for s in p.school_ids() if p.can(cap, s))
    if not schools:
        raise Forbidden(cap)
    return schools[0]


def view(f: LowcodeForm, with_draft: bool = True) -> dict:
    version = svc.latest(db.session(), f.id)
    out = {"id": f.id, "title": f.title, "school_id": f.school_id, "owner_account_id": f.owner_account_id,
           "published_version": version.version if version else None}
    if principal().can("lowcode.form.create"):  # staff see where a form came from; families do not
        out["lineage"] = {"parent_form_id": f.parent_form_id, "parent_version": f.parent_version}
    if with_draft:
        document = editor.editor_document(f.draft_schema, f.draft_ui, editor.published_fields(db.session(), f.id))
        out |= {"draft": {"schema": f.draft_schema, "ui_schema": f.draft_ui, "app": f.draft_app or {}, **document},
                "unpublished_changes": svc.has_unpublished_changes(f, version)}
    if version:
        out["published"] = {"version": version.version, "schema": version.schema, "ui_schema": version.ui_schema,
                            "app": version.app or {}}
    return out


def _app(body: dict, school_id: int | None) -> dict:
    """The app parts of a body; the classes it is published to must be the form's school's classes."""
    app = body.get("app") or {}
    if not isinstance(app, dict):
        raise ValidationFailed({"app": ["lowcode.app_object"]})
    classes = (app.get("audience") or {}).get("classes") if isinstance(app.get("audience"), dict) else None
    if isinstance(classes, list) and classes and all(isinstance(c, int) and 0 < c < 2**31 for c in classes):
        found = set(db.session().scalars(sa.select(OrgUnit.id).where(
            OrgUnit.id.in_(classes), OrgUnit.kind == "class", OrgUnit.school_id == school_id)))
        unknown = [c for c in classes if c not in found]
        if unknown:
            raise ValidationFailed({"app/audience/classes": [f"lowcode.unknown_class:{unknown[0]}"]})
    return app


def _body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationFailed({"_body": ["body.not_json_object"]})
    return body


def _title(body: dict, required: bool) -> dict | None:
    title = body.get("title")
    if title is None and not required:
        return None
    if isinstance(title, str):
        title = {"zh": title, "en": title}
    if not isinstance(title, dict) or not all(isinstance(title.get(k), str) and 0 < len(title[k]) <= 120
                                              for k in ("zh", "en")):
        raise ValidationFailed({"title": ["field.length:120"]})
    return {"zh": title["zh"], "en": title["en"]}


@bp.get("/forms")
@doc("Forms you may see: your school's and the district's", tags=["lowcode"])
def list_forms():
    require(principal(), "lowcode.form.read")
    rows = db.session().scalars(sa.select(LowcodeForm).order_by(LowcodeForm.id)).all()
    return jsonify({"items": [view(f, with_draft=False) for f in rows], "total": len(rows)})


@bp.post("/forms")
@doc("Create a form (a JSON Schema and a UI schema) as a draft", tags=["lowcode"], body="FormIn", status=201)
def create_form():
    p = principal()
    school = _school_of_caller("lowcode.form.create")
    body = _body()
    schema, ui = body.get("schema"), body.get("ui_schema") or {}
    if not isinstance(schema, dict):
        raise ValidationFailed({"schema": ["lowcode.schema_object"]})
    f = LowcodeForm(title=_title(body, True), draft_schema=schema, draft_ui=ui, draft_app=_app(body, school),
                    owner_account_id=p.account_id, school_id=school)
    if "main_form_id" in body:  # a follow-up form of one of the caller's apps (lowcode/followups.py)
        from foundation.lowcode import followups

        problem = followups.attach_problem(db.session(), p, body["main_form_id"], body.get("followup_key"), school)
        if problem:
            raise ValidationFailed({k: [v] for k, v in problem.items()})
        f.main_form_id, f.followup_key = body["main_form_id"], body["followup_key"]
    db.session().add(f)
    db.session().flush()
    record("lowcode.form.create", "form", f.id, school_id=school)
    return jsonify(view(f)), 201


@bp.get("/forms/<int:form_id>")
@doc("One form: draft (for its owner) and the latest published version", tags=["lowcode"])
def get_form(form_id: int):
    require(principal(), "lowcode.form.read")
    f = _form(form_id)
    return jsonify(view(f, with_draft=f.owner_account_id == principal().account_id))


@bp.put("/forms/<int:form_id>")
@doc("Change the draft (owner only): a JSON Schema and UI schema, or the editor's fields (labels in zh and en, "
     "options as rows, keys generated from the label and kept); published versions never change", tags=["lowcode"],
     body="FormDraftIn")
def update_form(form_id: int):
    p = principal()
    f = _form(form_id)
    if f.owner_account_id != p.account_id:
        raise ValidationFailed({"form": ["lowcode.not_owner"]})
    body = _body()
    schema, ui, renamed = draft_from(f, body)
    app = editor.rename_fields(_app(body, f.school_id), renamed) if "app" in body else f.draft_app
    title = _title(body, False)
    # every part checked before anything is written: a bad part leaves the draft as it was
    f.draft_schema, f.draft_ui, f.draft_app = schema, ui, app
    if title:
        f.title = title
    f.updated_at = db.utcnow()
    problems = svc.check_definition(f.draft_schema, f.draft_ui, f.draft_app, db.session(), f.school_id)
    problems.update(svc.locks.check(db.session(), f))
    return jsonify(view(f) | {"problems": problems, "problem_messages": {k: t(v) for k, v in problems.items()},
                              "renamed": renamed})


def draft_from(f: LowcodeForm, body: dict) -> tuple[dict, dict, dict[str, str]]:
    """The draft's schema and UI schema after ``body`` (``schema``/``ui_schema``, or ``fields``, then
    ``description`` and ``deadline``), with the editor's refs of new fields → their generated keys."""
    if "fields" in body and "schema" in body:
        raise ValidationFailed({"fields": ["lowcode.editor.fields_or_schema"]})
    schema, ui, renamed = f.draft_schema, f.draft_ui or {}, {}
    try:
        if "fields" in body:
            schema, ui, renamed = editor.apply_editor(schema, ui, body["fields"], lang=current_lang(),
                                                   published=editor.published_fields(db.session(), f.id))
        if "schema" in body:
            if not isinstance(body["schema"], dict):
                raise ValidationFailed({"schema": ["lowcode.schema_object"]})
            schema = body["schema"]
        if "ui_schema" in body:
            ui = body["ui_schema"] or {}
        if "description" in body:
            schema = editor.set_description(schema, body["description"])
        if "deadline" in body:
            schema = editor.set_deadline(schema, body["deadline"])
    except editor.EditorError as err:
        raise ValidationFailed({k: [v] for k, v in err.problems.items()}) from err
    return schema, ui, renamed


@bp.post("/forms/<int:form_id>/publish")
@doc("Publish the draft as a new immutable version (checked first)", tags=["lowcode"], status=201)
def publish_form(form_id: int):
    p = principal()
    f = _form(form_id)
    if f.owner_account_id != p.account_id:
        raise ValidationFailed({"form": ["lowcode.not_owner"]})
    from foundation.lowcode.writes import may_publish

    refused = may_publish(p, f.draft_app or {}, f.school_id)  # writing standard data is the school's to allow
    if refused:
        raise ValidationFailed({k: [v] for k, v in refused.items()})
    try:
        version = svc.publish(db.session(), f, p.account_id)
    except svc.DefinitionError as err:
        raise ValidationFailed({k: [v] for k, v in err.problems.items()}) from err
    record("lowcode.form.publish", "form", f.id, school_id=f.school_id, detail={"version": version.version})
    return jsonify(view(f)), 201


@bp.post("/forms/<int:form_id>/clone")
@doc("Clone any form you can see into your own draft (lineage kept)", tags=["lowcode"], body="CloneIn", status=201)
def clone_form(form_id: int):
    p = principal()
    source = _form(form_id)
    school = _school_of_caller("lowcode.form.create")
    body = request.get_json(silent=True) or {}
    copy = svc.clone(db.session(), source, school_id=school, account_id=p.account_id, as_copy=True,
                     title=_title(body, False) if isinstance(body, dict) else None)
    record("lowcode.form.clone", "form", copy.id, school_id=school, detail={"from": source.id})
    return jsonify(view(copy)), 201


@bp.post("/forms/<int:form_id>/submissions")
@doc("Submit to the latest published version; each field's problem is named", tags=["lowcode"], body="SubmissionIn",
     status=201)
def submit_form(form_id: int):
    p = principal()
    f = _form(form_id)
    school = f.school_id if f.school_id is not None else _school_of_caller("lowcode.form.submit")
    require(p, "lowcode.form.submit", school)
    body = _body()
    row, errors = svc.submit(db.session(), f, body.get("data"), school_id=school, principal=p,
                             parent_id=body.get("parent_id"))
    if errors.get("_form") == "lowcode.not_in_audience":
        raise Forbidden("lowcode.form.submit")
    if errors:
        raise ValidationFailed({k: [v] for k, v in errors.items()})
    return jsonify(submission_view(row)), 201


def submission_view(s: Submission, version: int | None = None) -> dict:
    return {"id": s.id, "form_id": s.form_id, "version_id": s.version_id, "version": version, "data": s.data,
            "submitted_by": s.submitted_by, "student_id": s.student_id, "class_id": s.class_id, "status": s.status,
            "effects": s.effects or [], "parent_id": s.parent_id, "created_at": s.created_at.isoformat() + "Z"}


@bp.get("/forms/<int:form_id>/submissions")
@doc("Submissions of a form you may see (owner, the app's audience, your own), each with its version",
     tags=["lowcode"])
def list_submissions(form_id: int):
    p = principal()
    f = _form(form_id)
    version = svc.latest(db.session(), f.id)
    stmt = apps.visible(sa.select(Submission, FormVersion.version).join(
        FormVersion, FormVersion.id == Submission.version_id).where(Submission.form_id == f.id),
        p, f, version.app if version else {})
    status = request.args.get("status")
    if status:
        stmt = stmt.where(Submission.status == status[:10])
    rows = db.session().execute(stmt.order_by(Submission.id)).all()
    return jsonify({"items": [submission_view(s, v) for s, v in rows], "total": len(rows)})
