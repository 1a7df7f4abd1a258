"""The low-code form renderer (admin.lowcode): HTML checked with the stdlib HTML parser, and parse_form
fed with what a browser would submit for that HTML."""
from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import jsonschema
import pytest
from werkzeug.datastructures import MultiDict

from admin.lowcode import parse_form, render_form

VOID = {"input", "br", "hr", "img", "meta", "link", "area", "base", "col", "embed", "source", "track", "wbr"}


# -- a tiny DOM -------------------------------------------------------------------------------------------
class Node:
    def __init__(self, tag: str, attrs: dict, parent: Node | None) -> None:
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Node | str] = []

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def iter(self, *, templates: bool = True):
        for child in self.children:
            if isinstance(child, Node):
                yield child
                if templates or child.tag != "template":
                    yield from child.iter(templates=templates)

    def find_all(self, tag: str | None = None, templates: bool = False, **attrs) -> list[Node]:
        return [n for n in self.iter(templates=templates) if (tag is None or n.tag == tag)
                and all(n.attrs.get(k.replace("_", "-")) == v for k, v in attrs.items())]

    def find(self, tag: str | None = None, **attrs) -> Node:
        found = self.find_all(tag, **attrs)
        assert found, f"no <{tag}> with {attrs}"
        return found[0]

    def ancestors(self):
        node = self.parent
        while node is not None:
            yield node
            node = node.parent

    def __repr__(self) -> str:
        return f"<{self.tag} {self.attrs}>"


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = self.current = Node("#root", {}, None)

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: ("" if v is None else v) for k, v in attrs}, self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_endtag(self, tag):
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        assert node is not None, f"stray </{tag}>"
        self.current = node.parent

    def handle_data(self, data):
        self.current.children.append(data)


def dom(html) -> Node:
    builder = _TreeBuilder()
    builder.feed(str(html))
    builder.close()
    assert builder.current is builder.root, "unclosed element"
    return builder.root


def control(root: Node, name: str) -> Node:
    """The visible control (not the hidden companion) named ``name`` outside templates."""
    found = [n for n in root.find_all(name=name) if n.attrs.get("type") != "hidden"]
    assert found, f"no control named {name}"
    return found[0]


def rows_of(array: Node) -> list[Node]:
    """The rows of an array fieldset (not those of arrays nested in them)."""
    return [c for c in array.find("ol").children if isinstance(c, Node) and c.tag == "li"]


def template_of(array: Node) -> Node:
    return next(c for c in array.children if isinstance(c, Node) and c.tag == "template")


def label_text(root: Node, field_id: str) -> str:
    labels = root.find_all("label", **{"for": field_id})
    assert len(labels) == 1, f"{len(labels)} labels for {field_id}"
    return " ".join(labels[0].text().split())


def described(root: Node, node: Node) -> list[str]:
    return [" ".join(root.find(id=i).text().split()) for i in node.attrs.get("aria-describedby", "").split()]


def hidden_state(node: Node) -> bool:
    return any("hidden" in a.attrs for a in [node, *node.ancestors()])


def submitted(root: Node) -> MultiDict:
    """What a browser submits for the markup: enabled controls outside <template>."""
    pairs = []
    for node in root.iter(templates=False):
        if "name" not in node.attrs or node.tag not in ("input", "select", "textarea"):
            continue
        if "disabled" in node.attrs or any(a.tag == "fieldset" and "disabled" in a.attrs for a in node.ancestors()):
            continue
        name, kind = node.attrs["name"], node.attrs.get("type", "text")
        if node.tag == "textarea":
            pairs.append((name, node.text()))
        elif node.tag == "select":
            options = node.find_all("option")
            chosen = [o for o in options if "selected" in o.attrs]
            if not chosen and "multiple" not in node.attrs and options:
                chosen = options[:1]
            pairs += [(name, o.attrs.get("value", o.text())) for o in chosen]
        elif kind in ("checkbox", "radio"):
            if "checked" in node.attrs:
                pairs.append((name, node.attrs.get("value", "on")))
        else:
            pairs.append((name, node.attrs.get("value", "")))
    return MultiDict(pairs)


def replace(form: MultiDict, **values) -> MultiDict:
    out = MultiDict(form)
    for key, value in values.items():
        out.setlist(key.replace("__", "."), value if isinstance(value, list) else [value])
    return out


# -- schemas ----------------------------------------------------------------------------------------------
PERSON = {
    "type": "object",
    "required": ["name", "email"],
    "properties": {
        "name": {"type": "string", "title": "姓名", "description": "与学籍一致", "minLength": 2, "maxLength": 20,
                 "pattern": "^[^0-9]+$"},
        "email": {"type": "string", "format": "email", "title": "邮箱"},
        "birthday": {"type": "string", "format": "date", "title": "生日"},
        "meeting": {"type": "string", "format": "date-time", "title": "面谈时间"},
        "note": {"type": "string", "title": "备注"},
        "age": {"type": "integer", "title": "年龄", "minimum": 3, "maximum": 20},
        "score": {"type": "number", "title": "分数", "exclusiveMinimum": 0, "maximum": 100, "multipleOf": 0.5},
        "height": {"type": "number", "title": "身高"},
        "consent": {"type": "boolean", "title": "同意"},
    },
}


def render(schema, ui=None, data=None, **kw):
    result = render_form(schema, ui, data, **kw)
    return result, dom(result.html)


# -- labels, required, types ------------------------------------------------------------------------------
def test_every_control_has_a_label_linked_by_for_and_id():
    result, root = render(PERSON)
    controls = [n for n in root.find_all() if n.tag in ("input", "select", "textarea")
                and n.attrs.get("type") != "hidden"]
    assert len(controls) == 9
    ids = [n.attrs["id"] for n in root.find_all() if "id" in n.attrs]
    assert len(ids) == len(set(ids))
    for node in controls:
        assert node.attrs["id"] == node.attrs["name"]
        assert label_text(root, node.attrs["id"])
    assert label_text(root, "f.note") == "备注"
    assert result.unsupported == []


def test_required_fields_have_the_attribute_and_a_visible_marker():
    _, root = render(PERSON)
    assert "required" in control(root, "f.name").attrs
    assert "required" not in control(root, "f.note").attrs
    label = root.find("label", **{"for": "f.name"})
    marker = label.find("span", **{"class": "required"})
    assert marker.text().strip() == "*" and "hidden" not in marker.attrs
    assert not root.find("label", **{"for": "f.note"}).find_all("span", **{"class": "required"})


def test_string_formats_and_constraints_become_input_types_and_attributes():
    _, root = render(PERSON)
    name = control(root, "f.name")
    assert (name.attrs["type"], name.attrs["minlength"], name.attrs["maxlength"]) == ("text", "2", "20")
    assert name.attrs["pattern"] == "^[^0-9]+$"
    assert control(root, "f.email").attrs["type"] == "email"
    assert control(root, "f.birthday").attrs["type"] == "date"
    assert control(root, "f.meeting").attrs["type"] == "datetime-local"


def test_an_unanchored_pattern_is_wrapped_so_html_matches_anywhere():
    _, root = render({"type": "object", "properties": {"code": {"type": "string", "pattern": "[A-Z]{2}"}}})
    assert control(root, "f.code").attrs["pattern"] == r"[\s\S]*(?:[A-Z]{2})[\s\S]*"


def test_numbers_get_min_max_and_step():
    _, root = render(PERSON)
    age = control(root, "f.age")
    assert (age.attrs["type"], age.attrs["min"], age.attrs["max"], age.attrs["step"]) == ("number", "3", "20", "1")
    score = control(root, "f.score")
    assert (score.attrs["min"], score.attrs["max"], score.attrs["step"]) == ("0", "100", "0.5")
    assert control(root, "f.height").attrs["step"] == "any"


def test_integer_exclusive_bounds_and_multiple_of_keep_min_on_the_step_grid():
    schema = {"type": "object", "properties": {
        "n": {"type": "integer", "exclusiveMinimum": 1, "exclusiveMaximum": 50, "multipleOf": 5}}}
    _, root = render(schema)
    n = control(root, "f.n")
    assert (n.attrs["min"], n.attrs["max"], n.attrs["step"]) == ("5", "49", "5")


def test_textarea_widget_uses_rows_and_other_ui_options():
    ui = {"note": {"ui:widget": "textarea", "ui:options": {"rows": 5}, "ui:placeholder": "写点什么",
                   "ui:autofocus": True, "ui:help": "最多 200 字"},
          "name": {"ui:readonly": True, "ui:title": "学生姓名"}, "email": {"ui:disabled": True}}
    _, root = render(PERSON, ui, {"note": "hi", "name": "张三", "email": "a@b.cn"})
    note = control(root, "f.note")
    assert note.tag == "textarea" and note.attrs["rows"] == "5" and note.text() == "hi"
    assert note.attrs["placeholder"] == "写点什么" and "autofocus" in note.attrs
    assert described(root, note) == ["最多 200 字"]
    assert "readonly" in control(root, "f.name").attrs and label_text(root, "f.name").startswith("学生姓名")
    assert "disabled" in control(root, "f.email").attrs
    assert submitted(root).getlist("f.email") == ["a@b.cn"]  # a disabled field keeps its value


def test_data_wins_over_default():
    schema = {"type": "object", "properties": {"city": {"type": "string", "default": "杭州"},
                                               "town": {"type": "string", "default": "西湖"}}}
    _, root = render(schema, data={"city": "宁波"})
    assert control(root, "f.city").attrs["value"] == "宁波"
    assert control(root, "f.town").attrs["value"] == "西湖"


# -- enums ------------------------------------------------------------------------------------------------
GRADE = {"type": "object", "properties": {
    "grade": {"type": "integer", "title": "年级",
              "oneOf": [{"const": 1, "title": "一年级"}, {"const": 2, "title": "二年级"}, {"const": 3, "title": "三年级"}]},
    "term": {"type": "string", "enum": ["spring", "autumn"], "title": "学期"},
}}


def test_enum_is_a_select_with_titles_from_one_of_const():
    _, root = render(GRADE, data={"grade": 2})
    grade = control(root, "f.grade")
    assert grade.tag == "select"
    options = [(o.attrs["value"], o.text(), "selected" in o.attrs) for o in grade.find_all("option")]
    assert options == [("", "请选择…", False), ("1", "一年级", False), ("2", "二年级", True), ("3", "三年级", False)]


def test_radio_widget_renders_a_fieldset_with_legend_and_enum_names():
    ui = {"term": {"ui:widget": "radio", "ui:enumNames": ["春季", "秋季"], "ui:options": {"inline": True}}}
    _, root = render({**GRADE, "required": ["term"]}, ui, {"term": "autumn"})
    group = root.find("fieldset", data_field="f.term")
    assert "inline" in group.attrs["class"] and group.find("legend").text().startswith("学期")
    radios = group.find_all("input", type="radio")
    assert [r.attrs["value"] for r in radios] == ["spring", "autumn"]
    assert ["checked" in r.attrs for r in radios] == [False, True]
    assert all("required" in r.attrs for r in radios)
    assert [label_text(root, r.attrs["id"]) for r in radios] == ["春季", "秋季"]


def test_boolean_widgets():
    schema = {"type": "object", "properties": {"a": {"type": "boolean"}, "b": {"type": "boolean"},
                                               "c": {"type": "boolean"}}}
    _, root = render(schema, {"b": {"ui:widget": "radio"}, "c": {"ui:widget": "select"}},
                     {"a": True, "b": False}, lang="en")
    assert control(root, "f.a").attrs["type"] == "checkbox" and "checked" in control(root, "f.a").attrs
    radios = root.find_all("input", name="f.b", type="radio")
    assert [(label_text(root, r.attrs["id"]), "checked" in r.attrs) for r in radios] == [("Yes", False), ("No", True)]
    assert [o.attrs["value"] for o in control(root, "f.c").find_all("option")] == ["", "true", "false"]


def test_unique_enum_array_renders_checkboxes():
    schema = {"type": "object", "properties": {"subjects": {
        "type": "array", "title": "科目", "uniqueItems": True,
        "items": {"type": "string", "oneOf": [{"const": "math", "title": "数学"}, {"const": "art", "title": "美术"}]}}}}
    _, root = render(schema, {"subjects": {"ui:widget": "checkboxes"}}, {"subjects": ["art"]})
    group = root.find("fieldset", data_field="f.subjects")
    boxes = group.find_all("input", type="checkbox")
    assert [(b.attrs["value"], "checked" in b.attrs, label_text(root, b.attrs["id"])) for b in boxes] == [
        ("math", False, "数学"), ("art", True, "美术")]
    assert parse_form(schema, submitted(root)) == {"subjects": ["art"]}


# -- objects and order ------------------------------------------------------------------------------------
ADDRESS = {"type": "object", "properties": {
    "name": {"type": "string"},
    "address": {"type": "object", "title": "地址", "required": ["city"], "properties": {
        "province": {"type": "string", "title": "省"}, "city": {"type": "string", "title": "市"},
        "street": {"type": "string", "title": "街道"}}},
    "phone": {"type": "string"},
}}


def test_nested_objects_are_fieldsets_with_a_legend():
    _, root = render(ADDRESS, data={"address": {"city": "温州"}})
    fieldset = root.find("fieldset", data_field="f.address")
    assert fieldset.find("legend").text() == "地址"
    city = control(fieldset, "f.address.city")
    assert city.attrs["value"] == "温州" and "required" in city.attrs
    assert label_text(root, "f.address.city").startswith("市")


def test_ui_order_is_respected_with_wildcard():
    ui = {"ui:order": ["phone", "*", "name"], "address": {"ui:order": ["street", "city"]}}
    _, root = render(ADDRESS, ui)
    names = [n.attrs["name"] for n in root.find_all("input")]
    assert names == ["f.phone", "f.address.street", "f.address.city", "f.address.province", "f.name"]


# -- arrays -----------------------------------------------------------------------------------------------
CLASSROOM = {"type": "object", "properties": {
    "tags": {"type": "array", "title": "标签", "items": {"type": "string"}},
    "students": {"type": "array", "title": "学生", "minItems": 2, "items": {
        "type": "object", "title": "学生", "required": ["name"], "properties": {
            "name": {"type": "string", "title": "姓名"},
            "present": {"type": "boolean", "title": "到校"},
            "scores": {"type": "array", "items": {"type": "integer"}}}}},
}}


def test_arrays_render_existing_items_plus_a_template_row():
    data = {"tags": ["a", "b", "c"], "students": [{"name": "甲", "scores": [90, 85]}]}
    _, root = render(CLASSROOM, data=data)
    tags = root.find("fieldset", data_array="f.tags")
    assert [control(root, f"f.tags.{i}").attrs["value"] for i in range(3)] == ["a", "b", "c"]
    assert len(rows_of(tags)) == 3
    assert label_text(root, "f.tags.1") == "标签 2"
    assert [b.text() for b in tags.find_all("button")][-1].startswith("添加")
    assert all(b.attrs["type"] == "button" for b in tags.find_all("button", templates=True))
    template = template_of(tags)
    assert [n.attrs["name"] for n in template.find_all("input")] == ["f.tags.__index__"]
    students = root.find("fieldset", data_array="f.students")
    rows = rows_of(students)
    assert len(rows) == 2  # minItems
    assert control(root, "f.students.0.scores.1").attrs["value"] == "85"
    assert "required" in control(root, "f.students.0.name").attrs
    assert "required" in control(root, "f.students.1.name").attrs  # within minItems: must be filled
    assert all(r.find("button", data_lowcode="remove") for r in rows)


def test_an_empty_array_gets_one_blank_row_that_may_stay_empty():
    _, root = render(CLASSROOM, data={"students": []}, ui={"students": {"ui:options": {"addable": False}}})
    assert control(root, "f.tags.0").attrs.get("value") is None
    assert not root.find_all(name="f.tags.1")
    schema = {"type": "object", "properties": {"people": {"type": "array", "items": CLASSROOM["properties"][
        "students"]["items"]}}}
    _, root = render(schema)
    assert "required" not in control(root, "f.people.0.name").attrs  # an untouched blank row can be submitted
    template = template_of(root.find("fieldset", data_array="f.people"))
    assert "required" in template.find("input", name="f.people.__index__.name").attrs  # an added row cannot
    assert parse_form(schema, submitted(root)) == {}


# -- oneOf options ----------------------------------------------------------------------------------------
CONTACT = {"type": "object", "properties": {"contact": {"title": "联系方式", "oneOf": [
    {"title": "电话", "properties": {"kind": {"const": "phone"}, "number": {"type": "string", "title": "号码"}},
     "required": ["kind", "number"]},
    {"title": "邮件", "properties": {"kind": {"const": "email"}, "address": {"type": "string", "format": "email"}},
     "required": ["kind", "address"]},
]}}}


def test_one_of_objects_render_a_selector_and_one_fieldset_per_option():
    _, root = render(CONTACT, data={"contact": {"kind": "email", "address": "a@b.cn"}})
    selector = control(root, "f.contact.~option")
    assert [(o.attrs["value"], o.text()) for o in selector.find_all("option")][1:] == [("0", "电话"), ("1", "邮件")]
    assert selector.find("option", value="1").attrs.get("selected") == ""
    options = root.find_all("fieldset", **{"class": "option"})
    assert [(o.attrs["data-option"], o.find("legend").text(), "hidden" in o.attrs) for o in options] == [
        ("0", "电话", True), ("1", "邮件", False)]
    assert json.loads(options[0].attrs["data-show-if"]) == {"field": "f.contact.~option", "in": ["0"]}
    assert parse_form(CONTACT, submitted(root)) == {"contact": {"kind": "email", "address": "a@b.cn"}}


def test_one_of_radio_selector():
    _, root = render(CONTACT, {"contact": {"ui:widget": "radio"}})
    radios = root.find_all("input", type="radio", name="f.contact.~option")
    assert [label_text(root, r.attrs["id"]) for r in radios] == ["电话", "邮件"]
    assert "checked" in radios[0].attrs


# -- conditions -------------------------------------------------------------------------------------------
LEAVE = {"type": "object", "required": ["kind"], "properties": {
    "kind": {"type": "string", "title": "类型", "enum": ["sick", "personal"]},
    "days": {"type": "integer", "title": "天数"},
}, "if": {"properties": {"kind": {"const": "sick"}}, "required": ["kind"]},
    "then": {"properties": {"hospital": {"type": "string", "title": "医院"}}, "required": ["hospital"]},
    "else": {"properties": {"reason": {"type": "string", "title": "事由"}}}}


def test_if_then_else_fields_carry_data_show_if_and_start_hidden_by_data():
    _, root = render(LEAVE, data={"kind": "sick"})
    hospital, reason = control(root, "f.hospital"), control(root, "f.reason")
    then_set = next(a for a in hospital.ancestors() if "data-show-if" in a.attrs)
    else_set = next(a for a in reason.ancestors() if "data-show-if" in a.attrs)
    assert json.loads(then_set.attrs["data-show-if"]) == {"field": "f.kind", "in": ["sick"]}
    assert json.loads(else_set.attrs["data-show-if"]) == {"not": {"field": "f.kind", "in": ["sick"]}}
    assert not hidden_state(hospital) and hidden_state(reason)
    assert "disabled" in else_set.attrs and "required" in hospital.attrs
    _, root = render(LEAVE, data={"kind": "personal"})
    assert hidden_state(control(root, "f.hospital")) and not hidden_state(control(root, "f.reason"))
    names = [n.attrs["name"] for n in root.find_all("input")]
    assert names.index("f.hospital") == names.index("f.days") - 2  # right after the field that controls it


def test_dependencies_schema_and_property():
    schema = {"type": "object", "properties": {
        "card": {"type": "string", "title": "卡号"}, "billing": {"type": "string", "title": "账单地址"}},
        "dependencies": {"card": ["billing"],
                         "billing": {"properties": {"zip": {"type": "string", "title": "邮编"}}}}}
    _, root = render(schema, data={"billing": "x"})
    zip_set = next(a for a in control(root, "f.zip").ancestors() if "data-show-if" in a.attrs)
    assert json.loads(zip_set.attrs["data-show-if"]) == {"field": "f.billing", "present": True}
    assert "hidden" not in zip_set.attrs
    billing = root.find("div", data_field="f.billing")
    assert json.loads(billing.attrs["data-required-if"]) == {"field": "f.card", "present": True}
    assert "required" not in control(root, "f.billing").attrs
    assert "hidden" in billing.find("span", **{"class": "required"}).attrs
    _, root = render(schema, data={"card": "1"})
    assert hidden_state(control(root, "f.zip")) and "required" in control(root, "f.billing").attrs


def test_rjsf_one_of_dependencies_show_fields_for_the_chosen_value():
    schema = {"type": "object", "properties": {"role": {"type": "string", "enum": ["teacher", "parent"]}},
              "dependencies": {"role": {"oneOf": [
                  {"properties": {"role": {"enum": ["teacher"]}, "subject": {"type": "string"}}},
                  {"properties": {"role": {"enum": ["parent"]}, "child": {"type": "string"}}}]}}}
    result, root = render(schema, data={"role": "parent"})
    assert hidden_state(control(root, "f.subject")) and not hidden_state(control(root, "f.child"))
    subject_set = next(a for a in control(root, "f.subject").ancestors() if "data-show-if" in a.attrs)
    assert json.loads(subject_set.attrs["data-show-if"]) == {"field": "f.role", "in": ["teacher"]}
    assert result.unsupported == []
    form = replace(submitted(root), f__child="小明")
    assert parse_form(schema, form) == {"role": "parent", "child": "小明"}


# -- bindings ---------------------------------------------------------------------------------------------
BOUND = {"type": "object", "properties": {
    "student": {"type": "string", "title": "学生", "x-jizuo-binding": "student"},
    "klass": {"type": "string", "title": "班级", "x-jizuo-binding": "class"}}}


def test_bindings_use_only_the_picker_options():
    pickers = {"student": [("s1", "张三"), ("s2", "李四")]}
    result, root = render(BOUND, data={"student": "s2", "klass": "c9"}, pickers=pickers)
    student = control(root, "f.student")
    assert [(o.attrs["value"], o.text(), "selected" in o.attrs) for o in student.find_all("option")] == [
        ("", "请选择…", False), ("s1", "张三", False), ("s2", "李四", True)]
    klass = control(root, "f.klass")
    assert [o.attrs["value"] for o in klass.find_all("option")] == [""]  # no picker: nothing to choose
    notes = [n.text() for n in root.find("div", data_field="f.klass").find_all("p", role="note")]
    assert "没有可选的班级" in notes and any("不在可选范围" in n for n in notes)
    assert "c9" not in str(result.html)


# -- errors, unsupported, escaping ------------------------------------------------------------------------
def test_errors_are_shown_next_to_the_field_with_aria():
    errors = {"name": "请填写姓名", "address.city": "请选择城市", "missing.path": "整体错误"}
    _, root = render(ADDRESS, data={"name": ""}, errors=errors)
    city = control(root, "f.address.city")
    assert city.attrs["aria-invalid"] == "true"
    assert described(root, city) == ["请选择城市"]
    error = root.find(id=city.attrs["aria-describedby"])
    assert error.parent is city.parent and "field-error" in error.attrs["class"]
    assert "aria-invalid" not in control(root, "f.phone").attrs
    summary = root.find("div", **{"class": "error-summary"})
    links = [(a.attrs["href"], a.text()) for a in summary.find_all("a")]
    assert links == [("#f.name", "name：请填写姓名"), ("#f.address.city", "市：请选择城市")]
    assert "整体错误" in summary.text()


def test_array_item_errors_use_indexed_paths():
    data = {"students": [{"name": ""}, {"name": "乙"}]}
    _, root = render(CLASSROOM, data=data, errors={"students.0.name": "必填"})
    name = control(root, "f.students.0.name")
    assert name.attrs["aria-invalid"] == "true" and described(root, name) == ["必填"]


def test_unknown_widget_and_unsupported_parts_are_reported_in_words_and_visible():
    schema = {"type": "object", "properties": {
        "nick": {"type": "string", "title": "昵称"},
        "extra": {"type": "object", "title": "扩展", "patternProperties": {"^x-": {"type": "string"},
                                                                          "^y-": {"type": "integer"}}}}}
    result, root = render(schema, {"nick": {"ui:widget": "rainbow"}})
    assert result.unsupported == ["/properties/nick: Unknown widget: rainbow",
                                  "/properties/extra/patternProperties: patternProperties with several value "
                                  "schemas are not supported; with one, names and values are filled in as rows"]
    notes = root.find_all("p", **{"class": "unsupported"})
    assert len(notes) == 2 and all(n.attrs["role"] == "note" for n in notes)
    assert notes[0].text() == "昵称：未知的控件：rainbow"
    assert control(root, "f.nick").attrs["type"] == "text"  # still usable


@pytest.mark.parametrize(("prop", "expected"), [
    ({"$ref": "https://example.org/s.json"}, "/properties/x: refers to another document (https://example.org/s.json); "
                                             "a form can only refer to definitions inside itself"),
    ({"type": "string", "not": {"const": "a"}},
     "/properties/x/not: 'not' is not supported (the page cannot tell which values are refused)"),
    ({"type": "array", "prefixItems": [{"type": "string"}], "minItems": 2},
     "/properties/x: a tuple array asking for more items than it has positions is not supported"),
    ({"type": "array", "items": {"type": "string"}, "contains": {"const": "a"}},
     "/properties/x/contains: 'contains' is not supported"),
    ({"type": "string", "format": "data-url"}, "/properties/x: file uploads (format: data-url) are not supported"),
])
def test_other_unsupported_constructs_are_listed(prop, expected):
    result, root = render({"type": "object", "properties": {"x": prop}}, lang="en")
    assert result.unsupported == [expected]
    assert root.find("p", **{"class": "unsupported"}).text().startswith("x: ")


def test_everything_from_the_schema_is_escaped():
    evil = "<script>alert(1)</script>"
    schema = {"type": "object", "description": evil, "properties": {
        "a": {"type": "string", "title": evil, "description": evil, "default": '"><script>x()</script>'},
        "b": {"type": "string", "enum": [evil, "ok"]}}}
    result, root = render(schema, {"a": {"ui:help": evil}}, errors={"a": evil})
    assert "<script" not in str(result.html)
    assert not root.find_all("script", templates=True)
    assert label_text(root, "f.a") == evil
    assert control(root, "f.a").attrs["value"] == '"><script>x()</script>'
    assert control(root, "f.b").find("option", value=evil).text() == evil


def test_internal_refs_and_all_of_are_resolved():
    schema = {"type": "object", "$defs": {"name": {"type": "string", "title": "名字", "minLength": 1}},
              "allOf": [{"properties": {"first": {"$ref": "#/$defs/name"}}, "required": ["first"]},
                        {"properties": {"last": {"$ref": "#/$defs/name", "title": "姓"}}}]}
    result, root = render(schema)
    assert result.unsupported == []
    assert label_text(root, "f.first").startswith("名字") and "required" in control(root, "f.first").attrs
    assert label_text(root, "f.last") == "姓"


def test_english_labels():
    _, root = render(CLASSROOM, lang="en")
    buttons = [b.text() for b in root.find_all("button")]
    assert "Add 标签" in [" ".join(b.split()) for b in buttons] and any(b.startswith("Remove") for b in buttons)
    _, root = render(GRADE, lang="en")
    assert control(root, "f.term").find("option").text() == "Choose…"


# -- parse_form ---------------------------------------------------------------------------------------------
def test_parse_form_round_trips_a_filled_form():
    schema = {"type": "object", "required": ["name"], "properties": {
        **PERSON["properties"], **ADDRESS["properties"], **CLASSROOM["properties"], **GRADE["properties"],
        "active": {"type": "boolean"}}}
    document = {
        "name": "王小明", "email": "x@y.cn", "birthday": "2015-09-01", "meeting": "2024-05-01T08:30:00+08:00",
        "age": 9, "score": 88.5, "height": 1.32, "consent": True, "active": False,
        "address": {"city": "杭州", "street": "文三路 1 号"}, "phone": "0571",
        "tags": ["a", "b"], "grade": 3, "term": "autumn",
        "students": [{"name": "甲", "present": True, "scores": [90, 85]},
                     {"name": "乙", "present": False, "scores": []}],
    }
    _, root = render(schema, data=document)
    parsed = parse_form(schema, submitted(root))
    expected = {**document, "students": [document["students"][0], {"name": "乙", "present": False}]}
    assert parsed == expected
    assert type(parsed["age"]) is int and type(parsed["grade"]) is int and parsed["consent"] is True
    jsonschema.validate(parsed, schema)


def test_parse_form_types_and_leaves_out_blank_values():
    form = MultiDict([("f.name", "李"), ("f.email", ""), ("f.age", "12"), ("f.score", "7.5"), ("f.height", "abc"),
                      ("f.consent", "false"), ("f.consent", "true"), ("f.note", "")])
    assert parse_form(PERSON, form) == {"name": "李", "age": 12, "score": 7.5, "height": "abc", "consent": True}


def test_parse_form_rebuilds_arrays_in_index_order_and_drops_blank_rows():
    form = MultiDict([("f.tags.2", "c"), ("f.tags.0", "a"), ("f.tags.1", ""),
                      ("f.students.1.name", "乙"), ("f.students.1.present", "false"),
                      ("f.students.0.name", "甲"), ("f.students.0.scores.0", "1"),
                      ("f.students.3.name", ""), ("f.students.3.present", "false")])
    assert parse_form(CLASSROOM, form) == {"tags": ["a", "c"], "students": [
        {"name": "甲", "scores": [1]}, {"name": "乙", "present": False}]}


def test_parse_form_keeps_only_the_branch_whose_condition_holds():
    form = MultiDict([("f.kind", "personal"), ("f.hospital", "市一医院"), ("f.reason", "家事")])
    assert parse_form(LEAVE, form) == {"kind": "personal", "reason": "家事"}
    form = MultiDict([("f.kind", "sick"), ("f.hospital", "市一医院"), ("f.reason", "家事")])
    assert parse_form(LEAVE, form) == {"kind": "sick", "hospital": "市一医院"}


# -- lowcode.js in a real browser -------------------------------------------------------------------------
LOWCODE_JS = Path(__file__).resolve().parents[2] / "admin" / "lowcode" / "static" / "lowcode.js"
CHROMIUM = "/usr/bin/chromium"


@pytest.mark.browser
def test_lowcode_js_adds_and_removes_rows_and_toggles_conditions(browser):
    schema = {"type": "object", "required": ["kind"], "properties": {
        **CLASSROOM["properties"], **CONTACT["properties"], **LEAVE["properties"]},
        "if": LEAVE["if"], "then": LEAVE["then"], "else": LEAVE["else"]}
    result = render_form(schema, data={"students": [{"name": "甲", "scores": [1]}, {"name": "乙"}]})
    try:
        page = browser.new_page()
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.set_content(f"<!doctype html><form id=f>{result.html}</form>")
        page.add_script_tag(path=str(LOWCODE_JS))
        students = 'fieldset[data-array="f.students"]'
        page.click(f'{students} > button[data-lowcode="add"]')
        page.fill('[name="f.students.2.name"]', "丙")
        page.click('fieldset[data-array="f.students.2.scores"] > button[data-lowcode="add"]')
        page.fill('[name="f.students.2.scores.0"]', "7")
        page.click(f'{students} > ol > li:first-child > button[data-lowcode="remove"]')
        assert page.eval_on_selector_all(f"{students} > ol > li > fieldset > legend .row-number",
                                         "els => els.map(e => e.textContent)") == ["1", "2"]
        assert page.input_value("#f\\.students\\.1\\.name") == "丙"  # ids follow the names
        assert page.get_attribute('label[for="f.students.1.name"]', "for") == "f.students.1.name"
        assert page.is_visible('[name="f.reason"]') and not page.is_visible('[name="f.hospital"]')
        page.select_option('[name="f.kind"]', "sick")
        assert page.is_visible('[name="f.hospital"]') and not page.is_visible('[name="f.reason"]')
        page.fill('[name="f.hospital"]', "市一医院")
        page.select_option('[name="f.contact.~option"]', "1")
        page.fill('[name="f.contact.address"]', "a@b.cn")
        form = MultiDict(page.evaluate("() => [...new FormData(document.getElementById('f')).entries()]"))
        assert errors == []
    finally:
        page.close()
    assert parse_form(schema, form) == {
        "kind": "sick", "hospital": "市一医院", "contact": {"kind": "email", "address": "a@b.cn"},
        "students": [{"name": "乙", "present": False}, {"name": "丙", "present": False, "scores": [7]}]}
