"""Approval flows as the teacher builds them: the publish check refuses a flow that can never finish, naming
the step and the reason in the viewer's language; the path a sample submission takes (which steps run,
which are skipped); the editor keeps the flow it saves, conditions following new fields' keys."""
from __future__ import annotations

import sqlalchemy as sa

from tests.conftest import login_of

LEAVE = {
    "type": "object",
    "required": ["student", "days"],
    "properties": {
        "student": {"type": "string", "title": "学生", "x-jizuo-binding": "student"},
        "days": {"type": "integer", "title": "天数", "x-jizuo-title": {"zh": "天数", "en": "Days"}, "minimum": 1},
        "kind": {"type": "string", "title": "类型", "oneOf": [{"const": "sick", "title": "病假"},
                                                            {"const": "personal", "title": "事假"}]},
        "start": {"type": "string", "format": "date", "title": "开始日期"},
        "reason": {"type": "string", "title": "事由"},
    },
}
STEPS = [
    {"key": "homeroom", "title": {"zh": "班主任审批", "en": "Homeroom teacher"}, "approver": {"relative": "homeroom"}},
    {"key": "grade", "title": {"zh": "年级组长审批", "en": "Grade head"}, "approver": {"relative": "grade_head"},
     "when": {"field": "days", "op": "gt", "value": 3}},
    {"key": "dean", "title": {"zh": "政教处审批", "en": "Dean"}, "approver": {"role": "dean"}, "mode": "all",
     "deadline": {"school_days": 2, "escalate_to": {"role": "principal"}}},
]
FLOW = {"steps": STEPS, "cc": ["school_admin"]}


def _account(demo, db_session, role: str) -> int:
    from foundation.models import Account

    return db_session.scalar(sa.select(Account.id).where(Account.username == login_of(demo, role, 0)))


def _problems(teacher, app, schema=LEAVE, lang=None) -> tuple[int, dict]:
    form = teacher.post("/api/v1/forms", json={"title": "请假", "schema": schema, "app": app}).get_json()
    resp = teacher.post(f"/api/v1/forms/{form['id']}/publish", lang=lang)
    return resp.status_code, (resp.get_json().get("error") or {}).get("fields", {})


def _flow(*steps, **rest) -> dict:
    return {"flow": {"steps": [dict(s) for s in steps], **rest}}


def test_the_leave_flow_publishes_and_a_sample_takes_its_path(login):
    teacher = login("homeroom_teacher", 0)
    form = teacher.post("/api/v1/forms", json={"title": "请假", "schema": LEAVE,
                                               "app": {"audience": {"fill": ["parent"]}, "flow": FLOW}}).get_json()
    assert teacher.post(f"/api/v1/forms/{form['id']}/publish").status_code == 201
    url = f"/forms/{form['id']}/edit/path"  # the editor's 试一试, on the unsaved flow

    def taken(data: dict) -> list[bool]:
        return [s["taken"] for s in teacher.post(url, json={"flow": FLOW, "data": data}).get_json()["path"]]

    assert taken({"days": 2}) == [True, False, True]
    assert taken({"days": 5}) == [True, True, True]
    assert taken({}) == [True, False, True]  # no days: the condition does not hold


def test_the_editors_sample_shows_the_path_to_the_author_only(users):
    teacher = users("homeroom_teacher", 0)
    form = teacher.post("/api/v1/forms", json={"title": "请假", "schema": LEAVE}).get_json()
    url = f"/forms/{form['id']}/edit/path"
    assert teacher.post(url, json={"flow": FLOW, "data": {"days": 5}}).status_code == 200
    half_built = {"steps": [{"key": "step_1", "approver": {"role": ""}}]}
    resp = teacher.post(url, json={"flow": half_built, "data": {"days": 5}})
    assert resp.status_code == 422
    assert resp.get_json()["error"]["message"] == "流程还不完整，无法试算：请先给每一步选好审批人"
    assert teacher.post(url, json={"flow": FLOW, "data": "days=5"}).status_code == 422
    assert users("subject_teacher", 0).post(url, json={"flow": FLOW, "data": {}}).status_code == 403


def test_publish_refuses_a_flow_that_cannot_finish_naming_step_and_reason(login, demo, db_session):
    teacher = login("homeroom_teacher", 0)
    home, grade = STEPS[0], STEPS[1]
    no_student = {"type": "object", "properties": {"days": {"type": "integer", "title": "天数"}}}
    # a homeroom teacher "of the student" on a form about no student
    status, got = _problems(teacher, _flow(home, STEPS[2]), schema=no_student)
    assert status == 422
    assert got == {"app/flow/steps/0/approver": "第1步「班主任审批」：审批人是学生的班主任，但表单没有绑定学生的字段"
                   "（也不是只由学生、家长填写），不知道是哪位学生的班主任"}
    # a named person who is not the school's staff (a parent), an escalation to a parent role, a cc nobody
    parent = _account(demo, db_session, "parent")
    _, got = _problems(teacher, _flow(dict(home, approver={"person": parent}),
                                      dict(STEPS[2], deadline={"school_days": 1, "escalate_to": {"role": "parent"}}),
                                      cc=["janitor"]))
    assert got == {"app/flow/steps/0/approver": f"第1步「班主任审批」：指定的审批人（账号 {parent}）不是本校教职工",
                   "app/flow/steps/1/deadline/escalate_to": "第2步「政教处审批」的超时转交：家长不是学校的教职工，不能审批",
                   "app/flow/cc/0": "抄送：没有「janitor」这个角色"}
    # conditions: a missing field, a size comparison on options, a value the field cannot take; a repeated key
    _, got = _problems(teacher, _flow(home, dict(grade, when={"field": "weeks", "op": "gt", "value": 1}),
                                      dict(grade, key="g2", when={"field": "kind", "op": "gt", "value": "sick"}),
                                      dict(grade, key="g3", when={"field": "days", "op": "gte", "value": "three"}),
                                      dict(home, title={"zh": "再审"})))
    assert got == {"app/flow/steps/1/when/field": "第2步「年级组长审批」的条件：表单中没有字段「weeks」",
                   "app/flow/steps/2/when/op": "第3步「年级组长审批」的条件：「类型」不是数字或日期，不能比较大小",
                   "app/flow/steps/3/when/value": "第4步「年级组长审批」的条件：「天数」不会是「three」（类型或选项不符），"
                   "条件的结果永远一样",
                   "app/flow/steps/4/key": "第5步「再审」：标识「homeroom」与前面的步骤重复"}
    # every step conditional: nobody would decide a submission meeting none — refused, in English too
    _, got = _problems(teacher, _flow(grade, dict(grade, key="g2", when={"field": "kind", "op": "eq", "value": "sick"})),
                       lang="en")
    assert got == {"app/flow/steps": "Every step has a condition: a submission meeting none of them would be "
                   "approved at once with nobody deciding. Let at least one step run always"}
    # a date and a text field take their own operators; "approval" and "flow" together are refused
    _, got = _problems(teacher, {**_flow(home, dict(grade, when={"field": "start", "op": "lt", "value": "2025-09-01"}),
                                         dict(grade, key="g2", when={"field": "reason", "op": "contains", "value": "病"})),
                                 "approval": {"by": "homeroom_teacher"}})
    assert got == {"app/approval": "应用同时设置了「审批人」和「审批流程」：只能保留一个（审批流程可以只有一步）"}


def test_a_role_nobody_holds_in_the_school_is_refused(login, demo, db_session):
    from foundation.models import Account, Membership

    teacher = login("homeroom_teacher", 0)
    school = db_session.scalar(sa.select(Membership.school_id).join(Account).where(
        Account.username == login_of(demo, "homeroom_teacher", 0)))
    db_session.execute(sa.delete(Membership).where(Membership.school_id == school, Membership.role == "principal"))
    db_session.commit()
    flow = dict(STEPS[2], approver={"role": "principal"}, title={"zh": "校长审批", "en": "Principal"})
    status, got = _problems(teacher, _flow(STEPS[0], flow), lang="en")
    assert status == 422
    assert got == {"app/flow/steps/1/approver": "Step 2 \"Principal\": nobody in the school is Principal, "
                   "so this step would wait forever",
                   "app/flow/steps/1/deadline/escalate_to": "Step 2 \"Principal\", escalation when overdue: "
                   "nobody in the school is Principal"}


def test_the_editor_keeps_the_flow_and_its_conditions_follow_new_fields(login):
    teacher = login("homeroom_teacher", 0)
    form = teacher.post("/api/v1/forms", json={"title": "请假", "schema": LEAVE}).get_json()
    fields = [{"key": "student", "label": {"zh": "学生"}, "kind": "student", "required": True},
              {"ref": "new-1", "label": {"zh": "请假天数", "en": "Days off"}, "kind": "integer", "required": True}]
    flow = {"steps": [STEPS[0], dict(STEPS[1], when={"field": "new-1", "op": "gt", "value": 3}), STEPS[2]]}
    resp = teacher.put(f"/api/v1/forms/{form['id']}", json={"fields": fields, "app": {"flow": flow}})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["renamed"] == {"new-1": "days_off"} and body["problems"] == {}
    assert body["draft"]["app"]["flow"]["steps"][1]["when"] == {"field": "days_off", "op": "gt", "value": 3}
    assert body["draft"]["app"]["flow"]["steps"][2] == STEPS[2]
