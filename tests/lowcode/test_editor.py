"""The form editor as a teacher uses it: labels in both languages, keys made from the label once and kept,
options as rows, problems named by field in the viewer's language, copies named "… 副本", a preview as a
parent will see it, and no lineage or internal ids shown to families."""
from __future__ import annotations

import json
import re

import pytest

from foundation.lowcode import editor
from foundation.lowcode import forms as svc

LEAVE = {
    "type": "object",
    "required": ["kind", "days"],
    "properties": {
        "kind": {"type": "string", "title": "请假类型", "oneOf": [{"const": "sick", "title": "病假"},
                                                              {"const": "personal", "title": "事假"}]},
        "days": {"type": "integer", "title": "天数", "minimum": 1, "maximum": 30, "default": 1},
        "phone": {"type": "string", "title": "电话", "pattern": "^1[3-9][0-9]{9}$"},
    },
    "if": {"properties": {"phone": {"const": "x"}}, "required": ["phone"]}, "then": {"required": ["days"]},
}


def _doc(schema=LEAVE, ui=None, published=None):
    return editor.editor_document(schema, ui or {}, published)["fields"]


def test_keys_come_from_the_label_once_and_never_change():
    fields = _doc()
    assert [f["key"] for f in fields] == ["kind", "days", "phone"] and fields[0]["kind"] == "select"
    fields[0]["label"] = {"zh": "请假类别", "en": "Kind of leave"}  # a published field renamed: same key
    fields += [{"ref": "new-1", "label": {"zh": "接送人", "en": "Pick-up person"}, "kind": "text"},
               {"ref": "new-2", "label": {"zh": "备注"}, "kind": "textarea"},
               {"ref": "new-3", "label": {"zh": "紧急联系人", "en": "Phone"}, "kind": "text"}]
    schema, ui, renamed = editor.apply_editor(LEAVE, {}, fields, published={"kind": {"sick", "personal"}, "note": set()})
    assert list(schema["properties"]) == ["kind", "days", "phone", "pick_up_person", "field_1", "phone_2"]
    assert renamed == {"new-1": "pick_up_person", "new-2": "field_1", "new-3": "phone_2"}
    kind = schema["properties"]["kind"]
    assert kind["title"] == "请假类别" and kind["x-jizuo-title"] == {"zh": "请假类别", "en": "Kind of leave"}
    # what the editor does not show is kept: the pattern, the default, the condition on kept fields
    assert schema["properties"]["phone"]["pattern"] == "^1[3-9][0-9]{9}$" and "if" in schema
    assert schema["properties"]["days"]["default"] == 1 and ui["ui:order"][-1] == "phone_2"
    assert ui["field_1"] == {"ui:widget": "textarea"}
    # saved again, as the editor sends it back: nothing moves; a removed field takes its condition with it
    again = _doc(schema, ui)
    same, _, none = editor.apply_editor(schema, ui, again)
    assert same["properties"] == schema["properties"] and none == {}
    without, _, _ = editor.apply_editor(schema, ui, [f for f in again if f["key"] != "phone"])
    assert "if" not in without and "then" not in without
    # a key of a published version is never given to a new field (old submissions keep their meaning)
    back, _, _ = editor.apply_editor(without, {}, [*_doc(without), {"label": {"en": "Phone"}, "kind": "text"}],
                                  published={"phone": set(), "phone_2": set()})
    assert "phone_3" in back["properties"]


def test_option_rows_become_the_choices_with_their_values_kept():
    fields = _doc()
    kind = fields[0]
    assert kind["options"] == [{"value": "sick", "label": {"zh": "病假", "en": ""}},
                               {"value": "personal", "label": {"zh": "事假", "en": ""}}]
    kind["options"] = [{"value": "personal", "label": {"zh": "事假", "en": "Personal"}},  # reordered
                       {"label": {"zh": "公假", "en": "School business"}},  # added, with no value
                       {"label": {"zh": "丧假"}}]  # the "sick" row removed
    schema, _, _ = editor.apply_editor(LEAVE, {}, fields, published={"kind": {"sick", "personal"}})
    assert schema["properties"]["kind"]["oneOf"] == [
        {"const": "personal", "title": "事假", "x-jizuo-title": {"zh": "事假", "en": "Personal"}},
        {"const": "school_business", "title": "公假", "x-jizuo-title": {"zh": "公假", "en": "School business"}},
        {"const": "option_1", "title": "丧假", "x-jizuo-title": {"zh": "丧假"}}]
    # a field turned into a choice by the editor, from enum + ui:enumNames
    doc = _doc({"type": "object", "properties": {"area": {"type": "string", "enum": ["a", "b"], "title": "区域"}}},
               {"area": {"ui:enumNames": ["教室", "走廊"]}})
    assert [o["label"]["zh"] for o in doc[0]["options"]] == ["教室", "走廊"] and doc[0]["kind"] == "select"


@pytest.mark.parametrize("lang, fields, where, message", [
    ("zh", [{"key": "kind", "label": {"zh": "请假类型"}, "kind": "radio", "options": []}], "fields/0/options",
     "选项不能为空：请假类型"),
    ("en", [{"key": "kind", "label": {"zh": "请假类型", "en": "Leave type"}, "kind": "select", "options": []}],
     "fields/0/options", "Options cannot be empty: Leave type"),
    ("zh", [{"key": "kind", "label": {"zh": "请假类型"}, "kind": "radio", "options": [{"label": {"zh": " "}}]}],
     "fields/0/options/0/label", "有一个选项没有名称：请假类型"),
    ("zh", [{"key": "days", "label": {"zh": "天数"}, "kind": "integer", "min": 5, "max": 2}], "fields/0/max",
     "最小值不能大于最大值：天数"),
    ("en", [{"key": "days", "label": {"zh": "天数"}, "kind": "integer"}, {"label": {"zh": ""}, "kind": "text"}],
     "fields/1/label", "Field 2 needs a label"),
])
def test_a_bad_field_is_named_in_the_viewers_language_and_nothing_is_written(users, lang, fields, where, message):
    teacher = users("homeroom_teacher", 0)
    form = teacher.post("/api/v1/forms", json={"title": "请假", "schema": LEAVE}).get_json()
    resp = teacher.put(f"/api/v1/forms/{form['id']}", json={"title": "改了", "fields": fields}, lang=lang)
    assert resp.status_code == 422 and resp.get_json()["error"]["fields"] == {where: message}
    after = teacher.get(f"/api/v1/forms/{form['id']}").get_json()
    assert after["title"]["zh"] == "请假" and after["draft"]["schema"] == LEAVE


def test_the_editor_saves_publishes_and_a_renamed_field_keeps_its_data(users):
    teacher = users("homeroom_teacher", 0)
    form = teacher.post("/api/v1/forms", json={"title": "请假", "schema": LEAVE}).get_json()
    fields = form["draft"]["fields"]
    fields.append({"ref": "new-1", "label": {"zh": "接送人", "en": "Pick-up person"}, "kind": "text"})
    app = {"views": [{"key": "main", "columns": ["kind", "new-1"]}],
           "rules": [{"key": "r1", "when": {"field": "new-1", "op": "empty"}, "then": {"message": {"to": "homeroom_teacher"}}}]}
    saved = teacher.put(f"/api/v1/forms/{form['id']}", json={"fields": fields, "app": app,
                                                              "description": {"zh": "请如实填写"},
                                                              "deadline": "2099-12-31"}).get_json()
    assert saved["renamed"] == {"new-1": "pick_up_person"} and saved["unpublished_changes"] is True
    assert saved["draft"]["app"]["views"][0]["columns"] == ["kind", "pick_up_person"]
    assert saved["draft"]["app"]["rules"][0]["when"]["field"] == "pick_up_person"
    assert saved["draft"]["description"] == {"zh": "请如实填写", "en": ""} and saved["draft"]["deadline"] == "2099-12-31"
    assert teacher.post(f"/api/v1/forms/{form['id']}/publish").status_code == 201
    data = {"kind": "sick", "days": 2, "pick_up_person": "爸爸"}
    assert teacher.post(f"/api/v1/forms/{form['id']}/submissions", json={"data": data}).status_code == 201
    fields = teacher.get(f"/api/v1/forms/{form['id']}").get_json()["draft"]["fields"]
    assert [f["published"] for f in fields] == [True] * 4
    fields[3]["label"] = {"zh": "谁来接", "en": "Who picks up"}
    v2 = teacher.put(f"/api/v1/forms/{form['id']}", json={"fields": fields}).get_json()
    assert "pick_up_person" in v2["draft"]["schema"]["properties"] and v2["unpublished_changes"] is True
    teacher.post(f"/api/v1/forms/{form['id']}/publish")
    subs = teacher.get(f"/api/v1/forms/{form['id']}/submissions").get_json()["items"]
    assert subs[0]["data"]["pick_up_person"] == "爸爸"
    app_page = teacher.get(f"/forms/{form['id']}/app").get_data(as_text=True)
    assert "谁来接" in app_page and "爸爸" in app_page
    # past its deadline a form takes nothing more
    teacher.put(f"/api/v1/forms/{form['id']}", json={"deadline": "2020-01-01"})
    teacher.post(f"/api/v1/forms/{form['id']}/publish")
    late = teacher.post(f"/api/v1/forms/{form['id']}/submissions", json={"data": data}, lang="en")
    assert late.status_code == 422 and late.get_json()["error"]["fields"] == {
        "_form": "The deadline has passed; no more submissions"}
    bad = teacher.put(f"/api/v1/forms/{form['id']}", json={"deadline": "31.12.2099"})
    assert bad.status_code == 422 and "deadline" in bad.get_json()["error"]["fields"]


def test_copies_are_named_and_the_preview_is_the_authors(app, users):
    from foundation import db
    from foundation.lowcode.forms import seed_templates
    from foundation.tenancy import unscoped

    with app.app_context():
        seed_templates(unscoped("test setup").mark(db.session()))
        db.session().commit()
    assert svc.copy_title({"zh": "请假 副本", "en": "Leave (copy)"}, [{"zh": "请假 副本", "en": "x"}]) == {
        "zh": "请假 副本 2", "en": "Leave (copy 2)"}
    teacher = users("homeroom_teacher", 0)
    page = teacher.get("/forms").get_data(as_text=True)
    leave = re.search(r'/forms/(\d+)/clone', page).group(1)
    first = teacher.post(f"/forms/{leave}/clone", data={})
    second = teacher.post(f"/forms/{leave}/clone", data={})
    assert first.status_code == second.status_code == 302 and second.headers["Location"].endswith("/edit")
    copy_id = int(second.headers["Location"].split("/")[-2])
    copy = teacher.get(f"/api/v1/forms/{copy_id}").get_json()
    assert copy["title"] == {"zh": "班级请假申请 副本 2", "en": "Class leave request (copy 2)"}
    assert copy["published_version"] is None and copy["unpublished_changes"] is True
    editing = teacher.get(f"/forms/{copy_id}/edit").get_data(as_text=True)
    assert "克隆自「班级请假申请」" in editing and "草稿 · 尚未发布" in editing
    # the preview: the draft as a family sees it, in the language asked for, framed only by the editor
    preview = teacher.get(f"/forms/{copy_id}/preview?preview_lang=en")
    assert preview.status_code == 200 and preview.headers["X-Frame-Options"] == "SAMEORIGIN"
    html = preview.get_data(as_text=True)
    assert "Leave type" in html and "Sick leave" in html and "Class leave request (copy 2)" in html
    assert re.search(r'<button type="submit" disabled>', html)
    fields = copy["draft"]["fields"]
    fields[1]["options"] = []
    unsaved = teacher.post(f"/forms/{copy_id}/preview", data={"preview_lang": "zh",
                                                              "definition": json.dumps({"fields": fields})})
    unsaved = unsaved.get_data(as_text=True)
    assert "选项不能为空：请假类型" in unsaved
    assert teacher.get(f"/api/v1/forms/{copy_id}").get_json()["draft"]["fields"][1]["options"]  # nothing saved
    assert users("subject_teacher", 0).get(f"/forms/{copy_id}/preview").status_code == 403


def test_families_see_no_lineage_and_whether_they_answered(users):
    teacher = users("homeroom_teacher", 0)
    source = teacher.post("/api/v1/forms", json={"title": "模板", "schema": LEAVE}).get_json()
    teacher.post(f"/api/v1/forms/{source['id']}/publish")
    copy = teacher.post(f"/api/v1/forms/{source['id']}/clone").get_json()
    assert copy["title"]["zh"] == "模板 副本" and copy["lineage"]["parent_form_id"] == source["id"]
    teacher.put(f"/api/v1/forms/{copy['id']}", json={
        "title": {"zh": "秋游报名", "en": "Autumn outing"}, "description": {"zh": "周五出发", "en": "We leave Friday"},
        "deadline": "2099-10-01", "app": {"audience": {"fill": ["parent"]}}})
    assert teacher.post(f"/api/v1/forms/{copy['id']}/publish").status_code == 201
    staff_list = teacher.get("/forms").get_data(as_text=True)
    assert "克隆自「模板」" in staff_list and "←" not in staff_list

    parent = users("parent", 0)
    for url in ("/forms", f"/forms/{copy['id']}/fill"):
        html = parent.get(url).get_data(as_text=True)
        assert "秋游报名" in html and "周五出发" in html and "截止 2099-10-01" in html
        assert "←" not in html and not re.search(r"#\d+ v\d", html) and "克隆自" not in html
        assert not re.search(r">\s*v\d+\s*<", html)  # no version number either
    assert "未提交" in parent.get("/forms").get_data(as_text=True)
    assert "lineage" not in parent.get(f"/api/v1/forms/{copy['id']}").get_json()
    done = parent.post(f"/forms/{copy['id']}/fill", data={"f.kind": "personal", "f.days": "2"})
    html = done.get_data(as_text=True)
    assert done.status_code == 200 and "已提交，谢谢！" in html and "事假" in html
    assert "已提交（1 次" in parent.get("/forms", lang="zh").get_data(as_text=True)
    english = parent.get(f"/forms/{copy['id']}/fill?lang=en").get_data(as_text=True)
    assert "Autumn outing" in english and "We leave Friday" in english and "Due 2099-10-01" in english
