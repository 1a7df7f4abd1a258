"""Forms behave exactly as JSON Schema says (issue 14): jsonschema's own validation in the form's draft, every
problem of a field in words, the publish check asking the renderer what it can draw, and the constructs
other form builders write drawn, filled in and parsed back."""
from __future__ import annotations

import pytest

from foundation.lowcode.forms import check_definition
from foundation.lowcode.render import parse_form, render_form
from foundation.lowcode.validation import field_errors
from tests.lowcode.test_renderer import control, dom, submitted

CARD = {"type": "object", "properties": {"name": {"type": "string"}, "credit_card": {"type": "string"},
                                         "billing_address": {"type": "string", "title": "账单地址"}},
        "dependencies": {"credit_card": ["billing_address"]}}


def round_trip(schema, data, ui=None):
    return parse_form(schema, submitted(dom(render_form(schema, ui, data).html)), ui)


# -- validation ---------------------------------------------------------------------------------------------
def test_a_form_without_schema_is_draft_7_and_enforces_dependencies():
    assert field_errors(CARD, {"credit_card": "4111"}, "zh") == {"billing_address": "填写了「credit_card」时必填"}
    assert field_errors(CARD, {"credit_card": "4111", "billing_address": "北京"}, "zh") == {}


def test_a_declared_2020_12_form_enforces_dependent_required_and_schemas():
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
              "properties": {"a": {"type": "string"}, "b": {"type": "string"}, "c": {"type": "integer"}},
              "dependentRequired": {"a": ["b"]},
              "dependentSchemas": {"b": {"properties": {"c": {"minimum": 5}}}}}
    assert field_errors(schema, {"a": "x", "b": "y", "c": 1}, "en") == {"c": "At least 5"}
    assert field_errors(schema, {"a": "x"}, "en") == {"b": "Required when \u201ca\u201d is filled in"}


def test_a_keyword_the_forms_draft_ignores_is_refused_before_publish_in_words():
    draft7 = {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
              "dependentRequired": {"a": ["b"]}}
    assert check_definition(draft7, {}) == {"schema/dependentRequired": "lowcode.unsupported.draft_ignores:dependentRequired"}
    modern = {**CARD, "$schema": "https://json-schema.org/draft/2020-12/schema"}
    assert check_definition(modern, {}) == {"schema/dependencies": "lowcode.unsupported.draft_ignores:dependencies"}


@pytest.mark.parametrize(("fmt", "good"), [
    ("date", "2024-05-01"), ("date-time", "2024-05-01T08:30:00+08:00"), ("time", "08:30:00+08:00"),
    ("email", "wang@example.cn"), ("uri", "https://example.cn/a"), ("uuid", "123e4567-e89b-12d3-a456-426614174000")])
def test_formats_are_checked(fmt, good):
    schema = {"type": "object", "properties": {"x": {"type": "string", "format": fmt}}}
    assert field_errors(schema, {"x": good}, "zh") == {}
    assert field_errors(schema, {"x": "garbage"}, "zh")["x"].startswith("应为")


def test_every_error_of_a_field_is_reported():
    schema = {"type": "object", "properties": {"n": {"type": "integer", "minimum": 3, "multipleOf": 2}}}
    assert field_errors(schema, {"n": 1}, "zh") == {"n": "不能小于 3；须是 2 的倍数"}
    assert field_errors(schema, {"n": 1}, "en") == {"n": "At least 3; Must be a multiple of 2"}


def test_one_of_failure_names_each_choice_and_why_it_does_not_fit():
    schema = {"type": "object", "properties": {"contact": {"title": "联系方式", "oneOf": [
        {"title": "手机", "type": "string", "pattern": "^1[0-9]{10}$"},
        {"title": "分机", "type": "integer", "minimum": 1000}]}}}
    message = field_errors(schema, {"contact": 12}, "zh")["contact"]
    assert message == "须符合以下之一，但都不符合：手机（应填写文字）；分机（不能小于 1000）"
    fixed = {"type": "object", "properties": {"k": {"anyOf": [{"const": "a", "title": "甲"}, {"const": "b"}]}}}
    assert field_errors(fixed, {"k": "c"}, "zh") == {"k": "不是可选的值，可选：甲、b"}


# -- the publish check --------------------------------------------------------------------------------------
def test_publish_check_takes_the_renderers_widgets_and_follows_refs():
    schema = {"type": "object", "definitions": {"when": {"type": "string", "title": "时间"}}, "properties": {
        "at": {"$ref": "#/definitions/when"}, "colour": {"type": "string"}, "link": {"type": "string"},
        "site": {"type": "string"}}}
    ui = {"at": {"ui:widget": "time"}, "colour": {"ui:widget": "color"}, "link": {"ui:widget": "uri"},
          "site": {"ui:widget": "url"}}
    assert check_definition(schema, ui) == {}
    assert check_definition(schema, {"at": {"ui:widget": "updown"}}) == {
        "ui_schema/at": "lowcode.unsupported.widget_mismatch:updown"}


def test_publish_accepts_a_root_without_type_and_refuses_one_that_is_not_an_object():
    assert check_definition({"properties": {"a": {"type": "string"}}, "required": ["a"]}, {}) == {}
    assert check_definition({"type": "array", "items": {"type": "string"}}, {}) == {"schema": "lowcode.unsupported.root"}


def test_publish_never_cuts_the_schema_message_short():
    long_name = "x" * 150
    problems = check_definition({"type": "object", "properties": {"a": {"type": "string", "enum": long_name}}}, {})
    [(where, message)] = problems.items()
    assert where == "schema/properties/a/enum" and message.endswith(long_name + "' is not of type 'array'")


def test_a_form_that_could_not_be_submitted_is_not_published():
    schema = {"type": "object", "required": ["shade"], "properties": {
        "shade": {"type": ["string", "integer"], "title": "颜色"}}}
    assert check_definition(schema, {}) == {"schema/properties/shade": "lowcode.unsupported.type_union:string/integer"}


# -- what is drawn, filled in and parsed back ---------------------------------------------------------------
def test_const_is_a_fixed_value_not_a_required_checkbox():
    schema = {"type": "object", "required": ["agree", "kind"], "properties": {
        "agree": {"type": "boolean", "const": True, "title": "同意"},
        "kind": {"type": "string", "enum": ["leave"], "title": "类型"}}}
    root = dom(render_form(schema).html)
    assert not [n for n in root.find_all("input") if n.attrs.get("type") == "checkbox"]
    assert "同意" in root.text() and "leave" in root.text()
    assert round_trip(schema, {}) == {"agree": True, "kind": "leave"}


def test_enum_names_title_the_options():
    schema = {"type": "object", "properties": {"s": {"type": "string", "enum": ["m", "f"], "enumNames": ["男", "女"]}}}
    select = control(dom(render_form(schema).html), "f.s")
    assert [o.text() for o in select.find_all("option")][1:] == ["男", "女"]


def test_tuple_arrays_are_one_field_per_position():
    for key in ("items", "prefixItems"):
        schema = {"type": "object", "properties": {"point": {"type": "array", key: [
            {"type": "number", "title": "经度"}, {"type": "number", "title": "纬度"}]}}}
        if key == "prefixItems":
            schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        assert check_definition(schema, {}) == {}
        assert round_trip(schema, {"point": [116.4, 39.9]}) == {"point": [116.4, 39.9]}


def test_one_of_alternatives_that_are_not_objects_are_a_choice():
    schema = {"type": "object", "properties": {"contact": {"title": "联系方式", "oneOf": [
        {"title": "手机", "type": "string"}, {"title": "分机", "type": "integer"}]},
        "note": {"anyOf": [{"type": "string"}, {"type": "null"}]}}}
    assert check_definition(schema, {}) == {}
    assert round_trip(schema, {"contact": 1234, "note": "x"}) == {"contact": 1234, "note": "x"}
    assert round_trip(schema, {"contact": "13800000000"}) == {"contact": "13800000000"}


def test_additional_and_pattern_properties_are_name_and_value_rows():
    schema = {"type": "object", "properties": {"name": {"type": "string"}, "scores": {
        "type": "object", "additionalProperties": {"type": "integer", "minimum": 0}}},
        "patternProperties": {"^x-": {"type": "string"}}, "additionalProperties": False}
    assert check_definition(schema, {}) == {}
    data = {"name": "王", "scores": {"语文": 90, "数学": 88}, "x-note": "好"}
    assert round_trip(schema, data) == data
