"""Forms in the web shell: the list (with the day-one templates to clone; for families, what was published to
them and whether they have answered), filling a form in the browser and its confirmation, the author's
preview as a parent will see it, and the submissions table with a chart."""
from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from types import SimpleNamespace

import sqlalchemy as sa
from flask import abort, flash, g, make_response, redirect, render_template, request, url_for

from admin.blueprint import bp
from admin.views import _one
from foundation import db
from foundation.audit import record
from foundation.i18n import LANGS, current_lang, t
from foundation.lowcode import editor, followups
from foundation.lowcode import forms as svc
from foundation.lowcode.editor import CHINA
from foundation.models import FormVersion, LowcodeForm, OrgUnit, Staff, Student, Submission
from foundation.permissions import require


def _form(form_id: int) -> LowcodeForm:
    return _one(LowcodeForm, form_id)


def _pickers() -> dict[str, list[tuple[str, str]]]:
    """What the person may pick: the tenancy scope already limits each query to their reach."""
    sess = db.session()
    students = sess.execute(sa.select(Student.student_no, Student.name).order_by(Student.student_no).limit(500)).all()
    classes = sess.execute(sa.select(OrgUnit.code, OrgUnit.name).where(OrgUnit.kind == "class")
                           .order_by(OrgUnit.code).limit(500)).all()
    staff = sess.execute(sa.select(Staff.staff_no, Staff.name).order_by(Staff.staff_no).limit(500)).all() \
        if g.principal.can("people.staff.read") else []
    return {"student": [(no, f"{name}（{no}）") for no, name in students],
            "class": [(code or "", name) for code, name in classes], "staff": [(no, name) for no, name in staff]}


def _binding_problems(schema: dict, data: dict, pickers: dict) -> dict[str, str]:
    """A bound field's value must be one the person could pick (the form's HTML is not a guarantee)."""
    out = {}
    for name, prop in (schema.get("properties") or {}).items():
        binding = prop.get("x-jizuo-binding") if isinstance(prop, dict) else None
        if binding and name in data and data[name] not in {v for v, _ in pickers.get(binding, [])}:
            out[name] = "lowcode.binding_not_visible"
    return out


@bp.get("/forms")
def forms_list():
    require(g.principal, "lowcode.form.read")
    sess = db.session()
    rows = sess.scalars(sa.select(LowcodeForm).order_by(LowcodeForm.school_id.is_(None).desc(), LowcodeForm.id)).all()
    latest = {f.id: svc.latest(sess, f.id) for f in rows}
    builder = g.principal.can("lowcode.form.create")
    fillable = {f.id for f in rows if latest[f.id] and _may_fill(f, latest[f.id])}
    titles = {f.id: f.title for f in rows}  # staff read where a copy came from, in words
    if not builder:  # parents and students: only what was published to them, not the templates to clone
        rows = [f for f in rows if f.id in fillable and f.school_id is not None]
    # a plugin flow's form (template "flow:…") is the plugin's to run, not a teacher's to edit or clone
    rows = [f for f in rows if not (f.template_key or "").startswith("flow:")]
    return render_template("admin/forms.html", rows=rows, latest=latest, fillable=fillable, builder=builder,
                           titles=titles, mine=_my_submissions(), today=_today(), words=editor.words,
                           deadline_of=editor.deadline_of,
                           changed={f.id for f in rows if f.owner_account_id == g.principal.account_id
                                    and svc.has_unpublished_changes(f, latest[f.id])})


def _my_submissions(form_id: int | None = None) -> dict[int, tuple[int, date]]:
    """form id → (how many times the caller submitted it, the day of the last time, in the schools' time)."""
    stmt = sa.select(Submission.form_id, sa.func.count(), sa.func.max(Submission.created_at)).where(
        Submission.submitted_by == g.principal.account_id).group_by(Submission.form_id)
    if form_id is not None:
        stmt = stmt.where(Submission.form_id == form_id)
    return {fid: (n, (at + CHINA).date()) for fid, n, at in db.session().execute(stmt).all()}


def _today():
    return (datetime.now(UTC) + CHINA).date()


def _may_fill(form: LowcodeForm, version: FormVersion | None = None) -> bool:
    from foundation.lowcode.apps import may_fill

    version = version or svc.latest(db.session(), form.id)
    return version is not None and may_fill(db.session(), g.principal, version.app or {}, form.school_id)


@bp.post("/forms/<int:form_id>/clone")
def forms_clone(form_id: int):
    require(g.principal, "lowcode.form.create")
    source = _form(form_id)
    schools = sorted(s for s in g.principal.school_ids() if g.principal.can("lowcode.form.create", s))
    if not schools:
        abort(403)
    copy = svc.clone(db.session(), source, school_id=schools[0], account_id=g.principal.account_id, as_copy=True)
    record("lowcode.form.clone", "form", copy.id, school_id=schools[0], detail={"from": source.id})
    flash(t("forms.cloned", name=copy.title.get(current_lang()) or copy.title.get("zh")), "ok")
    return redirect(url_for("admin.forms_edit", form_id=copy.id))


@bp.route("/forms/<int:form_id>/fill", methods=["GET", "POST"])
def forms_fill(form_id: int):
    from admin.lowcode import parse_form

    require(g.principal, "lowcode.form.submit")
    form = _form(form_id)
    version = svc.latest(db.session(), form.id)
    if version is None:
        abort(404)
    if not _may_fill(form, version):
        abort(403)  # not published to this person (another class, another role)
    data, errors, done = None, {}, None
    parent = request.args.get("parent", type=int)  # a follow-up form is filled for a case: ?parent=<submission>
    if request.method == "POST":
        data = parse_form(version.schema, request.form, version.ui_schema)
        school = form.school_id if form.school_id is not None else min(g.principal.school_ids(), default=None)
        if school is None:
            abort(403)
        problems = _binding_problems(version.schema, data, _pickers())
        row = None
        if not problems:
            row, problems = svc.submit(db.session(), form, data, school_id=school, principal=g.principal,
                                       parent_id=parent if form.main_form_id is not None else None)
        if row is not None and row.parent_id is not None:
            flash(t("forms.thanks"), "ok")  # back to the case, where the follow-up's answers now show
            return redirect(url_for("admin.flow_submission", submission_id=row.parent_id))
        if row is not None:
            done = row
        errors = problems
    elif form.main_form_id is not None:
        _, errors = followups.parent_for(db.session(), g.principal, form, parent)
    return _fill_page(form, version.schema, version.ui_schema, version.app or {}, data=data, errors=errors, done=done,
                      version=version, status=422 if errors and request.method == "POST" else 200)


@bp.route("/flow/submissions/<int:submission_id>/edit", methods=["GET", "POST"])
def flow_submission_edit(submission_id: int):
    """退回修改: the submitter changes a returned submission on its fill page, prefilled with their answers,
    and submits it again (the same submission; the flow starts again; the timeline keeps the earlier answers)."""
    from admin.lowcode import parse_form

    sub = _one(Submission, submission_id)
    if sub.submitted_by != g.principal.account_id:
        abort(404)
    if sub.status != "returned":
        return redirect(url_for("admin.flow_submission", submission_id=sub.id))
    form, sess = _form(sub.form_id), db.session()
    version = svc.latest(sess, form.id)
    data, errors = sub.data, {}
    if request.method == "POST":
        data = parse_form(version.schema, request.form, version.ui_schema)
        errors = _binding_problems(version.schema, data, _pickers()) or svc.resubmit(sess, sub, data,
                                                                                     principal=g.principal)
        if not errors:
            record("lowcode.flow.resubmit", "submission", sub.id, school_id=sub.school_id)
            return redirect(url_for("admin.flow_submission", submission_id=sub.id))
    from foundation.lowcode import flow

    note = next((x for x in reversed(flow.timeline(sess, sub.id, current_lang())) if x["kind"] == "returned"), None)
    return _fill_page(form, version.schema, version.ui_schema, version.app or {}, data=data, errors=errors,
                      version=version, returned=note or {}, status=422 if errors else 200)


def _fill_page(form: LowcodeForm, schema: dict, ui: dict, app: dict, *, data=None, errors=None, done=None,
               version: FormVersion | None = None, preview: str | None = None, problems=None, returned=None,
               status: int = 200):
    """The fill page as a family sees it; ``preview`` (a language) renders it for the form's author, with
    sample pickers and a disabled submit button, from the draft being edited; ``returned`` (the timeline's
    return line) makes it the page that changes a returned submission."""
    from admin.lowcode import render_form

    lang = preview or current_lang()
    say = (lambda key, **kw: t(key, lang, **kw)) if preview else t
    pickers = _sample_pickers(lang) if preview else _pickers()
    result = render_form(schema, ui, data, errors={k: say(v) for k, v in (errors or {}).items()}, lang=lang,
                         pickers=pickers)
    family = not g.principal.can("lowcode.form.create") or bool(preview)
    summary = _summary(schema, ui, done.data, lang) if done is not None else []
    context = {"form": form, "version": version, "html": result.html, "unsupported": result.unsupported,
               "done": done, "summary": summary, "approval": bool(app.get("approval")), "family": family,
               "preview": preview, "problems": problems or {}, "deadline": editor.deadline_of(schema),
               "closed": editor.past_deadline(schema) and returned is None, "returned": returned,
               "mine": {} if preview or returned is not None else _my_submissions(form.id)}
    if preview:
        context |= {"t": say, "lang": lang}
    return render_template("admin/form_fill.html", **context), status


def _summary(schema: dict, ui: dict, data: dict, lang: str) -> list[tuple[str, str]]:
    """What was just submitted, as (label, value in words) for the confirmation."""
    from foundation.lowcode.views import label_of

    props = schema.get("properties") or {}
    order = [k for k in (ui or {}).get("ui:order") or [] if k in props] + list(props)
    names = {}
    for key, prop in props.items():
        if isinstance(prop, dict) and prop.get("x-jizuo-binding") in ("student", "class", "staff"):
            names[key] = dict(_pickers().get(prop["x-jizuo-binding"], []))
    out = []
    for key in dict.fromkeys(order):
        if key in (data or {}) and data[key] not in (None, "", []):
            value = names[key].get(data[key], data[key]) if key in names else label_of(schema, ui, key, data[key], lang)
            out.append((editor.words(props[key], lang) or key, str(value)))
    return out


def _sample_pickers(lang: str) -> dict[str, list[tuple[str, str]]]:
    """What a preview offers in a student, class or staff field: one sample (a family sees their own)."""
    return {kind: [(f"sample-{kind}", t(f"forms.preview.sample.{kind}", lang))] for kind in ("student", "class", "staff")}


@bp.route("/forms/<int:form_id>/preview", methods=["GET", "POST"])
def forms_preview(form_id: int):
    """The form as a parent will see it, for its author: the saved draft (GET) or the editor's unsaved
    document (POST ``definition``), in ``preview_lang`` — never saved from here."""
    import json

    form = _form(form_id)
    if form.owner_account_id != g.principal.account_id:
        abort(403)
    lang = request.values.get("preview_lang") if request.values.get("preview_lang") in LANGS else current_lang()
    schema, ui, problems = form.draft_schema, form.draft_ui or {}, {}
    if request.method == "POST":
        try:
            body = json.loads(request.form.get("definition") or "{}")
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
        try:
            if "fields" in body:
                schema, ui, _ = editor.apply_editor(schema, ui, body["fields"], lang=lang,
                                                 published=editor.published_fields(db.session(), form.id))
            if "description" in body:
                schema = editor.set_description(schema, body["description"])
            if "deadline" in body:
                schema = editor.set_deadline(schema, body["deadline"])
        except editor.EditorError as err:
            problems = {k: t(v, lang) for k, v in err.problems.items()}
    shown = form
    title = body.get("title") if request.method == "POST" else None
    if isinstance(title, dict) and all(isinstance(title.get(k), str) for k in ("zh", "en")):
        shown = SimpleNamespace(id=form.id, title={k: title[k][:120] or form.title.get(k, "") for k in ("zh", "en")})
    html, status = _fill_page(shown, schema, ui, form.draft_app or {}, preview=lang, problems=problems)
    resp = make_response(html, status)
    resp.headers["X-Frame-Options"] = "SAMEORIGIN"  # shown in the editor's phone frame, and only there
    resp.headers["Content-Security-Policy"] = "frame-ancestors 'self'"
    return resp


@bp.get("/forms/<int:form_id>/submissions")
def forms_submissions(form_id: int):
    from foundation.lowcode.apps import is_private, visible

    form = _form(form_id)
    version = svc.latest(db.session(), form.id)
    app = (version.app if version else form.draft_app) or {}
    stmt = sa.select(Submission, FormVersion.version).join(
        FormVersion, FormVersion.id == Submission.version_id).where(Submission.form_id == form.id)
    if is_private(app):  # the submitter and the app's see roles only, whoever owns the form
        stmt = visible(stmt, g.principal, form, app)
    elif form.owner_account_id != g.principal.account_id:
        require(g.principal, "lowcode.submission.read", form.school_id)
    rows = db.session().execute(stmt.order_by(Submission.id)).all()
    props = (version.schema if version else form.draft_schema).get("properties", {})
    columns = list(props)[:8]
    chart_field = next((k for k, v in props.items() if "enum" in v or "oneOf" in v), None)
    counts = Counter(str(s.data.get(chart_field)) for s, _ in rows) if chart_field else Counter()
    lang = current_lang()
    return render_template("admin/form_submissions.html", form=form, rows=rows, columns=columns, props=props,
                           chart_field=chart_field, counts=counts.most_common(),
                           title_of=lambda field: editor.words(props.get(field), lang) or field)


@bp.get("/static/lowcode/<path:filename>")
def lowcode_static(filename: str):
    from pathlib import Path

    from flask import send_from_directory

    return send_from_directory(Path(__file__).parent / "lowcode" / "static", filename)
