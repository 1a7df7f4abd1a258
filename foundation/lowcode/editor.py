"""The form editor's view of a form, for a teacher rather than a developer: fields with labels in Chinese and
English, options as rows, bounds and "required"; keys (and option values) generated from the label when a field
is first saved and kept from then on, so submissions keep their data; problems named by field in the viewer's
language; the words families read above the form, and its deadline."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.models import FormVersion

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
        old = props.get(field.get("key")) if isinstance(field.get("key"), str) else None
        kept = isinstance(old, dict) and label == _pair(old)  # a label as it came (a scale's long item) stays
        if not kept and max(len(label["zh"]), len(label["en"])) > 120:
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
    """The app's parts (views, rules, flow conditions) pointing at the editor's refs of new fields, pointed at
    their keys."""
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
    flow = app.get("flow")
    if isinstance(flow, dict) and isinstance(flow.get("steps"), list):
        out["flow"] = {**flow, "steps": [{**s, "when": {**s["when"], "field": one(s["when"].get("field"))}}
                                         if isinstance(s, dict) and isinstance(s.get("when"), dict) else s
                                         for s in flow["steps"]]}
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
