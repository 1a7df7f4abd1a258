"""Forms: definition checks before publishing, immutable versions, cloning with lineage (the copy named
"… 副本"), and validation of submissions with a message per field in Chinese or English. The editor's view of
a form (fields with labels, options as rows) is in ``lowcode/editor.py``."""
from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jsonschema
import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.db import utcnow
from foundation.errors import NotFound
from foundation.lowcode import locks, validation, writes  # writes: subscribes to flow outcomes
from foundation.lowcode.editor import past_deadline
from foundation.lowcode.lineage import latest, root_template  # noqa: F401  (forms.latest for callers)
from foundation.models import FormVersion, LowcodeForm, Submission

BINDINGS = {"student", "class", "staff"}


class DefinitionError(ValueError):
    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in problems.items()))
        self.problems = problems


def check_definition(schema: Any, ui_schema: Any, app: Any = None, sess: so.Session | None = None,
                     school_id: int | None = None) -> dict[str, str]:
    """Problems that stop a publish (``path → message key``): an invalid JSON Schema (in its own draft, the
    whole message), a keyword the form's draft ignores, a UI entry or binding for something that does not
    exist, everything the renderer cannot draw — asked of the renderer itself, so a form that passes can be
    filled in and submitted — and in the app parts a rule, view or approval naming a field or role that does
    not exist, or a flow that cannot finish in the school ``school_id`` (when given)."""
    from foundation.lowcode.render import render_form

    if not isinstance(schema, dict):
        return {"schema": "lowcode.schema_object"}
    try:
        validation.validator_class(schema).check_schema(schema)
    except jsonschema.SchemaError as err:
        return {"schema" + "".join(f"/{p}" for p in err.absolute_path): f"lowcode.schema_invalid:{err.message}"}
    if ui_schema is not None and not isinstance(ui_schema, dict):
        return {"ui_schema": "lowcode.ui_object"}
    problems = {f"schema{where}": f"lowcode.unsupported.draft_ignores:{keyword}"
                for where, keyword in validation.ignored_keywords(schema).items()}
    _walk_ui(schema, ui_schema or {}, "", problems)
    _walk_bindings(schema, "", problems)
    for where, key in render_form(schema, ui_schema or {}, lang="en").problems.items():
        code = key.partition(":")[0].rsplit(".", 1)[-1]
        if code == "binding":
            continue  # said by _walk_bindings, in its words
        if code in ("unknown_widget", "widget_mismatch", "ui_field"):
            problems.setdefault("ui_schema" + (_ui_path(where) or "/"), key)
        else:
            problems.setdefault("schema" + ("" if where == "/" else where), key)
    from foundation.lowcode.apps import check_app

    problems.update(check_app(schema, app, sess, school_id))
    return problems


def _ui_path(pointer: str) -> str:
    """A schema pointer as the UI schema's path (``/properties/a/properties/b`` → ``/a/b``)."""
    parts = pointer.strip("/").split("/") if pointer.strip("/") else []
    return "".join(f"/{p}" for i, p in enumerate(parts) if not (p == "properties" and (i == 0 or parts[i - 1] != "properties")))


def _walk_ui(schema: dict, ui: dict, path: str, problems: dict[str, str]) -> None:
    """A UI entry for a field the schema does not have (the widgets themselves are the renderer's to judge)."""
    props = schema.get("properties", {}) if isinstance(schema, dict) else {}
    for key, sub in ui.items():
        if key.startswith("ui:"):
            continue
        if key not in props:
            problems[f"ui_schema{path}/{key}"] = "lowcode.ui_unknown_field"
        elif isinstance(sub, dict):
            target = props[key]
            if isinstance(target, dict) and target.get("type") == "array" and isinstance(target.get("items"), dict) \
                    and "items" in sub:
                _walk_ui(target["items"], sub["items"], f"{path}/{key}/items", problems)
            elif isinstance(target, dict):
                _walk_ui(target, sub, f"{path}/{key}", problems)


def _walk_bindings(schema: Any, path: str, problems: dict[str, str]) -> None:
    if isinstance(schema, dict):
        binding = schema.get("x-jizuo-binding")
        if binding is not None and binding not in BINDINGS:
            problems[f"schema{path or '/'}"] = f"lowcode.unknown_binding:{binding}"
        for key, value in schema.items():
            if isinstance(value, dict | list):
                _walk_bindings(value, f"{path}/{key}", problems)
    elif isinstance(schema, list):
        for i, value in enumerate(schema):
            _walk_bindings(value, f"{path}/{i}", problems)


def publish(sess: so.Session, form: LowcodeForm, account_id: int | None) -> FormVersion:
    problems = check_definition(form.draft_schema, form.draft_ui, form.draft_app, sess, form.school_id)
    problems.update(locks.check(sess, form))  # a clone keeps its template's locked items
    if problems:
        raise DefinitionError(problems)
    last = sess.scalar(sa.select(sa.func.max(FormVersion.version)).where(FormVersion.form_id == form.id)) or 0
    version = FormVersion(form_id=form.id, version=last + 1, schema=form.draft_schema, ui_schema=form.draft_ui,
                          app=form.draft_app or {}, published_by=account_id)
    sess.add(version)
    sess.flush()
    writes.register_source(sess, form, version.app)  # an app writing standard data is a registered source
    return version


def clone(sess: so.Session, source: LowcodeForm, *, school_id: int | None, account_id: int | None,
          title: dict | None = None, as_copy: bool = False) -> LowcodeForm:
    """A draft copy owned by the caller, from the source's latest published version (or its draft), named
    ``title``, else — ``as_copy``, a person's clone — "<title> 副本" / "<title> (copy)" (副本 2, 副本 3 … when
    that name is taken), else the source's own title (the district's copy of a promoted app)."""
    version = latest(sess, source.id)
    schema, ui, app = (version.schema, version.ui_schema, version.app) if version else (
        source.draft_schema, source.draft_ui, source.draft_app)
    app = dict(app or {})
    if app.get("audience") and source.school_id != school_id:  # another school's classes mean nothing here
        app["audience"] = {k: v for k, v in app["audience"].items() if k != "classes"}
    if title is None and as_copy:  # the names the caller can see: their school's forms and the district's templates
        title = copy_title(source.title or {}, sess.scalars(sa.select(LowcodeForm.title)))
    copy = LowcodeForm(title=title or source.title, draft_schema=schema, draft_ui=ui, draft_app=app,
                       owner_account_id=account_id,
                       parent_form_id=source.id, parent_version=version.version if version else None,
                       school_id=school_id)
    sess.add(copy)
    sess.flush()
    return copy


_COPY_ZH = re.compile(r" 副本(?: \d+)?$")
_COPY_EN = re.compile(r" \(copy(?: \d+)?\)$")


def copy_title(title: dict, taken: Iterable[Any]) -> dict[str, str]:
    """"请假申请" → "请假申请 副本", then "请假申请 副本 2" … (and "(copy)", "(copy 2)" in English): the first
    free one among ``taken`` titles; a copy of a copy counts on from the original's name."""
    seen = [t for t in taken if isinstance(t, dict)]
    taken_zh, taken_en = {t.get("zh") for t in seen}, {t.get("en") for t in seen}
    zh_base = _COPY_ZH.sub("", str(title.get("zh") or title.get("en") or ""))
    en_base = _COPY_EN.sub("", str(title.get("en") or title.get("zh") or ""))
    n = 1
    while True:
        zh_tail, en_tail = (" 副本", " (copy)") if n == 1 else (f" 副本 {n}", f" (copy {n})")
        zh, en = zh_base[:120 - len(zh_tail)] + zh_tail, en_base[:120 - len(en_tail)] + en_tail
        if zh not in taken_zh and en not in taken_en:
            return {"zh": zh, "en": en}
        n += 1


def has_unpublished_changes(form: LowcodeForm, version: FormVersion | None) -> bool:
    """Whether the draft differs from the latest published version (always, when nothing is published)."""
    if version is None:
        return True
    return (form.draft_schema, form.draft_ui or {}, form.draft_app or {}) != (
        version.schema, version.ui_schema or {}, version.app or {})


def field_errors(schema: dict, data: Any) -> dict[str, str]:
    """``path → every problem of that field``, in words (``lowcode/validation.py``)."""
    return validation.field_errors(schema, data)


def submit(sess: so.Session, form: LowcodeForm, data: Any, *, school_id: int, principal, parent_id: Any = None):
    """Validate against the latest version, store with its subject (student, class) and, for an app,
    put it in the approval flow and apply its rules (alerts, messages) in the same transaction."""
    from foundation.lowcode import apps, notify, subjects

    version = latest(sess, form.id)
    if version is None:
        return None, {"_form": "lowcode.not_published"}
    app = version.app or {}
    if not apps.may_fill(sess, principal, app, form.school_id):
        # not published to them (403); but a student or class named out of their reach is that field's
        # error first (422), whatever else the data says: an attempt on another child reads as one
        anyone = {**app, "audience": {**(app.get("audience") or {}), "fill": []}}
        named = subjects.resolve(sess, version.schema, data, principal, anyone, school_id)
        return None, named.errors or {"_form": "lowcode.not_in_audience"}
    if past_deadline(version.schema):
        return None, {"_form": "lowcode.past_deadline"}
    subject, errors = _checked(sess, version, data, principal, school_id)
    if errors:
        return None, errors
    student_id, class_id = subject.student_id, subject.class_id
    from foundation.lowcode.followups import parent_for

    parent, problem = parent_for(sess, principal, form, parent_id)  # a follow-up: the same case, the same student
    if problem:
        return None, problem
    if parent is not None:
        student_id, class_id = parent.student_id, parent.class_id
    approval = (version.app or {}).get("approval")
    row = Submission(form_id=form.id, version_id=version.id, school_id=school_id,
                     submitted_by=principal.account_id, data=data, student_id=student_id, class_id=class_id,
                     status="pending" if approval else "submitted", created_at=utcnow(),
                     parent_id=parent.id if parent is not None else None)
    sess.add(row)
    sess.flush()
    notify.after_submit(sess, form, version, row)
    from foundation.lowcode import flow

    flow.start(sess, row)  # its approval flow, when the app has one
    if writes.mode(app) == "submitted":
        writes.write(sess, app, row)
    from foundation.events import publish as publish_event

    publish_event("lowcode.submission.created", [{
        "id": row.id, "form_id": form.id, "school_id": school_id, "submitted_by": row.submitted_by,
        "student_id": student_id, "class_id": class_id, "student_no": subject.student_no, "data": data, "created_at": row.created_at.isoformat(),
        "template_key": root_template(sess, form)}])
    return row, {}


def _checked(sess: so.Session, version: FormVersion, data: Any, principal, school_id: int):
    """``(subject, problems)``: the data against the version's schema and the library it writes, and the
    student and class it is about."""
    from foundation.lowcode import subjects

    app = version.app or {}
    errors = field_errors(version.schema, data) or writes.field_errors(app, data)
    if errors:
        return None, errors
    subject = subjects.resolve(sess, version.schema, data, principal, app, school_id)
    return subject, subject.errors


def resubmit(sess: so.Session, row: Submission, data: Any, *, principal) -> dict[str, str]:
    """The submitter's changed answers to a submission returned for changes (退回修改): checked against the
    form's latest version like a new one (not against its deadline: the approver asked for it), stored on
    the same submission, the earlier answers kept on its timeline, the flow started again from its first
    step. Returns the problems by field (nothing is changed then)."""
    from foundation.lowcode import flow, notify

    if row.submitted_by != principal.account_id:
        raise NotFound("submission")
    if row.status != flow.RETURN:
        return {"submission": "flow.not_returned"}
    form = sess.get(LowcodeForm, row.form_id)
    version = latest(sess, form.id)
    subject, errors = _checked(sess, version, data, principal, row.school_id)
    if errors:
        return errors
    previous, previous_version = row.data, sess.scalar(sa.select(FormVersion.version).where(
        FormVersion.id == row.version_id))
    row.data, row.version_id = data, version.id
    if row.parent_id is None:  # a follow-up stays about its case's student
        row.student_id, row.class_id = subject.student_id, subject.class_id
    notify.after_submit(sess, form, version, row)  # the rules the new answers meet for the first time
    flow.restart(sess, row, previous, previous_version, principal)
    app = version.app or {}
    if writes.mode(app) == "submitted":
        writes.write(sess, app, row)  # the same record (source id = the submission), updated
    sess.flush()
    return {}


TEMPLATES = Path(__file__).parent / "templates"


def _template_specs(plugin_templates: list[tuple[str, list[dict]]]) -> list[dict]:
    import json

    specs = [json.loads(p.read_text("utf-8")) for p in sorted(TEMPLATES.glob("*.json"))]
    for plugin, templates in plugin_templates:
        for tpl in templates or []:
            specs.append({"key": f"{plugin}:{tpl['id']}", "title": tpl["title"], "schema": tpl["schema"],
                          "ui_schema": tpl.get("ui_schema", {}), "app": tpl.get("app", {})})
    return specs


def seed_templates(sess: so.Session, plugin_templates: list[tuple[str, list[dict]]] | None = None) -> int:
    """The day-one templates (class leave, hygiene inspection, club sign-up) and those plugins ship
    (``jizuo_form_templates``) as district-level published forms teachers clone; idempotent. Returns how
    many were added."""
    if plugin_templates is None:
        from flask import current_app, has_app_context

        plugin_templates = current_app.extensions["jizuo.plugins"].each("jizuo_form_templates") \
            if has_app_context() and "jizuo.plugins" in current_app.extensions else []
    added = 0
    for spec in _template_specs(plugin_templates):
        exists = sess.scalar(sa.select(LowcodeForm.id).where(LowcodeForm.template_key == spec["key"],
                                                             LowcodeForm.school_id.is_(None)))
        if exists:
            continue
        problems = check_definition(spec["schema"], spec["ui_schema"], spec.get("app"))
        if problems:
            raise DefinitionError(problems)
        form = LowcodeForm(title=spec["title"], draft_schema=spec["schema"], draft_ui=spec["ui_schema"],
                           draft_app=spec.get("app") or {}, template_key=spec["key"], school_id=None)
        sess.add(form)
        sess.flush()
        publish(sess, form, None)
        added += 1
    return added
