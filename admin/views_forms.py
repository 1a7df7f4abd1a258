"""Forms in the web shell: the list (with the day-one templates to clone), filling a form in the browser,
and the submissions table with a chart."""
from __future__ import annotations

from collections import Counter

import sqlalchemy as sa
from flask import abort, g, redirect, render_template, request, url_for

from admin.blueprint import bp
from admin.views import _one
from foundation import db
from foundation.audit import record
from foundation.lowcode import forms as svc
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
    rows = db.session().scalars(sa.select(LowcodeForm).order_by(LowcodeForm.school_id.is_(None).desc(),
                                                                LowcodeForm.id)).all()
    versions = dict(db.session().execute(sa.select(FormVersion.form_id, sa.func.max(FormVersion.version))
                                         .group_by(FormVersion.form_id)).all())
    builder = g.principal.can("lowcode.form.create")
    fillable = {f.id for f in rows if versions.get(f.id) and _may_fill(f)}
    if not builder:  # parents and students: only what was published to them, not the templates to clone
        rows = [f for f in rows if f.id in fillable and f.school_id is not None]
    return render_template("admin/forms.html", rows=rows, versions=versions, fillable=fillable, builder=builder)


def _may_fill(form: LowcodeForm) -> bool:
    from foundation.lowcode.apps import may_fill

    version = svc.latest(db.session(), form.id)
    return version is not None and may_fill(db.session(), g.principal, version.app or {}, form.school_id)


@bp.post("/forms/<int:form_id>/clone")
def forms_clone(form_id: int):
    require(g.principal, "lowcode.form.create")
    source = _form(form_id)
    schools = sorted(s for s in g.principal.school_ids() if g.principal.can("lowcode.form.create", s))
    if not schools:
        abort(403)
    copy = svc.clone(db.session(), source, school_id=schools[0], account_id=g.principal.account_id)
    record("lowcode.form.clone", "form", copy.id, school_id=schools[0], detail={"from": source.id})
    return redirect(url_for("admin.forms_edit", form_id=copy.id))


@bp.route("/forms/<int:form_id>/fill", methods=["GET", "POST"])
def forms_fill(form_id: int):
    from admin.lowcode import parse_form, render_form

    require(g.principal, "lowcode.form.submit")
    form = _form(form_id)
    version = svc.latest(db.session(), form.id)
    if version is None:
        abort(404)
    if not _may_fill(form):
        abort(403)  # not published to this person (another class, another role)
    data, errors, done = None, {}, False
    if request.method == "POST":
        data = parse_form(version.schema, request.form, version.ui_schema)
        school = form.school_id if form.school_id is not None else min(g.principal.school_ids(), default=None)
        if school is None:
            abort(403)
        problems = _binding_problems(version.schema, data, _pickers())
        row = None
        if not problems:
            row, problems = svc.submit(db.session(), form, data, school_id=school, principal=g.principal)
        if row is not None:
            done = True
            data = None
        errors = problems
    from foundation.i18n import current_lang, t

    result = render_form(version.schema, version.ui_schema, data, errors={k: t(v) for k, v in errors.items()},
                         lang=current_lang(), pickers=_pickers())
    return render_template("admin/form_fill.html", form=form, version=version, html=result.html,
                           unsupported=result.unsupported, done=done), (422 if errors else 200)


@bp.get("/forms/<int:form_id>/submissions")
def forms_submissions(form_id: int):
    form = _form(form_id)
    if form.owner_account_id != g.principal.account_id:
        require(g.principal, "lowcode.submission.read", form.school_id)
    rows = db.session().execute(sa.select(Submission, FormVersion.version).join(
        FormVersion, FormVersion.id == Submission.version_id).where(Submission.form_id == form.id)
        .order_by(Submission.id)).all()
    version = svc.latest(db.session(), form.id)
    props = (version.schema if version else form.draft_schema).get("properties", {})
    columns = list(props)[:8]
    chart_field = next((k for k, v in props.items() if "enum" in v or "oneOf" in v), None)
    counts = Counter(str(s.data.get(chart_field)) for s, _ in rows) if chart_field else Counter()
    return render_template("admin/form_submissions.html", form=form, rows=rows, columns=columns, props=props,
                           chart_field=chart_field, counts=counts.most_common())


@bp.get("/static/lowcode/<path:filename>")
def lowcode_static(filename: str):
    from pathlib import Path

    from flask import send_from_directory

    return send_from_directory(Path(__file__).parent / "lowcode" / "static", filename)
