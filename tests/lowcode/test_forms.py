"""Low-code forms: definition checks, immutable versions, clone with lineage, submissions validated per
field and kept under the version they were made with, two-school isolation."""
from __future__ import annotations

LEAVE = {
    "type": "object",
    "required": ["reason", "days"],
    "properties": {
        "reason": {"type": "string", "title": "请假原因", "minLength": 2, "maxLength": 200},
        "days": {"type": "integer", "title": "天数", "minimum": 1, "maximum": 30},
        "kind": {"type": "string", "enum": ["sick", "personal"], "title": "类型"},
    },
}


def _create(auth, schema=LEAVE, ui=None, title="请假申请"):
    resp = auth.post("/api/v1/forms", json={"title": title, "schema": schema, "ui_schema": ui or {}})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def test_publish_checks_the_definition(login):
    teacher = login("homeroom_teacher", 0)
    broken = _create(teacher, schema={"type": "object", "properties": {"x": {"type": "strng"}}})
    resp = teacher.post(f"/api/v1/forms/{broken['id']}/publish")
    assert resp.status_code == 422 and any(k.startswith("schema") for k in resp.get_json()["error"]["fields"])
    widget = _create(teacher, ui={"reason": {"ui:widget": "rainbow"}})
    fields = teacher.post(f"/api/v1/forms/{widget['id']}/publish").get_json()["error"]["fields"]
    assert fields == {"ui_schema/reason": "未知的控件：rainbow"}
    binding = _create(teacher, schema={"type": "object", "properties": {
        "who": {"type": "string", "x-jizuo-binding": "teacherz"}}})
    fields = teacher.post(f"/api/v1/forms/{binding['id']}/publish").get_json()["error"]["fields"]
    assert "schema/properties/who" in fields and "teacherz" in fields["schema/properties/who"]
    missing = _create(teacher, ui={"nope": {"ui:widget": "text"}})
    assert "ui_schema/nope" in teacher.post(f"/api/v1/forms/{missing['id']}/publish").get_json()["error"]["fields"]


def test_versions_are_immutable_and_submissions_keep_theirs(login):
    teacher = login("homeroom_teacher", 0)
    form = _create(teacher)
    assert teacher.post(f"/api/v1/forms/{form['id']}/submissions", json={"data": {}}).status_code == 422  # unpublished
    v1 = teacher.post(f"/api/v1/forms/{form['id']}/publish").get_json()
    assert v1["published_version"] == 1
    first = teacher.post(f"/api/v1/forms/{form['id']}/submissions", json={"data": {"reason": "发烧", "days": 2}})
    assert first.status_code == 201
    # the teacher adds a required field to the draft: version 1 is untouched until publish
    schema2 = {**LEAVE, "required": ["reason", "days", "phone"],
               "properties": {**LEAVE["properties"], "phone": {"type": "string", "title": "联系电话"}}}
    teacher.put(f"/api/v1/forms/{form['id']}", json={"schema": schema2})
    assert teacher.get(f"/api/v1/forms/{form['id']}").get_json()["published"]["version"] == 1
    assert teacher.post(f"/api/v1/forms/{form['id']}/publish").get_json()["published_version"] == 2
    bad = teacher.post(f"/api/v1/forms/{form['id']}/submissions", json={"data": {"reason": "发烧", "days": 40}})
    assert bad.get_json()["error"]["fields"] == {"days": "不能大于 30", "phone": "必填"}
    en = teacher.post(f"/api/v1/forms/{form['id']}/submissions", json={"data": {"reason": "x", "days": 1,
                                                                               "phone": "1"}}, lang="en")
    assert en.get_json()["error"]["fields"] == {"reason": "At least 2 characters"}
    teacher.post(f"/api/v1/forms/{form['id']}/submissions",
                 json={"data": {"reason": "家中有事", "days": 1, "phone": "13800000000"}})
    subs = teacher.get(f"/api/v1/forms/{form['id']}/submissions").get_json()["items"]
    assert [(s["version"], s["data"].get("phone")) for s in subs] == [(1, None), (2, "13800000000")]


def test_clone_and_adapt_keeps_lineage(login):
    author = login("homeroom_teacher", 0)
    form = _create(author)
    author.post(f"/api/v1/forms/{form['id']}/publish")
    other = login("subject_teacher", 0)
    copy = other.post(f"/api/v1/forms/{form['id']}/clone", json={"title": "我的请假表"}).get_json()
    assert copy["lineage"] == {"parent_form_id": form["id"], "parent_version": 1}
    assert copy["title"]["zh"] == "我的请假表" and copy["published_version"] is None
    other = login("subject_teacher", 0)
    schema = {**LEAVE, "properties": {**LEAVE["properties"], "note": {"type": "string"}}}
    updated = other.put(f"/api/v1/forms/{copy['id']}", json={"schema": schema}).get_json()
    assert updated["problems"] == {} and "note" in updated["draft"]["schema"]["properties"]
    author = login("homeroom_teacher", 0)
    refused = author.put(f"/api/v1/forms/{copy['id']}", json={"title": "改"})
    assert refused.status_code == 422 and "form" in refused.get_json()["error"]["fields"]


def test_forms_of_another_school_do_not_exist_for_you(login):
    a = login("homeroom_teacher", 0)
    form = _create(a)
    a.post(f"/api/v1/forms/{form['id']}/publish")
    b = login("homeroom_teacher", 1)
    for call in (b.get(f"/api/v1/forms/{form['id']}"), b.post(f"/api/v1/forms/{form['id']}/clone", json={}),
                 b.post(f"/api/v1/forms/{form['id']}/submissions", json={"data": {"reason": "xx", "days": 1}}),
                 b.get(f"/api/v1/forms/{form['id']}/submissions")):
        assert call.status_code == 404
    assert all(f["id"] != form["id"] for f in b.get("/api/v1/forms").get_json()["items"])


def test_a_parent_fills_in_but_cannot_create_or_read_others_submissions(login):
    teacher = login("homeroom_teacher", 0)
    form = _create(teacher)
    teacher.post(f"/api/v1/forms/{form['id']}/publish")
    teacher.post(f"/api/v1/forms/{form['id']}/submissions", json={"data": {"reason": "教师代填", "days": 2}})
    parent = login("parent", 0)
    assert parent.post(f"/api/v1/forms/{form['id']}/submissions",
                       json={"data": {"reason": "孩子发烧", "days": 1}}).status_code == 201
    assert parent.post("/api/v1/forms", json={"title": "x", "schema": LEAVE}).status_code == 403
    # the parent sees their own submission only, never the teacher's or another family's
    mine = parent.get(f"/api/v1/forms/{form['id']}/submissions").get_json()["items"]
    assert [s["data"]["reason"] for s in mine] == ["孩子发烧"]
    teacher = login("homeroom_teacher", 0)
    assert len(teacher.get(f"/api/v1/forms/{form['id']}/submissions").get_json()["items"]) == 2


def test_day_one_templates_are_there_to_clone(app, login):
    from foundation import db
    from foundation.lowcode.forms import seed_templates
    from foundation.tenancy import unscoped

    with app.app_context():
        sess = unscoped("test setup").mark(db.session())
        assert seed_templates(sess, plugin_templates=[]) == 4  # the core's own four
        sess.commit()
        assert seed_templates(unscoped("test setup").mark(db.session()), plugin_templates=[]) == 0  # idempotent
    teacher = login("homeroom_teacher", 1)
    forms = teacher.get("/api/v1/forms").get_json()["items"]
    templates = {f["title"]["zh"]: f for f in forms if f["school_id"] is None}
    assert set(templates) == {"班级请假申请", "卫生检查评分", "社团报名", "校内考勤登记"}
    leave = templates["班级请假申请"]
    copy = teacher.post(f"/api/v1/forms/{leave['id']}/clone", json={}).get_json()
    assert copy["lineage"]["parent_form_id"] == leave["id"]
    form = teacher.get(f"/api/v1/forms/{copy['id']}").get_json()
    assert form["draft"]["schema"]["if"] == {"properties": {"kind": {"const": "sick"}}, "required": ["kind"]}
    teacher.post(f"/api/v1/forms/{copy['id']}/publish")
    assert teacher.post(f"/api/v1/forms/{copy['id']}/submissions", json={"data": {}}).status_code == 403  # parents fill it
    parent = login("parent", 1)
    missing = parent.post(f"/api/v1/forms/{copy['id']}/submissions", json={"data": {
        "student": "x", "kind": "sick", "start": "2026-11-20", "days": 1, "reason": "发烧了"}})
    assert missing.get_json()["error"]["fields"] == {"symptoms": "必填"}  # the if/then rule holds


def test_a_teacher_clones_a_template_in_the_browser_shell_and_a_parent_fills_it(app, login, db_session):
    import re

    from foundation import db
    from foundation.lowcode.forms import seed_templates
    from foundation.tenancy import unscoped

    with app.app_context():
        seed_templates(unscoped("test setup").mark(db.session()))
        db.session().commit()
    teacher = login("homeroom_teacher", 0)
    page = teacher.get("/forms").get_data(as_text=True)
    assert "班级请假申请" in page and "区级模板" in page
    leave_id = re.search(r'/forms/(\d+)/clone', page).group(1)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    resp = teacher.client.post(f"/forms/{leave_id}/clone", data={"csrf_token": token})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/edit")  # the clone opens in the editor
    copy_id = int(resp.headers["Location"].split("/")[-2])
    editor = teacher.get(resp.headers["Location"]).get_data(as_text=True)
    assert 'id="definition"' in editor and "请假类型" in editor
    # the teacher lets teachers fill it too (the template is for parents and students), then publishes
    app_parts = teacher.get(f"/api/v1/forms/{copy_id}").get_json()["draft"]["app"]
    app_parts["audience"]["fill"] = ["parent", "homeroom_teacher"]
    teacher.put(f"/api/v1/forms/{copy_id}", json={"app": app_parts})
    assert teacher.post(f"/api/v1/forms/{copy_id}/publish").status_code == 201
    fill_url = f"/forms/{copy_id}/fill"
    form_page = teacher.get(fill_url).get_data(as_text=True)
    assert "请假类型" in form_page and "病假" in form_page and 'name="f.student"' in form_page
    # the teacher's picker offers only students of their class
    options = re.findall(r'<option value="([^"]*)"', form_page)
    me = teacher.get("/api/v1/students?per_page=500").get_json()["items"]
    assert {o for o in options if o.isdigit()} <= {s["student_no"] for s in me}
    kid = me[0]["student_no"]
    token = re.search(r'name="csrf_token" value="([^"]+)"', form_page).group(1)
    bad = teacher.client.post(fill_url, data={"csrf_token": token, "f.student": kid, "f.kind": "sick",
                                              "f.start": "2026-11-20", "f.days": "1", "f.reason": "发烧"})
    assert bad.status_code == 422 and "必填" in bad.get_data(as_text=True)  # symptoms, required for sick leave
    ok = teacher.client.post(fill_url, data={"csrf_token": token, "f.student": kid, "f.kind": "sick",
                                             "f.start": "2026-11-20", "f.days": "2", "f.reason": "发烧",
                                             "f.symptoms": "38.5 度"})
    assert ok.status_code == 200 and "已提交" in ok.get_data(as_text=True)
    outsider = teacher.client.post(fill_url, data={"csrf_token": token, "f.student": "NOT-MINE", "f.kind": "personal",
                                                   "f.start": "2026-11-20", "f.days": "1", "f.reason": "有事"})
    assert outsider.status_code == 422
    subs = teacher.get(fill_url.replace("/fill", "/submissions")).get_data(as_text=True)
    assert "38.5 度" in subs and "v1" in subs
