"""Submissions checked by jsonschema itself, in the draft the form declares, and every problem of a field said
in words a teacher reads (Chinese or English).

- ``$schema`` picks the draft (Draft 4, 6, 7, 2019-09, 2020-12); a form without one is read as Draft 7, the
  draft most form builders write. Each draft keeps its own keywords: Draft 7 enforces ``dependencies``,
  2019-09 and 2020-12 ``dependentRequired``/``dependentSchemas`` (the publish check refuses a keyword the
  form's draft would ignore, see ``ignored_keywords``).
- ``format`` is asserted with the draft's own jsonschema checker (date, date-time, time, email, uri, uuid …; date-time,
  time and uri need rfc3339-validator and rfc3986-validator, listed in pyproject.toml).
- Every error of a field is kept (joined with "；"/"; "); a ``oneOf``/``anyOf`` failure names each choice and
  why it does not fit.
"""
from __future__ import annotations

import json
from typing import Any

import jsonschema
from jsonschema.validators import validator_for

from foundation.i18n import current_lang, t

DEFAULT = jsonschema.Draft7Validator
# keywords a draft does not know, though a form builder may write them: (keyword, the drafts that know it)
_DRAFT_KEYWORDS = {
    "dependencies": {"draft4", "draft6", "draft7"},
    "dependentRequired": {"draft2019-09", "draft2020-12"},
    "dependentSchemas": {"draft2019-09", "draft2020-12"},
    "prefixItems": {"draft2020-12"},
    "unevaluatedProperties": {"draft2019-09", "draft2020-12"},
    "unevaluatedItems": {"draft2019-09", "draft2020-12"},
}
_NAMES = {jsonschema.Draft4Validator: "draft4", jsonschema.Draft6Validator: "draft6",
          jsonschema.Draft7Validator: "draft7", jsonschema.Draft201909Validator: "draft2019-09",
          jsonschema.Draft202012Validator: "draft2020-12"}


def validator_class(schema: Any) -> type:
    """The jsonschema validator for the draft ``schema`` declares; Draft 7 without ``$schema``."""
    if not isinstance(schema, dict):
        return DEFAULT
    cls = validator_for(schema, default=DEFAULT)
    return cls if cls in _NAMES else DEFAULT


def format_checker(cls: type) -> jsonschema.FormatChecker:
    """The draft's own format checker, asserting (not only annotating), with ``uuid`` in the older drafts too."""
    checker = jsonschema.FormatChecker(())
    checker.checkers = {"uuid": jsonschema.Draft202012Validator.FORMAT_CHECKER.checkers["uuid"],
                        **cls.FORMAT_CHECKER.checkers}
    return checker


_CHECKERS = {cls: format_checker(cls) for cls in _NAMES}


def validator(schema: Any) -> jsonschema.protocols.Validator:
    cls = validator_class(schema)
    return cls(schema, format_checker=_CHECKERS[cls])


def draft_name(schema: Any) -> str:
    return _NAMES[validator_class(schema)]


def ignored_keywords(schema: Any, pointer: str = "") -> dict[str, str]:
    """``pointer → keyword`` for each keyword the form's draft ignores (``dependentRequired`` in a Draft 7
    form, ``dependencies`` in a 2020-12 one): the page would act on it while the server would not."""
    draft = draft_name(schema)
    out: dict[str, str] = {}

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in _DRAFT_KEYWORDS and draft not in _DRAFT_KEYWORDS[key] and not key.startswith("x-"):
                    if not (where.endswith("/properties") or where.endswith("/$defs")
                            or where.endswith("/definitions")):  # a property named "dependencies" is fine
                        out[f"{where}/{key}"] = key
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{where}/{i}")

    walk(schema, pointer)
    return out


def field_errors(schema: dict, data: Any, lang: str | None = None) -> dict[str, str]:
    """``dotted path → every problem of that field`` in ``lang`` (the request's language by default)."""
    lang = lang or current_lang()
    found: dict[str, list[str]] = {}
    for err in validator(schema).iter_errors(data):
        for path, message in _messages(err, schema, lang):
            listed = found.setdefault(path or "_form", [])
            if message not in listed:
                listed.append(message)
    sep = "; " if lang == "en" else "；"
    return {path: sep.join(messages) for path, messages in found.items()}


def _path(parts: Any) -> str:
    return ".".join(str(p) for p in parts)


def _messages(err: jsonschema.ValidationError, root: dict, lang: str) -> list[tuple[str, str]]:
    """(path, message) for one error; required and dependency errors name the missing field's own path."""
    path = _path(err.absolute_path)
    here = f"{path}." if path else ""
    if err.validator == "required":
        missing = [r for r in err.validator_value if isinstance(err.instance, dict) and r not in err.instance]
        name = next((r for r in missing if err.message.startswith(repr(r))), missing[0] if missing else "")
        return [(here + str(name), t("lowcode.required", lang))]
    if err.validator in ("dependencies", "dependentRequired") and isinstance(err.validator_value, dict):
        out = []
        for prop, needs in err.validator_value.items():
            if isinstance(needs, list) and isinstance(err.instance, dict) and prop in err.instance:
                label = _title(_property(err.schema, prop), prop, lang)
                out += [(here + str(n), t("lowcode.required_with", lang, arg=label))
                        for n in needs if n not in err.instance]
        return out or [(path, message(err, lang))]
    if err.validator in ("additionalProperties", "unevaluatedProperties") and isinstance(err.instance, dict):
        known = set(err.schema.get("properties") or {})
        extra = [k for k in err.instance if k not in known and str(k) in err.message]
        if extra:
            return [(here + str(k), t("lowcode.unknown_field", lang)) for k in extra]
    return [(path, message(err, lang))]


def _property(schema: Any, prop: str) -> Any:
    props = schema.get("properties") if isinstance(schema, dict) else None
    return props.get(prop) if isinstance(props, dict) else None


def _title(node: Any, fallback: Any, lang: str) -> str:
    if isinstance(node, dict):
        both = node.get("x-jizuo-title")
        if isinstance(both, dict) and isinstance(both.get(lang), str) and both[lang].strip():
            return both[lang]
        if isinstance(node.get("title"), str) and node["title"].strip():
            return node["title"]
    return str(fallback)


def _value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


_TYPES = {"string": "text", "integer": "integer", "number": "number", "boolean": "boolean", "object": "object",
          "array": "array", "null": "null"}
_SIMPLE = {"minLength": "min_length", "maxLength": "max_length", "minItems": "min_items",
           "maxItems": "max_items", "minimum": "min", "maximum": "max", "minProperties": "min_properties",
           "maxProperties": "max_properties", "multipleOf": "multiple_of"}


def message(err: jsonschema.ValidationError, lang: str) -> str:
    """One error in words."""
    v, value = err.validator, err.validator_value
    if v in _SIMPLE and not isinstance(value, bool):
        return t(f"lowcode.{_SIMPLE[v]}", lang, arg=_value(value))
    if v == "exclusiveMinimum":
        return t("lowcode.above", lang, arg=_value(err.schema.get("minimum") if value is True else value))
    if v == "exclusiveMaximum":
        return t("lowcode.below", lang, arg=_value(err.schema.get("maximum") if value is True else value))
    if v == "type":
        types = value if isinstance(value, list) else [value]
        words = (" / " if lang == "en" else "或").join(t(f"lowcode.type.{_TYPES.get(x, 'text')}", lang) for x in types)
        return t("lowcode.type", lang, arg=words)
    if v == "enum":
        return t("lowcode.enum_of", lang, arg=_listing([_value(x) for x in value], lang))
    if v == "const":
        return t("lowcode.const", lang, arg=_value(value))
    if v == "format":
        key = f"lowcode.format.{value}"
        text = t(key, lang)
        return text if text != key else t("lowcode.format", lang, arg=value)
    if v in ("oneOf", "anyOf"):
        return _choices(err, lang)
    if v == "uniqueItems":
        return t("lowcode.unique", lang)
    if v == "pattern":
        return t("lowcode.pattern", lang)
    if v == "false" or err.schema is False:
        return t("lowcode.not_allowed", lang)
    return t("lowcode.invalid", lang)


def _listing(items: list[str], lang: str) -> str:
    return (", " if lang == "en" else "、").join(items)


def _choices(err: jsonschema.ValidationError, lang: str) -> str:
    """"须为以下之一：文字（应为文字）；整数（不能小于 3）" — each choice with why it does not fit; a choice of
    fixed values lists them; a value fitting several choices of a oneOf says which."""
    options = err.validator_value if isinstance(err.validator_value, list) else []
    names = [_choice_name(o, i, lang) for i, o in enumerate(options)]
    if all(isinstance(o, dict) and "const" in o for o in options):
        return t("lowcode.enum_of", lang, arg=_listing(names, lang))
    why: dict[int, list[str]] = {}
    for sub in err.context or []:
        index = sub.relative_schema_path[0] if sub.relative_schema_path else None
        if isinstance(index, int):
            where = _path(list(sub.absolute_path)[len(list(err.absolute_path)):])
            said = message(sub, lang) if sub.validator != "required" else t("lowcode.required", lang)
            if sub.validator == "required":
                where = _path([*list(sub.absolute_path)[len(list(err.absolute_path)):],
                               *[r for r in sub.validator_value if isinstance(sub.instance, dict)
                                 and r not in sub.instance][:1]])
            text = f"{where}: {said}" if where else said
            if text not in why.setdefault(index, []):
                why[index].append(text)
    if not why:  # a oneOf the value fits more than once
        return t("lowcode.one_of_many", lang, arg=_listing(names, lang))
    sep = "，" if lang != "en" else ", "
    parts = [(f"{names[i]}（{sep.join(why[i])}）" if lang != "en" else f"{names[i]} ({sep.join(why[i])})")
             for i in range(len(options)) if i in why]
    return t("lowcode.one_of", lang, arg=("；" if lang != "en" else "; ").join(parts))


def _choice_name(option: Any, index: int, lang: str) -> str:
    if isinstance(option, dict):
        titled = _title(option, "", lang)
        if titled:
            return titled
        if "const" in option:
            return _value(option["const"])
        if isinstance(option.get("type"), str):
            return t(f"lowcode.type.{_TYPES.get(option['type'], 'text')}", lang)
    return t("lowcode.option", lang, arg=index + 1)
