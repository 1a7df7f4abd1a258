"""Locked items of a template: a plugin's template (``jizuo_form_templates``) may declare ``"locked"``, JSON
pointers into its ``{"schema", "ui_schema", "app"}`` (``/schema/properties/item9``, ``/app/audience``).
A form descending from it, through any chain of clones, cannot be published with a locked item changed or
removed: the school adds its own questions, the scored items stay as the template has them."""
from __future__ import annotations

from typing import Any

import sqlalchemy.orm as so

from foundation.lowcode.lineage import root_template
from foundation.models import LowcodeForm

_MISSING = object()


def _at(doc: Any, pointer: str) -> Any:
    for part in pointer.strip("/").split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(doc, dict) and part in doc:
            doc = doc[part]
        elif isinstance(doc, list) and part.isdigit() and int(part) < len(doc):
            doc = doc[int(part)]
        else:
            return _MISSING
    return doc


def template_spec(key: str | None) -> dict[str, Any] | None:
    """The plugin template ``<plugin>:<id>`` as its plugin ships it now, or None."""
    if not key or ":" not in key:
        return None
    from flask import current_app, has_app_context

    if not has_app_context() or "jizuo.plugins" not in current_app.extensions:
        return None
    plugin, _, tid = key.partition(":")
    for name, templates in current_app.extensions["jizuo.plugins"].each("jizuo_form_templates"):
        if name == plugin:
            return next((t for t in templates or [] if t.get("id") == tid), None)
    return None


def problems(template: dict[str, Any], schema: Any, ui_schema: Any, app: Any) -> dict[str, str]:
    """``path → message key`` for each locked item of ``template`` the definition changes or removes."""
    mine = {"schema": schema or {}, "ui_schema": ui_schema or {}, "app": app or {}}
    theirs = {"schema": template.get("schema") or {}, "ui_schema": template.get("ui_schema") or {},
              "app": template.get("app") or {}}
    out = {}
    for pointer in template.get("locked") or []:
        got, want = _at(mine, pointer), _at(theirs, pointer)
        if got != want:
            how = "removed" if got is _MISSING else "changed"
            out[pointer.lstrip("/")] = f"lowcode.locked_{how}:{'|'.join(_names(pointer, want))}"
    return out


def _names(pointer: str, item: Any) -> tuple[str, str]:
    """The locked item in words (zh, en): a field's label, else its path."""
    if isinstance(item, dict) and "/properties/" in pointer:
        titles = item.get("x-jizuo-title") or {}
        zh = str(titles.get("zh") or item.get("title") or pointer).replace("|", "/")
        return zh, str(titles.get("en") or zh).replace("|", "/")
    return pointer, pointer


def check(sess: so.Session, form: LowcodeForm) -> dict[str, str]:
    """The locked items a form's draft breaks, if it descends from a template that locks any."""
    spec = template_spec(root_template(sess, form))
    return problems(spec, form.draft_schema, form.draft_ui, form.draft_app) if spec else {}


def template_form(sess: so.Session, form_id: Any, school_id: int) -> dict[str, Any] | None:
    """For a plugin: a published low-code form of the school (a clone of its template, say) as
    ``{"id", "version", "template", "title", "schema", "ui_schema", "app"}`` — its latest published version
    and the template it descends from — or None (not the school's, not a form, never published)."""
    import sqlalchemy as sa

    from foundation.lowcode.lineage import latest

    if not isinstance(form_id, int) or isinstance(form_id, bool):
        return None
    form = sess.scalar(sa.select(LowcodeForm).where(LowcodeForm.id == form_id, LowcodeForm.school_id == school_id))
    version = latest(sess, form.id) if form else None
    if version is None:
        return None
    return {"id": form.id, "version": version.version, "template": root_template(sess, form), "title": form.title,
            "schema": version.schema, "ui_schema": version.ui_schema, "app": version.app or {}}


def template_forms(sess: so.Session, school_id: int, templates: set[str] | frozenset[str]) -> list[dict[str, Any]]:
    """For a plugin: the school's published forms descending from any of ``templates`` (its own template
    keys, ``wellbeing:phq9``), each as :func:`template_form` gives it, newest first."""
    import sqlalchemy as sa

    ids = sess.scalars(sa.select(LowcodeForm.id).where(LowcodeForm.school_id == school_id,
                                                       LowcodeForm.main_form_id.is_(None))
                       .order_by(LowcodeForm.id.desc())).all()
    found = (template_form(sess, i, school_id) for i in ids)
    return [f for f in found if f and f["template"] in templates]
