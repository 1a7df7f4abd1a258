"""Forms: definition checks before publishing, immutable versions, cloning with lineage (the copy named
"… 副本"), validation of submissions with a message per field in Chinese or English, and the editor's view of
a form — fields with labels in both languages and options as rows, their keys generated once and kept."""
from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.db import utcnow
from foundation.models import FormVersion, LowcodeForm, Submission
from foundation.tenancy import unscoped

WIDGETS = {"text", "textarea", "select", "radio", "checkbox", "checkboxes", "email", "date", "datetime",
           "hidden", "updown", "range", "password"}
BINDINGS = {"student", "class", "staff"}
VALIDATOR = jsonschema.Draft202012Validator
# a form's lineage may pass through a form of another school (cloned while it was visible, then promoted)
LINEAGE = unscoped("a form's template is found through its lineage, which may pass through another school's form")


class DefinitionError(ValueError):
    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in problems.items()))
        self.problems = problems


def check_definition(schema: Any, ui_schema: Any, app: Any = None) -> dict[str, str]:
    """Problems that stop a publish: an invalid JSON Schema, an unknown widget, a binding to an element
    that does not exist, and in the app parts a rule, view or approval naming a field or role that does
    not exist. ``path → message key``."""
    problems: dict[str, str] = {}
    if not isinstance(schema, dict) or schema.get("type") != "object":
        return {"schema": "lowcode.schema_object"}
    try:
        VALIDATOR.check_schema(schema)
    except jsonschema.SchemaError as err:
        problems["schema/" + "/".join(str(p) for p in err.absolute_path)] = f"lowcode.schema_invalid:{err.message[:120]}"
        return problems
    if ui_schema is not None and not isinstance(ui_schema, dict):
        return {"ui_schema": "lowcode.ui_object"}
    _walk_ui(schema, ui_schema or {}, "", problems)
    _walk_bindings(schema, "", problems)
    from foundation.lowcode.apps import check_app

    problems.update(check_app(schema, app))
    return problems


def _walk_ui(schema: dict, ui: dict, path: str, problems: dict[str, str]) -> None:
    widget = ui.get("ui:widget")
    if widget is not None and widget not in WIDGETS:
        problems[f"ui_schema{path or '/'}"] = f"lowcode.unknown_widget:{widget}"
    props = schema.get("properties", {}) if isinstance(schema, dict) else {}
    for key, sub in ui.items():
        if key.startswith("ui:"):
            continue
        if key not in props:
            problems[f"ui_schema{path}/{key}"] = "lowcode.ui_unknown_field"
        elif isinstance(sub, dict):
            target = props[key]
            if target.get("type") == "array" and isinstance(target.get("items"), dict) and "items" in sub:
                _walk_ui(target["items"], sub["items"], f"{path}/{key}/items", problems)
            else:
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
    problems = check_definition(form.draft_schema, form.draft_ui, form.draft_app)
    if problems:
        raise DefinitionError(problems)
    last = sess.scalar(sa.select(sa.func.max(FormVersion.version)).where(FormVersion.form_id == form.id)) or 0
    version = FormVersion(form_id=form.id, version=last + 1, schema=form.draft_schema, ui_schema=form.draft_ui,
                          app=form.draft_app or {}, published_by=account_id)
    sess.add(version)
    sess.flush()
    return version


def latest(sess: so.Session, form_id: int) -> FormVersion | None:
    return sess.scalar(sa.select(FormVersion).where(FormVersion.form_id == form_id)
                       .order_by(FormVersion.version.desc()).limit(1))


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
    """``path → message key`` for every problem of ``data`` against ``schema``."""
    out: dict[str, str] = {}
    for err in VALIDATOR(schema, format_checker=VALIDATOR.FORMAT_CHECKER).iter_errors(data):
        path = ".".join(str(p) for p in err.absolute_path)
        if err.validator == "required":
            missing = err.message.split("'")[1] if "'" in err.message else ""
            path = f"{path}.{missing}" if path else missing
            key = "lowcode.required"
        elif err.validator == "additionalProperties":
            key = "lowcode.unknown_field"
        else:
            key = {"type": "lowcode.type", "enum": "lowcode.enum", "const": "lowcode.enum",
                   "minimum": f"lowcode.min:{err.validator_value}", "maximum": f"lowcode.max:{err.validator_value}",
                   "exclusiveMinimum": f"lowcode.min:{err.validator_value}",
                   "exclusiveMaximum": f"lowcode.max:{err.validator_value}",
                   "minLength": f"lowcode.min_length:{err.validator_value}",
                   "maxLength": f"lowcode.max_length:{err.validator_value}",
                   "minItems": f"lowcode.min_items:{err.validator_value}",
                   "maxItems": f"lowcode.max_items:{err.validator_value}",
                   "pattern": "lowcode.pattern", "format": f"lowcode.format:{err.validator_value}",
                   "uniqueItems": "lowcode.unique"}.get(err.validator, "lowcode.invalid")
        out.setdefault(path or "_form", key)
    return out


def submit(sess: so.Session, form: LowcodeForm, data: Any, *, school_id: int, principal):
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
    errors = field_errors(version.schema, data)
    if errors:
        return None, errors
    subject = subjects.resolve(sess, version.schema, data, principal, app, school_id)
    if subject.errors:
        return None, subject.errors
    student_id, class_id = subject.student_id, subject.class_id
    approval = (version.app or {}).get("approval")
    row = Submission(form_id=form.id, version_id=version.id, school_id=school_id,
                     submitted_by=principal.account_id, data=data, student_id=student_id, class_id=class_id,
                     status="pending" if approval else "submitted", created_at=utcnow())
    sess.add(row)
    sess.flush()
    notify.after_submit(sess, form, version, row)
    from foundation.events import publish as publish_event

    publish_event("lowcode.submission.created", [{
        "id": row.id, "form_id": form.id, "school_id": school_id, "submitted_by": row.submitted_by,
        "student_id": student_id, "class_id": class_id, "student_no": subject.student_no, "data": data, "created_at": row.created_at.isoformat(),
        "template_key": root_template(sess, form)}])
    return row, {}


def root_template(sess: so.Session, form: LowcodeForm) -> str | None:
    """The template a form descends from (through its clones), so a plugin knows its own form's copies."""
    seen = 0
    while form is not None and seen < 20:
        if form.template_key and not form.template_key.startswith("promoted:"):
            return form.template_key
        if form.parent_form_id is None:
            return None
        form = sess.scalar(sa.select(LowcodeForm).where(LowcodeForm.id == form.parent_form_id),
                           execution_options=LINEAGE)
        seen += 1
    return None


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


# -- the editor's view: fields with labels, options as rows; keys generated from the label, then kept ---------

EDITOR_KINDS = ("text", "textarea", "integer", "number", "date", "select", "radio", "boolean", "student", "class")
KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,39}$")
# what decides a field's kind (rewritten by the editor); anything else on a property (help, pattern…) is kept
_KIND_KEYS = {"type", "format", "enum", "oneOf", "minimum", "maximum", "x-jizuo-binding", "title", "x-jizuo-title"}
# a property holding one of these is beyond the editor: kept exactly as it is, only its label can change
_ADVANCED_KEYS = {"$ref", "allOf", "anyOf", "not", "if", "items", "properties", "const", "prefixItems",
                  "patternProperties", "dependentSchemas"}
_TEXT_ONLY = ("minLength", "maxLength", "pattern")
CHINA = timedelta(hours=8)  # a deadline is a day in the schools' own time


class EditorError(ValueError):
    """The editor's document cannot become a form: ``path → message key`` naming the field."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in problems.items()))
        self.problems = problems


def words(node: Any, lang: str, key: str = "title") -> str:
    """A field's, an option's or a form's words in ``lang`` (``x-jizuo-title``/``x-jizuo-description``, one
    text per language), else the plain JSON Schema ``title``/``description``."""
    if not isinstance(node, dict):
        return ""
    both = node.get(f"x-jizuo-{key}")
    if isinstance(both, dict) and isinstance(both.get(lang), str) and both[lang].strip():
        return both[lang]
    plain = node.get(key)
    return plain if isinstance(plain, str) else ""


def _pair(node: dict, key: str = "title") -> dict[str, str]:
    both = node.get(f"x-jizuo-{key}") if isinstance(node.get(f"x-jizuo-{key}"), dict) else {}
    plain = node.get(key) if isinstance(node.get(key), str) else ""
    return {"zh": str(both.get("zh") or ("" if both.get("en") == plain else plain)), "en": str(both.get("en") or "")}


def editor_kind(prop: Any, ui: Any) -> str:
    """The editor's kind of a property, or "advanced" for one it can only keep as it is."""
    ui = ui if isinstance(ui, dict) else {}
    if not isinstance(prop, dict) or _ADVANCED_KEYS & set(prop):
        return "advanced"
    binding = prop.get("x-jizuo-binding")
    if binding is not None:
        return binding if binding in ("student", "class") and prop.get("type", "string") == "string" else "advanced"
    kind = prop.get("type")
    widget = ui.get("ui:widget")
    if kind == "boolean" and not ({"enum", "oneOf"} & set(prop)) and widget in (None, "checkbox"):
        return "boolean"
    if kind in ("integer", "number") and not ({"enum", "oneOf"} & set(prop)) and widget in (None, "updown"):
        return kind
    if kind != "string":
        return "advanced"
    if "oneOf" in prop or "enum" in prop:
        options = _options_of(prop, ui)
        if options is None or widget not in (None, "select", "radio"):
            return "advanced"
        return "radio" if widget == "radio" else "select"
    if prop.get("format") == "date" and widget in (None, "date"):
        return "date"
    if prop.get("format") is None and widget in (None, "text", "textarea"):
        return "textarea" if widget == "textarea" else "text"
    return "advanced"


def _options_of(prop: dict, ui: dict) -> list[dict] | None:
    if isinstance(prop.get("oneOf"), list):
        out = []
        for o in prop["oneOf"]:
            if not (isinstance(o, dict) and isinstance(o.get("const"), str)):
                return None
            out.append({"value": o["const"], "label": _pair(o) if (o.get("title") or o.get("x-jizuo-title"))
                        else {"zh": o["const"], "en": ""}})
        return out
    values, names = prop.get("enum"), ui.get("ui:enumNames") or []
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        return None
    return [{"value": v, "label": {"zh": str(names[i]) if i < len(names) else v, "en": ""}}
            for i, v in enumerate(values)]


def published_fields(sess: so.Session, form_id: int) -> dict[str, set[str]]:
    """Every field key any published version of the form had, with the option values it had: a new field or
    option never takes one of them, so old submissions keep their meaning."""
    out: dict[str, set[str]] = {}
    for schema in sess.scalars(sa.select(FormVersion.schema).where(FormVersion.form_id == form_id)):
        for key, prop in ((schema or {}).get("properties") or {}).items():
            values = out.setdefault(key, set())
            if isinstance(prop, dict):
                values |= {o["const"] for o in prop.get("oneOf") or [] if isinstance(o, dict)
                           and isinstance(o.get("const"), str)}
                values |= {v for v in prop.get("enum") or [] if isinstance(v, str)}
    return out


def editor_document(schema: dict, ui: dict | None, published: dict[str, set[str]] | None = None) -> dict:
    """The form as the editor shows it: its description and deadline, and its fields in order, each with
    its label in both languages, kind, required, options as rows and bounds (the keys ride along, hidden)."""
    ui = ui or {}
    props = schema.get("properties") or {}
    order = [k for k in ui.get("ui:order") or [] if k in props]
    order += [k for k in props if k not in order]
    required = set(schema.get("required") or [])
    fields = []
    for key in order:
        prop, prop_ui = props[key], ui.get(key) or {}
        kind = editor_kind(prop, prop_ui)
        label = _pair(prop) if isinstance(prop, dict) else {"zh": "", "en": ""}
        field: dict[str, Any] = {"key": key, "label": label if label["zh"] or label["en"] else {"zh": key, "en": ""},
                                 "kind": kind, "required": key in required, "published": key in (published or {})}
        if kind in ("select", "radio"):
            field["options"] = _options_of(prop, prop_ui) or []
        if kind in ("integer", "number"):
            field["min"], field["max"] = prop.get("minimum"), prop.get("maximum")
        fields.append(field)
    return {"fields": fields, "description": _pair(schema, "description"),
            "deadline": schema.get("x-jizuo-deadline")}


def slug(text: str) -> str:
    """The ASCII words of a label as a key ("Pick-up person" → "pick_up_person"); "" for Chinese-only text."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:40].strip("_")


def new_key(label: dict[str, str], taken: set[str], fallback: str = "field") -> str:
    """A key for a new field or option: from its English label, else the ASCII in its Chinese one, else
    ``field_<n>``; never one in ``taken``."""
    base = slug(label.get("en") or "") or slug(label.get("zh") or "")
    if base and not base[0].isalpha():
        base = f"{fallback}_{base}"[:40]
    if base and base not in taken:
        return base
    base = base or fallback
    n = 2 if base != fallback else 1
    while f"{base}_{n}" in taken:
        n += 1
    return f"{base}_{n}"


def _label(raw: Any) -> dict[str, str] | None:
    if isinstance(raw, str):
        raw = {"zh": raw}
    if not isinstance(raw, dict) or not all(isinstance(raw.get(k, ""), str) for k in ("zh", "en")):
        return None
    return {"zh": raw.get("zh", "").strip(), "en": raw.get("en", "").strip()}


def _words_of(label: dict[str, str], lang: str) -> str:
    return label.get(lang) or label.get("zh") or label.get("en") or ""


def _number(raw: Any) -> tuple[bool, float | int | None]:
    if raw is None or raw == "":
        return True, None
    if isinstance(raw, bool) or not isinstance(raw, int | float) or raw != raw or abs(raw) > 1e15:
        return False, None
    return True, raw


def apply_editor(schema: dict, ui: dict | None, fields: Any, *, published: dict[str, set[str]] | None = None,
                 lang: str = "zh") -> tuple[dict, dict, dict[str, str]]:
    """The editor's fields written into the draft: (schema, ui_schema, {ref → generated key}).

    A field keeps the key it has; a new one (no key, or a ``ref`` of the editor's own) gets one generated
    from its label, never a key a published version used. Options likewise keep their values. What the
    editor does not show (help texts, patterns, conditions on kept fields) is kept; conditions naming a
    removed field are dropped. Raises EditorError naming each field's problem in ``lang``."""
    published = published or {}
    ui = ui or {}
    props = schema.get("properties") or {}
    if not isinstance(fields, list) or not fields:
        raise EditorError({"fields": "lowcode.editor.no_fields"})
    if len(fields) > 100:
        raise EditorError({"fields": "lowcode.editor.too_many:100"})
    problems: dict[str, str] = {}
    sent = [f.get("key") for f in fields if isinstance(f, dict) and isinstance(f.get("key"), str)]
    taken = set(props) | set(published) | set(sent)
    out_props: dict[str, Any] = {}
    out_ui: dict[str, Any] = {k: v for k, v in ui.items() if k.startswith("ui:") and k != "ui:order"}
    required: list[str] = []
    renamed: dict[str, str] = {}
    for i, field in enumerate(fields):
        where = f"fields/{i}"
        if not isinstance(field, dict):
            problems[where] = f"lowcode.editor.field_object:{i + 1}"
            continue
        label = _label(field.get("label"))
        if label is None or not (label["zh"] or label["en"]):
            problems[f"{where}/label"] = f"lowcode.editor.label_empty:{i + 1}"
            continue
        name = _words_of(label, lang)
        if max(len(label["zh"]), len(label["en"])) > 120:
            problems[f"{where}/label"] = f"lowcode.editor.label_long:{name[:30]}"
            continue
        key = field.get("key")
        if not isinstance(key, str) or not (key in props or KEY.match(key)):
            key = new_key(label, taken)
            taken.add(key)
            if isinstance(field.get("ref"), str):
                renamed[field["ref"][:80]] = key
        if key in out_props:
            problems[f"{where}/key"] = f"lowcode.editor.duplicate_key:{name}"
            continue
        kind = field.get("kind")
        base = props.get(key) if isinstance(props.get(key), dict) else {}
        base_ui = ui.get(key) if isinstance(ui.get(key), dict) else {}
        old_kind = editor_kind(base, base_ui) if key in props else None
        if kind == "advanced" and old_kind == "advanced":
            prop, prop_ui = dict(base), dict(base_ui)
        elif kind in EDITOR_KINDS:
            built = _build(kind, field, base, base_ui, old_kind, published.get(key, set()), name, where, problems)
            if built is None:
                continue
            prop, prop_ui = built
        else:
            problems[f"{where}/kind"] = f"lowcode.editor.kind:{name}"
            continue
        prop["title"] = label["zh"] or label["en"]
        prop["x-jizuo-title"] = {k: v for k, v in label.items() if v}
        out_props[key] = prop
        if prop_ui:
            out_ui[key] = prop_ui
        if field.get("required") is True:
            required.append(key)
    if problems:
        raise EditorError(problems)
    out_ui["ui:order"] = list(out_props)
    out_schema = {k: v for k, v in schema.items() if k not in ("properties", "required")}
    out_schema |= {"type": "object", "properties": out_props, "required": required}
    return _scrub(out_schema, set(out_props)), out_ui, renamed


def _build(kind: str, field: dict, base: dict, base_ui: dict, old_kind: str | None, used: set[str], name: str,
           where: str, problems: dict[str, str]) -> tuple[dict, dict] | None:
    """One field's property and UI schema from the editor's row, over what the property already had."""
    prop = {k: v for k, v in base.items() if k not in _KIND_KEYS}
    prop_ui = {k: v for k, v in base_ui.items() if k not in ("ui:widget", "ui:enumNames")}
    if old_kind != kind:  # a default or a length limit of another kind would not fit
        prop.pop("default", None)
    if kind not in ("text", "textarea"):
        for k in _TEXT_ONLY:
            prop.pop(k, None)
    prop["type"] = {"integer": "integer", "number": "number", "boolean": "boolean"}.get(kind, "string")
    if kind == "date":
        prop["format"] = "date"
    if kind in ("student", "class"):
        prop["x-jizuo-binding"] = kind
    if kind in ("radio", "textarea"):
        prop_ui["ui:widget"] = kind
    if kind in ("integer", "number"):
        ok_low, low = _number(field.get("min"))
        ok_high, high = _number(field.get("max"))
        if not (ok_low and ok_high):
            problems[f"{where}/{'min' if not ok_low else 'max'}"] = f"lowcode.editor.not_number:{name}"
            return None
        if low is not None and high is not None and low > high:
            problems[f"{where}/max"] = f"lowcode.editor.min_max:{name}"
            return None
        prop |= {k: v for k, v in (("minimum", low), ("maximum", high)) if v is not None}
    if kind in ("select", "radio"):
        options = _option_rows(field.get("options"), used, name, where, problems, base)
        if options is None:
            return None
        prop["oneOf"] = options
    return prop, prop_ui


def _option_rows(rows: Any, used: set[str], name: str, where: str, problems: dict[str, str],
                 base: dict) -> list[dict] | None:
    """Option rows → ``oneOf`` of ``{const, title}``: existing values kept, new ones generated."""
    if not isinstance(rows, list) or not rows:
        problems[f"{where}/options"] = f"lowcode.editor.options_empty:{name}"
        return None
    if len(rows) > 200:
        problems[f"{where}/options"] = f"lowcode.editor.too_many_options:{name}"
        return None
    existing = {o.get("const") for o in base.get("oneOf") or [] if isinstance(o, dict)}
    existing |= {v for v in base.get("enum") or [] if isinstance(v, str)}
    labels = [_label(r.get("label")) if isinstance(r, dict) else None for r in rows]
    sent = {r.get("value") for r in rows if isinstance(r, dict) and isinstance(r.get("value"), str)}
    taken = set(used) | {v for v in sent if v in existing or KEY.match(v)}
    out, seen_zh, seen_en, values = [], set(), set(), set()
    for j, (row, label) in enumerate(zip(rows, labels, strict=True)):
        if label is None or not (label["zh"] or label["en"]):
            problems[f"{where}/options/{j}/label"] = f"lowcode.editor.option_label_empty:{name}"
            return None
        if len(label["zh"]) > 120 or len(label["en"]) > 120:
            problems[f"{where}/options/{j}/label"] = f"lowcode.editor.label_long:{name[:30]}"
            return None
        if (label["zh"] and label["zh"] in seen_zh) or (label["en"] and label["en"] in seen_en):
            problems[f"{where}/options/{j}/label"] = f"lowcode.editor.option_duplicate:{name}"
            return None
        seen_zh.add(label["zh"])
        seen_en.add(label["en"])
        value = row.get("value")
        if not isinstance(value, str) or not (value in existing or KEY.match(value)) or value in values:
            value = new_key(label, taken | values, "option")
        values.add(value)
        out.append({"const": value, "title": label["zh"] or label["en"],
                    "x-jizuo-title": {k: v for k, v in label.items() if v}})
    return out


def _scrub(schema: dict, keys: set[str]) -> dict:
    """Conditions naming a removed field would make the form impossible to fill: drop them."""
    for part in ("then", "else"):
        if isinstance(schema.get(part), dict) and isinstance(schema[part].get("required"), list):
            schema[part] = {**schema[part], "required": [r for r in schema[part]["required"] if r in keys]}
    test = schema.get("if")
    if isinstance(test, dict) and not set(test.get("properties") or {}) <= keys:
        for part in ("if", "then", "else"):
            schema.pop(part, None)
    deps = schema.get("dependencies")
    if isinstance(deps, dict):
        schema["dependencies"] = {k: v for k, v in deps.items() if k in keys and not (
            isinstance(v, list) and not set(v) <= keys)}
    return schema


def rename_fields(app: Any, renamed: dict[str, str]) -> Any:
    """The app's parts (views, rules) pointing at the editor's refs of new fields, pointed at their keys."""
    if not renamed or not isinstance(app, dict):
        return app

    def one(name: Any) -> Any:
        return renamed.get(name, name) if isinstance(name, str) else name

    out = dict(app)
    views = []
    for view in app.get("views") or []:
        if not isinstance(view, dict):
            views.append(view)
            continue
        view = dict(view)
        for part in ("columns", "filters"):
            if isinstance(view.get(part), list):
                view[part] = [one(n) for n in view[part]]
        for part in ("sort", "chart"):
            if isinstance(view.get(part), dict):
                view[part] = {k: one(v) if k in ("field", "by") else v for k, v in view[part].items()}
        if isinstance(view.get("aggregates"), list):
            view["aggregates"] = [{**a, "field": one(a["field"])} if isinstance(a, dict) and "field" in a else a
                                  for a in view["aggregates"]]
        views.append(view)
    if "views" in app:
        out["views"] = views
    if isinstance(app.get("rules"), list):
        out["rules"] = [{**r, "when": {**r["when"], "field": one(r["when"].get("field"))}}
                        if isinstance(r, dict) and isinstance(r.get("when"), dict) else r for r in app["rules"]]
    return out


def set_description(schema: dict, raw: Any) -> dict:
    """The words families read above the form, in both languages (empty: none)."""
    label = _label(raw if raw is not None else "")
    if label is None or max(len(label["zh"]), len(label["en"])) > 1000:
        raise EditorError({"description": "lowcode.editor.description"})
    out = {k: v for k, v in schema.items() if k not in ("description", "x-jizuo-description")}
    if label["zh"] or label["en"]:
        out |= {"description": label["zh"] or label["en"],
                "x-jizuo-description": {k: v for k, v in label.items() if v}}
    return out


def set_deadline(schema: dict, raw: Any) -> dict:
    """The last day the form takes submissions ("YYYY-MM-DD", that whole day in the schools' time), or none."""
    out = {k: v for k, v in schema.items() if k != "x-jizuo-deadline"}
    if raw in (None, ""):
        return out
    try:
        day = date.fromisoformat(raw) if isinstance(raw, str) and len(raw) == 10 else None
    except ValueError:
        day = None
    if day is None:
        raise EditorError({"deadline": "lowcode.editor.deadline"})
    return out | {"x-jizuo-deadline": day.isoformat()}


def deadline_of(schema: Any) -> date | None:
    raw = schema.get("x-jizuo-deadline") if isinstance(schema, dict) else None
    try:
        return date.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        return None


def past_deadline(schema: Any, now: datetime | None = None) -> bool:
    deadline = deadline_of(schema)
    today = ((now or datetime.now(UTC)).astimezone(UTC) + CHINA).date()
    return deadline is not None and today > deadline
