"""Low-code apps: checks before publish, audience per class, rules raising alerts and messages, the
approval flow with the parent told, views with filters/sort/aggregates/chart, and the app square (submit,
review, publish, promote, reuse counted)."""
from __future__ import annotations

import sqlalchemy as sa

from tests.conftest import login_of

SCHEMA = {
    "type": "object",
    "required": ["student", "temperature"],
    "properties": {
        "student": {"type": "string", "title": "学生", "x-jizuo-binding": "student"},
        "temperature": {"type": "number", "title": "体温", "minimum": 34, "maximum": 43},
        "symptom": {"type": "string", "title": "症状", "oneOf": [{"const": "none", "title": "无"},
                                                              {"const": "cough", "title": "咳嗽"}]},
    },
}
APP = {
    "audience": {"fill": ["parent", "homeroom_teacher"], "see": ["homeroom_teacher"]},
    "views": [{"key": "main", "columns": ["student", "temperature", "symptom"], "filters": ["symptom"],
               "sort": {"field": "temperature", "dir": "desc"},
               "aggregates": [{"op": "count"}, {"op": "avg", "field": "temperature"}, {"op": "max", "field": "temperature"}],
               "chart": {"type": "bar", "by": "symptom", "measure": "count"}}],
    "rules": [{"key": "fever", "title": {"zh": "发烧", "en": "Fever"},
               "when": {"field": "temperature", "op": "gte", "value": 37.3}, "then": {"alert": {"level": "yellow"}}},
              {"key": "cough", "when": {"field": "symptom", "op": "eq", "value": "cough"},
               "then": {"message": {"to": "homeroom_teacher", "text": {"zh": "咳嗽", "en": "Cough"}}}}],
}


def _ids(demo, db_session, role: str, school_index: int = 0) -> tuple[int, int | None]:
    from foundation.models import Account

    acc = db_session.scalar(sa.select(Account).where(Account.username == login_of(demo, role, school_index)))
    return acc.id, acc.person_id


def _child(db_session, guardian_id: int):
    from foundation.models import GuardianLink, Student

    return db_session.scalar(sa.select(Student).join(GuardianLink, GuardianLink.student_id == Student.id)
                             .where(GuardianLink.guardian_id == guardian_id))


def _app(teacher, app=APP, schema=SCHEMA):
    form = teacher.post("/api/v1/forms", json={"title": "晨检", "schema": schema, "app": app}).get_json()
    resp = teacher.post(f"/api/v1/forms/{form['id']}/publish")
    assert resp.status_code == 201, resp.get_json()
    return form["id"]


def _inbox(db_session, account_id: int) -> list[str]:
    from foundation.models.messages import InboxItem, Message

    db_session.expire_all()
    return list(db_session.scalars(sa.select(Message.subject_zh).join(InboxItem, InboxItem.message_id == Message.id)
                                   .where(InboxItem.account_id == account_id).order_by(Message.id)))


def test_publish_names_each_problem_of_the_app(login):
    teacher = login("homeroom_teacher", 0)

    def problems(app, schema=SCHEMA):
        form = teacher.post("/api/v1/forms", json={"title": "x", "schema": schema, "app": app}).get_json()
        return teacher.post(f"/api/v1/forms/{form['id']}/publish").get_json()["error"]["fields"]

    missing = problems({"rules": [{"key": "r", "when": {"field": "weight", "op": "gt", "value": 1},
                                   "then": {"alert": {"level": "red"}}}]})
    assert missing == {"app/rules/0/when/field": "表单中没有字段「weight」"}
    text_compare = problems({"rules": [{"key": "r", "when": {"field": "symptom", "op": "gt", "value": 1},
                                        "then": {"alert": {"level": "red"}}}]})
    assert "symptom" in text_compare["app/rules/0/when/field"]
    no_student = {"type": "object", "properties": {"score": {"type": "integer"}}}
    alert = problems({"rules": [{"key": "r", "when": {"field": "score", "op": "lt", "value": 60},
                                 "then": {"alert": {"level": "yellow"}}}]}, no_student)
    assert "app/rules/0/then/alert" in alert
    assert problems({"approval": {"by": "headmaster"}}) == {"app/approval/by": "没有这个角色：headmaster"}
    assert "app/views/0/chart/by" in problems({"views": [{"key": "v", "chart": {"by": "nope"}}]})
    shape = problems({"rules": [{"key": "r", "when": {"field": "student", "op": "like"}, "then": {}}]})
    assert list(shape) and list(shape)[0].startswith("app/rules/0")


def test_audience_classes_must_be_the_schools_and_limit_who_fills(login, demo, db_session):
    from foundation.models import OrgUnit, Student

    teacher = login("homeroom_teacher", 0)
    school_b = demo["logins"][-1]["school_id"]
    other_school_class = db_session.scalar(sa.select(OrgUnit.id).where(OrgUnit.kind == "class",
                                                                       OrgUnit.school_id == school_b))
    resp = teacher.post("/api/v1/forms", json={"title": "x", "schema": SCHEMA,
                                               "app": {"audience": {"classes": [other_school_class]}}})
    assert resp.status_code == 422 and "app/audience/classes" in resp.get_json()["error"]["fields"]
    _, guardian = _ids(demo, db_session, "parent", 0)
    child = _child(db_session, guardian)
    another_class = db_session.scalar(sa.select(OrgUnit.id).where(
        OrgUnit.kind == "class", OrgUnit.school_id == child.school_id, OrgUnit.id != child.class_id))
    elsewhere = _app(teacher, {**APP, "audience": {"fill": ["parent"], "classes": [another_class]}})
    mine = _app(teacher, {**APP, "audience": {"fill": ["parent"], "classes": [child.class_id]}})
    parent = login("parent", 0)
    data = {"student": child.student_no, "temperature": 36.5}
    assert parent.post(f"/api/v1/forms/{elsewhere}/submissions", json={"data": data}).status_code == 403
    ok = parent.post(f"/api/v1/forms/{mine}/submissions", json={"data": data})
    assert ok.status_code == 201 and ok.get_json()["student_id"] == child.id
    assert ok.get_json()["class_id"] == db_session.scalar(sa.select(Student.class_id).where(Student.id == child.id))


def test_rules_raise_an_alert_for_the_homeroom_teacher_and_send_messages(login, demo, db_session):
    from foundation.models.alerts import AlertCase

    teacher_account, _ = _ids(demo, db_session, "homeroom_teacher", 0)
    _, guardian = _ids(demo, db_session, "parent", 0)
    child = _child(db_session, guardian)
    form_id = _app(login("homeroom_teacher", 0))
    parent = login("parent", 0)
    calm = parent.post(f"/api/v1/forms/{form_id}/submissions",
                       json={"data": {"student": child.student_no, "temperature": 36.6, "symptom": "none"}})
    assert calm.get_json()["effects"] == []
    hot = parent.post(f"/api/v1/forms/{form_id}/submissions",
                      json={"data": {"student": child.student_no, "temperature": 38.2, "symptom": "cough"}})
    effects = hot.get_json()["effects"]
    assert {e["rule"] for e in effects} == {"fever", "cough"}
    case = db_session.get(AlertCase, next(e["case_id"] for e in effects if e["rule"] == "fever"))
    assert (case.student_id, case.level, case.category, case.count) == (child.id, "yellow", "lowcode", 1)
    # a second fever raises the same case's count instead of opening new work
    parent.post(f"/api/v1/forms/{form_id}/submissions",
                json={"data": {"student": child.student_no, "temperature": 38.9, "symptom": "none"}})
    db_session.expire_all()
    assert db_session.get(AlertCase, case.id).count == 2
    assert db_session.scalar(sa.select(sa.func.count()).select_from(AlertCase)
                             .where(AlertCase.rule_key == case.rule_key)) == 1
    assert any("咳嗽" in s or "cough" in s.lower() or "晨检" in s for s in _inbox(db_session, teacher_account))


def test_leave_approval_parent_submits_teacher_approves_parent_is_told(app, login, demo, db_session):
    from foundation import db
    from foundation.lowcode.forms import seed_templates
    from foundation.tenancy import unscoped

    with app.app_context():
        seed_templates(unscoped("test setup").mark(db.session()), plugin_templates=[])
        db.session().commit()
    teacher = login("homeroom_teacher", 0)
    template = next(f for f in teacher.get("/api/v1/forms").get_json()["items"] if f["title"]["zh"] == "班级请假申请")
    copy = teacher.post(f"/api/v1/forms/{template['id']}/clone", json={}).get_json()
    assert copy["draft"]["app"]["approval"] == {"by": "homeroom_teacher", "notify_submitter": True}
    teacher.post(f"/api/v1/forms/{copy['id']}/publish")
    parent_account, guardian = _ids(demo, db_session, "parent", 0)
    child = _child(db_session, guardian)
    parent = login("parent", 0)
    sub = parent.post(f"/api/v1/forms/{copy['id']}/submissions", json={"data": {
        "student": child.student_no, "kind": "personal", "start": "2026-11-26", "days": 1, "reason": "家中有事"}})
    assert sub.status_code == 201 and sub.get_json()["status"] == "pending"
    sid = sub.get_json()["id"]
    assert parent.post(f"/api/v1/forms/{copy['id']}/submissions/{sid}/decision",
                       json={"decision": "approved"}).status_code == 403  # a parent does not approve
    other_school = login("homeroom_teacher", 1)
    assert other_school.post(f"/api/v1/forms/{copy['id']}/submissions/{sid}/decision",
                             json={"decision": "approved"}).status_code == 404
    teacher = login("homeroom_teacher", 0)
    bad = teacher.post(f"/api/v1/forms/{copy['id']}/submissions/{sid}/decision", json={"decision": "maybe"})
    assert bad.status_code == 422 and "decision" in bad.get_json()["error"]["fields"]
    ok = teacher.post(f"/api/v1/forms/{copy['id']}/submissions/{sid}/decision",
                      json={"decision": "approved", "note": "注意安全"})
    assert ok.get_json()["status"] == "approved"
    again = teacher.post(f"/api/v1/forms/{copy['id']}/submissions/{sid}/decision", json={"decision": "rejected"})
    assert again.status_code == 422
    told = _inbox(db_session, parent_account)
    assert any("已批准" in s for s in told), told


def test_view_filters_sorts_aggregates_and_charts(login, demo, db_session):
    teacher = login("homeroom_teacher", 0)
    form_id = _app(teacher, {**APP, "rules": []})
    kids = teacher.get("/api/v1/students?per_page=3").get_json()["items"]
    for kid, temp, symptom in zip(kids, [36.5, 37.0, 38.0], ["none", "cough", "cough"], strict=True):
        assert teacher.post(f"/api/v1/forms/{form_id}/submissions", json={"data": {
            "student": kid["student_no"], "temperature": temp, "symptom": symptom}}).status_code == 201
    view = teacher.get(f"/api/v1/forms/{form_id}/view").get_json()
    assert [r["data"]["temperature"] for r in view["rows"]] == [38.0, 37.0, 36.5]  # the view's sort
    assert [a["value"] for a in view["aggregates"]] == [3, 37.17, 38.0]
    assert [(c["label"], c["measure"]) for c in view["chart"]] == [("咳嗽", 2), ("无", 1)]
    coughs = teacher.get(f"/api/v1/forms/{form_id}/view?f_symptom=cough&sort=temperature&dir=asc").get_json()
    assert [r["data"]["temperature"] for r in coughs["rows"]] == [37.0, 38.0]
    page = teacher.get(f"/forms/{form_id}/app?f_symptom=cough").get_data(as_text=True)
    assert 'id="chart"' in page and "咳嗽" in page and page.count("<tr><td>") == 2
    assert login("homeroom_teacher", 1).get(f"/api/v1/forms/{form_id}/view").status_code == 404


def test_a_school_app_is_reviewed_promoted_and_its_reuse_counted(login, demo):
    teacher = login("homeroom_teacher", 0)
    form_id = _app(teacher, {**APP, "rules": []})
    listed = teacher.post(f"/api/v1/forms/{form_id}/square", json={"description": "晨检体温登记"})
    assert listed.status_code == 201 and listed.get_json()["level"] == "school"
    assert teacher.post(f"/api/v1/forms/{form_id}/square", json={}).status_code == 422  # once
    lid = listed.get_json()["id"]
    district = login("district_admin")
    assert district.post(f"/api/v1/square/{lid}/promote").status_code == 422  # not published yet
    for action in ("review", "publish", "promote"):
        assert district.post(f"/api/v1/square/{lid}/{action}", json={"reason": "各校都需要"}).status_code == 200
    row = district.get(f"/api/v1/square/{lid}").get_json()
    assert row["level"] == "district" and [h["action"] for h in row["history"]] == ["submit", "review", "publish",
                                                                                  "promote"]
    other = login("homeroom_teacher", 1)
    copy = next(f for f in other.get("/api/v1/forms").get_json()["items"]
                if f["school_id"] is None and f["title"]["zh"] == "晨检")
    clone = other.post(f"/api/v1/forms/{copy['id']}/clone", json={}).get_json()
    other.post(f"/api/v1/forms/{clone['id']}/publish")
    kid = other.get("/api/v1/students?per_page=1").get_json()["items"][0]
    assert other.post(f"/api/v1/forms/{clone['id']}/submissions",
                      json={"data": {"student": kid["student_no"], "temperature": 36.4}}).status_code == 201
    reuse = login("district_admin").get(f"/api/v1/square/{lid}").get_json()["reuse"]
    assert reuse == {"installs": 1, "clones": 1, "submissions": 1, "active_users": 1}


def test_the_approvers_home_page_shows_what_waits_for_them(login, demo, db_session):
    teacher = login("homeroom_teacher", 0)
    form_id = _app(teacher, {**APP, "rules": [], "approval": {"by": "homeroom_teacher"}})
    assert 'data-widget="lowcode.pending_approvals"' not in teacher.get("/").get_data(as_text=True)
    _, guardian = _ids(demo, db_session, "parent", 0)
    child = _child(db_session, guardian)
    parent = login("parent", 0)
    parent.post(f"/api/v1/forms/{form_id}/submissions", json={"data": {"student": child.student_no,
                                                                        "temperature": 36.8}})
    assert 'data-widget="lowcode.pending_approvals"' not in parent.get("/").get_data(as_text=True)
    home = login("homeroom_teacher", 0).get("/").get_data(as_text=True)
    assert 'data-widget="lowcode.pending_approvals"' in home and "/approvals" in home
    other = login("homeroom_teacher", 1).get("/").get_data(as_text=True)
    assert 'data-widget="lowcode.pending_approvals"' not in other


def test_home_page_widgets_show_my_alerts_and_unread_messages(login, demo, db_session):
    teacher = login("homeroom_teacher", 0)
    assert 'data-widget="alerts.my_cases"' not in teacher.get("/").get_data(as_text=True)
    form_id = _app(teacher)
    _, guardian = _ids(demo, db_session, "parent", 0)
    child = _child(db_session, guardian)
    parent = login("parent", 0)
    parent.post(f"/api/v1/forms/{form_id}/submissions",
                json={"data": {"student": child.student_no, "temperature": 38.5, "symptom": "cough"}})
    assert 'data-widget="alerts.my_cases"' not in parent.get("/").get_data(as_text=True)  # parents see no cases
    home = login("homeroom_teacher", 0).get("/").get_data(as_text=True)
    assert 'data-widget="alerts.my_cases"' in home and 'data-widget="messages.unread"' in home
    assert 'data-widget="alerts.my_cases"' not in login("homeroom_teacher", 1).get("/").get_data(as_text=True)


def test_families_see_only_the_forms_published_to_them(login, demo, db_session):
    from foundation.models import OrgUnit

    teacher = login("homeroom_teacher", 0)
    _, guardian = _ids(demo, db_session, "parent", 0)
    child = _child(db_session, guardian)
    other_class = db_session.scalar(sa.select(OrgUnit.id).where(
        OrgUnit.kind == "class", OrgUnit.school_id == child.school_id, OrgUnit.id != child.class_id))
    mine = _app(teacher, {**APP, "rules": [], "audience": {"fill": ["parent"], "classes": [child.class_id]}})
    teachers_only = teacher.post("/api/v1/forms", json={"title": "教研记录", "schema": SCHEMA,
                                                        "app": {"audience": {"fill": ["homeroom_teacher"]}}}).get_json()
    teacher.post(f"/api/v1/forms/{teachers_only['id']}/publish")
    elsewhere = _app(teacher, {**APP, "rules": [], "audience": {"fill": ["parent"], "classes": [other_class]}})
    parent = login("parent", 0)
    page = parent.get("/forms").get_data(as_text=True)
    assert f"/forms/{mine}/fill" in page and "区级模板" not in page
    assert f"/forms/{teachers_only['id']}/" not in page and f"/forms/{elsewhere}/" not in page
    assert parent.get(f"/forms/{elsewhere}/fill").status_code == 403
    assert parent.get(f"/forms/{mine}/fill").status_code == 200
