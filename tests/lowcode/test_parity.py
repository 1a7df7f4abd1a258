"""Property-based parity (issue 14): instances generated from a broad set of form schemas — the day-one
templates, plugins' forms and definitions in the style other form builders write — pass the form's HTML round
trip (render → what a browser submits → parse), and Jizuo's verdict (round trip, then validation) equals
jsonschema's on the instance itself, for valid instances and for ones made invalid in a field a person types in.

What the HTML form cannot carry is set aside when generating, and documented in docs/lowcode.md: blank text
(the form reads it as "not answered"), properties the schema does not name, and an unticked optional box
(which reads as false)."""
from __future__ import annotations

import copy
import json
import re
from datetime import datetime
from pathlib import Path

import jsonschema
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.internal.conjecture import utils as cu
from hypothesis_jsonschema import _from_schema, from_schema

from foundation.lowcode.forms import check_definition
from foundation.lowcode.render import parse_form, render_form
from foundation.lowcode.validation import field_errors, validator
from tests.lowcode.test_renderer import dom, submitted

ROOT = Path(__file__).resolve().parents[2]

# Definitions in the style react-jsonschema-form's playground and other builders write (Draft 7, no $schema).
BUILDER_FORMS = {
    "registration": {"title": "A registration form", "type": "object", "required": ["firstName", "lastName"],
                     "properties": {"firstName": {"type": "string", "title": "First name"},
                                    "lastName": {"type": "string", "title": "Last name"},
                                    "age": {"type": "integer", "title": "Age", "minimum": 0, "maximum": 150},
                                    "bio": {"type": "string", "title": "Bio", "maxLength": 200},
                                    "password": {"type": "string", "title": "Password", "minLength": 3},
                                    "telephone": {"type": "string", "title": "Telephone", "minLength": 10}}},
    "nested": {"type": "object", "required": ["title"], "properties": {
        "title": {"type": "string", "title": "Task list title"},
        "tasks": {"type": "array", "title": "Tasks", "items": {"type": "object", "required": ["title"], "properties": {
            "title": {"type": "string", "title": "Title"}, "details": {"type": "string"},
            "done": {"type": "boolean", "title": "Done?"}}}}}},
    "numbers": {"type": "object", "properties": {
        "number": {"type": "number", "title": "Number"}, "integer": {"type": "integer", "title": "Integer"},
        "numberEnum": {"type": "number", "enum": [1, 2, 3]}, "range": {"type": "integer", "minimum": 42, "maximum": 100},
        "step": {"type": "number", "multipleOf": 0.5, "minimum": 0, "maximum": 10}}},
    "references": {"definitions": {"address": {"type": "object", "required": ["street_address", "city"], "properties": {
        "street_address": {"type": "string"}, "city": {"type": "string"}, "state": {"type": "string"}}}},
        "type": "object", "properties": {"billing_address": {"title": "Billing address", "$ref": "#/definitions/address"},
                                         "shipping_address": {"$ref": "#/definitions/address"}}},
    "alternatives": {"type": "object", "properties": {
        "colorMask": {"type": "array", "uniqueItems": True, "items": {"type": "string", "enum": ["R", "G", "B"]}},
        "blendMode": {"title": "Blend mode", "type": "string", "enum": ["screen", "multiply", "overlay"],
                      "enumNames": ["Screen", "Multiply", "Overlay"]},
        "contact": {"oneOf": [{"type": "string", "title": "Phone", "pattern": "^[0-9]+$"},
                              {"type": "integer", "title": "Extension", "minimum": 100}]},
        "kind": {"anyOf": [{"const": "a", "title": "Kind A"}, {"const": "b", "title": "Kind B"}]}}},
    "dependencies": {"title": "Dependencies", "type": "object", "properties": {
        "name": {"type": "string"}, "credit_card": {"type": "string"}, "billing_address": {"type": "string"}},
        "required": ["name"], "dependencies": {"credit_card": ["billing_address"]}},
    "if_then_else": {"type": "object", "required": ["animal"], "properties": {
        "animal": {"type": "string", "enum": ["Cat", "Fish"]}},
        "allOf": [{"if": {"properties": {"animal": {"const": "Cat"}}},
                   "then": {"properties": {"food": {"type": "string", "enum": ["meat", "grass", "fish"]}},
                            "required": ["food"]}},
                  {"if": {"properties": {"animal": {"const": "Fish"}}},
                   "then": {"properties": {"food": {"type": "string", "enum": ["insect", "worms"]},
                                           "water": {"type": "string", "enum": ["lake", "sea"]}},
                            "required": ["food", "water"]}}]},
    "tuples": {"type": "object", "properties": {"point": {"type": "array", "title": "A point",
                                                          "items": [{"type": "number"}, {"type": "number"}]}}},
    "key_values": {"type": "object", "properties": {"labels": {"type": "object",
                                                               "additionalProperties": {"type": "string"}}}},
    "formats": {"type": "object", "properties": {
        "email": {"type": "string", "format": "email"}, "uri": {"type": "string", "format": "uri"},
        "date": {"type": "string", "format": "date"}, "datetime": {"type": "string", "format": "date-time"},
        "id": {"type": "string", "format": "uuid"}}},
    "modern": {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
               "properties": {"a": {"type": "string"}, "b": {"type": "string"},
                              "pair": {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}]}},
               "dependentRequired": {"a": ["b"]}},
    "consent": {"type": "object", "required": ["agree", "name"], "properties": {
        "agree": {"type": "boolean", "const": True, "title": "I agree"}, "name": {"type": "string"},
        "source": {"type": "string", "enum": ["web"]}}},
}


def _forms() -> dict[str, tuple[dict, dict]]:
    out = {f"builder:{k}": (v, {}) for k, v in BUILDER_FORMS.items()}
    for path in [*sorted((ROOT / "foundation/lowcode/templates").glob("*.json")),
                 *sorted((ROOT / "plugins").glob("*/forms/*.json"))]:
        spec = json.loads(path.read_text("utf-8"))
        if "schema" not in spec:  # a plugin's own document beside its form templates (wellbeing's scale keys)
            continue
        out[f"{path.parent.parent.name}:{path.stem}"] = (spec["schema"], spec.get("ui_schema") or {})
    return out


FORMS = _forms()


class _Many:
    """hypothesis-jsonschema 0.23 (the latest) drives Hypothesis's internal ``many`` with ``more()``; Hypothesis
    6.15x made it a ``with … for _ in elements`` iterator. The old calls, over the new class."""

    def __init__(self, data, min_size, max_size, average_size):
        self._many = cu.many(data, min_size=min_size, max_size=max_size, average_size=average_size)
        self._many.__enter__()
        self._steps = iter(self._many)

    def more(self) -> bool:
        if next(self._steps, StopIteration) is StopIteration:
            self._many.__exit__(None, None, None)
            return False
        return True

    def reject(self, why=None) -> None:
        self._many.reject(why)


if not hasattr(cu.many, "more"):
    _from_schema.cu = type("cu", (), {"many": _Many})


def _names(node) -> list[str]:
    """The properties an object may hold: its own and those its branches (allOf, if/then/else, oneOf,
    dependencies) add."""
    if not isinstance(node, dict):
        return []
    names = list(node.get("properties") or {})
    for key in ("allOf", "anyOf", "oneOf"):
        for part in node.get(key) or []:
            names += _names(part)
    for key in ("then", "else"):
        names += _names(node.get(key))
    for key in ("dependencies", "dependentSchemas"):
        for dep in (node.get(key) or {}).values():
            names += _names(dep)
    return list(dict.fromkeys(names))


def _for_generation(node, inside=False):
    """The schema narrowed to what an HTML form carries: named properties only (and names of at least one
    character), text at least one character, fixed values and defaults present (the form always sends them),
    nothing past a tuple's positions."""
    if isinstance(node, list):
        return [_for_generation(n, inside) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: (v if k in ("enum", "const", "required", "x-jizuo-title", "default") else
               _for_generation(v, inside or k in ("allOf", "anyOf", "oneOf", "then", "else", "if", "dependencies",
                                                  "dependentSchemas", "not")))
           for k, v in node.items()}
    if isinstance(node.get("properties"), dict) and not inside:
        if "additionalProperties" not in node and "patternProperties" not in node:
            out["propertyNames"] = {"enum": _names(node)}
        fixed = [k for k, v in node["properties"].items() if isinstance(v, dict)
                 and ("const" in v or "default" in v or (isinstance(v.get("enum"), list) and len(v["enum"]) == 1))]
        out["required"] = list(dict.fromkeys([*node.get("required", []), *fixed]))
    if isinstance(node.get("additionalProperties"), dict) or node.get("patternProperties"):
        out["propertyNames"] = {"minLength": 1, "pattern": r"^\S"}
    if isinstance(node.get("items"), list) and "additionalItems" not in node:
        out["additionalItems"] = False
    if "prefixItems" in node and "items" not in node:
        out["items"] = False
    if node.get("type") == "string" and "enum" not in node and "const" not in node and "format" not in node:
        out["minLength"] = max(1, node.get("minLength", 1))
        out.setdefault("pattern", r"^\S")
    return out


def _sets(node) -> set[str]:
    """Names of properties holding a set (uniqueItems): checkboxes send their choices in the options' order."""
    if isinstance(node, list):
        return set().union(set(), *map(_sets, node))
    if not isinstance(node, dict):
        return set()
    found = {k for k, v in (node.get("properties") or {}).items() if isinstance(v, dict) and v.get("uniqueItems")}
    return found.union(*map(_sets, node.values()))


def _normal(value, sets=frozenset()):
    """Documents compared as the form reads them: false booleans and empty containers as not answered,
    date-times as instants, sets in any order."""
    if isinstance(value, dict):
        return {k: sorted(map(json.dumps, v)) if k in sets and isinstance(v, list) else _normal(v, sets)
                for k, v in value.items() if v is not False and v is not None and v not in ([], {})}
    if isinstance(value, list):
        return [_normal(v, sets) for v in value]
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", value):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return value
    return value


def _strings(value) -> set[str]:
    if isinstance(value, dict):
        return set().union(*map(_strings, value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*map(_strings, value)) if value else set()
    return {value} if isinstance(value, str) else set()


def _round_trip(schema, ui, data):
    pickers = {b: [(v, v) for v in sorted(_strings(data))] for b in ("student", "class", "staff")}
    html = render_form(schema, ui, data, pickers=pickers).html
    form = submitted(dom(html))
    return parse_form(schema, form, ui), form


SETTINGS = settings(max_examples=15, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


@pytest.mark.parametrize("name", sorted(FORMS))
def test_every_form_in_the_set_can_be_published(name):
    schema, ui = FORMS[name]
    assert check_definition(schema, ui) == {}


@pytest.mark.parametrize("name", sorted(FORMS))
def test_valid_instances_survive_the_round_trip_and_keep_their_verdict(name):
    schema, ui = FORMS[name]

    @SETTINGS
    @given(from_schema(_for_generation(schema), allow_x00=False, codec="utf-8"))
    def check(instance):
        assume(validator(schema).is_valid(instance))
        parsed, form = _round_trip(schema, ui, instance)
        # a property only a then/else declares takes any value while its condition fails, where no page shows it
        assume(all(any(n == f"f.{k}" or n.startswith(f"f.{k}.") for n in form) for k in instance))
        assert _normal(parsed, _sets(schema)) == _normal(instance, _sets(schema))
        assert field_errors(schema, parsed, "en") == {}

    check()


TYPED = {"text", "email", "url", "number", "date", "datetime-local", "time", "password", "range", "color"}
BAD = ["", "x", "-1", "1e9", "not a date", "abc@", "3.5", "x" * 300]


def _set(document, path, value):
    node = document
    for key in path[:-1]:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if isinstance(node, list):
        node[int(path[-1])] = value
    else:
        node[path[-1]] = value


@pytest.mark.parametrize("name", sorted(FORMS))
def test_a_field_typed_wrong_gets_the_same_verdict_as_jsonschema_gives(name):
    schema, ui = FORMS[name]

    @SETTINGS
    @given(from_schema(_for_generation(schema), allow_x00=False, codec="utf-8"), st.data())
    def check(instance, draw):
        assume(validator(schema).is_valid(instance))
        root = dom(render_form(schema, ui, instance).html)
        typed = sorted({n.attrs["name"] for n in root.iter(templates=False)
                        if n.tag in ("input", "textarea") and (n.tag == "textarea" or n.attrs.get("type") in TYPED)
                        and "~" not in n.attrs.get("name", "")})
        paths = [name.split(".")[1:] for name in typed]
        paths = [p for p in paths if _has(instance, p)]
        if not paths:
            return  # nothing typed in this instance (all choices)
        path = draw.draw(st.sampled_from(paths))
        bad = draw.draw(st.sampled_from(BAD))
        current = _get(instance, path)
        mutated = copy.deepcopy(instance)
        _set(mutated, path, bad if isinstance(current, str) or bad == "" else _number_or_text(bad))
        if bad == "":  # a field emptied is a field not answered; a row emptied is no row
            _drop(mutated, path)
            assume(_get(mutated, path[:-1]) != {} if len(path) > 1 else True)
        assume(not jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)(
            schema, format_checker=validator(schema).format_checker).is_valid(mutated))
        parsed, _ = _round_trip(schema, ui, mutated)
        assume(bad != "" or not _has(parsed, path))  # a field with a default shows it again when left out
        assert field_errors(schema, parsed, "en") != {}

    check()


def _number_or_text(text):
    try:
        return json.loads(text)
    except ValueError:
        return text


def _get(document, path):
    node = document
    for key in path:
        node = node[int(key)] if isinstance(node, list) else node[key]
    return node


def _has(document, path) -> bool:
    try:
        _get(document, path)
    except (KeyError, IndexError, ValueError, TypeError):
        return False
    return True


def _drop(document, path):
    parent = _get(document, path[:-1]) if path[:-1] else document
    if isinstance(parent, dict):
        parent.pop(path[-1], None)
    elif int(path[-1]) == len(parent) - 1:
        parent.pop()
