"""Low-code apps in the web shell: the editor (fields, audience, rules, approval — no code), the app page
(its view as a table with filters and sort, aggregates and a chart, and the approval queue), and submitting
the app to the app square."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, g, redirect, render_template, request, url_for

from admin.blueprint import bp
from admin.views import _one
from admin.views_flow_editor import flow_definition
from foundation import db
from foundation.audit import record
from foundation.i18n import current_lang, t
from foundation.lowcode import apps, editor, flow
from foundation.lowcode import forms as svc
from foundation.lowcode import views as appviews
from foundation.models import LowcodeForm, OrgUnit, Student, Submission
from foundation.permissions import ROLES
from foundation.services import square

KINDS = ["text", "textarea", "integer", "number", "date", "select", "radio", "boolean", "student", "class"]
OPS = ["eq", "ne", "gt", "gte", "lt", "lte", "contains", "empty", "not_empty"]
FILL_ROLES = ["parent", "student", "student_cadre", "homeroom_teacher", "subject_teacher", "life_instructor"]
SEE_ROLES = ["homeroom_teacher", "subject_teacher", "psychology_teacher", "life_instructor", "school_admin"]


EDITOR_WORDS = ["label", "label_zh", "label_en", "kind", "required", "min", "max", "options_rows", "option_zh",
                "option_en", "add_option", "option_n", "up", "down", "remove", "advanced_kept", "advanced", "key_is",
                "key_published", "key_draft", "kind_advanced", "new_field", "rule_field", "rule_op", "rule_value", "rule_action", "when",
                "saved", "saved_at", "unsaved", "saved_with_problems", "published", "state_draft", "state_published",
                "state_changed", "confirm_first", "confirm_again", "problems", "field_n", "no_label", "preview_failed",
                "save_failed"]


def _labels(lang: str) -> dict:
    out = {k: t(f"editor.{k}", lang) for k in EDITOR_WORDS}
    out["kinds"] = {k: t(f"editor.kind.{k}", lang) for k in KINDS}
    out["ops"] = {o: t(f"editor.op.{o}", lang) for o in OPS}
    return out


@bp.get("/forms/<int:form_id>/edit")
def forms_edit(form_id: int):
    form = _one(LowcodeForm, form_id)
    if form.owner_account_id != g.principal.account_id:
        abort(403)
    lang = current_lang()
    sess = db.session()
    classes = sess.execute(sa.select(OrgUnit.id, OrgUnit.name).where(
        OrgUnit.kind == "class", OrgUnit.school_id == form.school_id).order_by(OrgUnit.code, OrgUnit.id)).all()
    mine = apps.own_class_ids(sess, g.principal)
    actions = [("alert:yellow", t("editor.alert.yellow", lang)), ("alert:red", t("editor.alert.red", lang))] + [
        (f"message:{r}", t("editor.message_to", lang, role=getattr(ROLES[r], lang))) for r in SEE_ROLES]
    version = svc.latest(sess, form.id)
    document = editor.editor_document(form.draft_schema, form.draft_ui or {}, editor.published_fields(sess, form.id))
    definition = {"form_id": form.id, "lang": lang, "app": form.draft_app or {}, "labels": _labels(lang), "actions": actions,
                  "published": version.version if version else None,
                  "changed": svc.has_unpublished_changes(form, version), **document}
    definition |= flow_definition(sess, form, lang)  # the approval-flow section (admin/views_flow_editor.py)
    source = sess.scalar(sa.select(LowcodeForm.title).where(LowcodeForm.id == form.parent_form_id)) \
        if form.parent_form_id else None
    return render_template("admin/form_edit.html", form=form, definition=definition, version=version,
                           editor=document, source=source,
                           classes=[(cid, name, cid in mine) for cid, name in classes],
                           fill_roles=FILL_ROLES, see_roles=SEE_ROLES, roles=ROLES,
                           audience=(form.draft_app or {}).get("audience") or {},
                           approval=(form.draft_app or {}).get("approval") or {})


@bp.get("/forms/<int:form_id>/app")
def forms_app(form_id: int):
    form = _one(LowcodeForm, form_id)
    version = svc.latest(db.session(), form.id)
    if version is None:
        abort(404)
    app = version.app or {}
    out = appviews.for_request(db.session(), g.principal, form, version, request.args)
    views, view, rows, result = out["views"], out["view"], out["rows"], out["result"]
    props = version.schema.get("properties") or {}
    options = {f: sorted({appviews._text(r["data"].get(f)) for r in rows if r["data"].get(f) is not None})
               for f in view.get("filters") or []}
    mine = {t["submission_id"]: t["id"] for t in flow.tasks_for(db.session(), g.principal)}
    pending = [r | {"task": mine[r["sub"].id]} for r in rows if r["status"] == "pending" and r["sub"].id in mine]
    names = _student_names(version.schema, rows)

    def label(field: str, value) -> str:
        if field in names and isinstance(value, str):
            return names[field].get(value, value)
        return appviews.label_of(version.schema, version.ui_schema, field, value, current_lang())

    def title_of(field: str) -> str:
        return editor.words(props.get(field), current_lang()) or field

    def sort_link(column: str) -> str:
        again = result["sort"] == column and request.args.get("dir") != "desc"
        args = {**request.args.to_dict(), "sort": column, "dir": "desc" if again else "asc"}
        return url_for("admin.forms_app", form_id=form.id, **args)

    return render_template("admin/form_app.html", form=form, version=version, app=app, view=view, views=views,
                           result=result, props=props, options=options, pending=pending, label=label, sort_link=sort_link,
                           title_of=title_of, family=not g.principal.can("lowcode.form.create"),
                           is_owner=form.owner_account_id == g.principal.account_id)


def _student_names(schema: dict, rows: list[dict]) -> dict[str, dict[str, str]]:
    """For student-bound fields: student number → "name（number）", for the students the viewer may see."""
    out = {}
    for field, prop in (schema.get("properties") or {}).items():
        if isinstance(prop, dict) and prop.get("x-jizuo-binding") == "student":
            nos = {r["data"].get(field) for r in rows if isinstance(r["data"].get(field), str)}
            found = db.session().execute(sa.select(Student.student_no, Student.name).where(
                Student.student_no.in_(nos))).all() if nos else []
            out[field] = {no: f"{name}（{no}）" for no, name in found}
    return out


@bp.post("/forms/<int:form_id>/submissions/<int:submission_id>/decide")
def forms_decide(form_id: int, submission_id: int):
    form = _one(LowcodeForm, form_id)
    row = _one(Submission, submission_id)
    if row.form_id != form.id:
        abort(404)
    decision = request.form.get("decision")
    task = next((t for t in flow.tasks_for(db.session(), g.principal) if t["submission_id"] == row.id), None)
    if task is None:
        abort(403)
    if decision not in flow.DECISIONS:
        abort(400)
    flow.decide(db.session(), g.principal, task["id"], decision, request.form.get("note", "")[:300])
    record("lowcode.approval", "submission", row.id, school_id=row.school_id, detail={"decision": decision})
    return redirect(url_for("admin.forms_app", form_id=form.id))


@bp.post("/forms/<int:form_id>/square")
def forms_to_square(form_id: int):
    form = _one(LowcodeForm, form_id)
    version = svc.latest(db.session(), form.id)
    if version is None or form.school_id is None:
        abort(400)
    if form.owner_account_id != g.principal.account_id and not g.principal.can("plugins.manage", form.school_id):
        abort(403)
    try:
        row = square.list_app(db.session(), form, version.version, account_id=g.principal.account_id,
                              name=g.principal.username, description={"zh": request.form.get("description", "")[:300],
                                                                      "en": request.form.get("description", "")[:300]})
    except square.SquareError as err:
        return redirect(url_for("admin.forms_app", form_id=form.id, error=err.key))
    record("square.submit", "listing", row.id, school_id=form.school_id, detail={"form": form.id})
    return redirect(url_for("admin.app_square"))
