"""Approval flows (foundation/lowcode/flow.py): a parent's leave walks homeroom → grade head → dean, the
grade head skipped for a short one; deadlines remind, then escalate; a deputy decides for an absent dean;
会签 waits for both; nobody approves their own; withdrawal; the old one-approver shorthand."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import login_of

SCHEMA = {"type": "object", "required": ["days"],
          "properties": {"days": {"type": "integer", "title": "天数", "minimum": 1, "maximum": 30},
                         "reason": {"type": "string", "title": "事由", "maxLength": 100}}}
LEAVE = {"audience": {"fill": ["parent"]}, "flow": {"steps": [
    {"key": "homeroom", "title": {"zh": "班主任审批", "en": "Homeroom teacher"}, "approver": {"relative": "homeroom"}},
    {"key": "grade", "title": {"zh": "年级组长审批", "en": "Grade head"}, "approver": {"relative": "grade_head"},
     "when": {"field": "days", "op": "gt", "value": 3}},
    {"key": "dean", "title": {"zh": "政教主任审批", "en": "Dean"}, "approver": {"role": "dean"},
     "deadline": {"school_days": 2, "escalate_to": {"role": "principal"}}}],
    "cc": ["school_admin"]}}


def account(db_session, demo, role: str) -> int:
    from foundation.models import Account

    return db_session.scalar(sa.select(Account.id).where(Account.username == login_of(demo, role, 0)))


def publish(users, app: dict, title: str = "请假") -> int:
    admin = users("school_admin", 0)
    form = admin.post("/api/v1/forms", json={"title": title, "schema": SCHEMA, "app": app}).get_json()
    resp = admin.post(f"/api/v1/forms/{form['id']}/publish")
    assert resp.status_code == 201, resp.get_json()
    return form["id"]


def submit(user, form_id: int, days: int) -> int:
    resp = user.post(f"/api/v1/forms/{form_id}/submissions", json={"data": {"days": days, "reason": "病假"}})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["id"]


def task_of(user, submission_id: int) -> dict | None:
    return next((t for t in user.get("/api/v1/flow/tasks").get_json()["tasks"] if t["submission_id"] == submission_id),
                None)


def approve(user, submission_id: int, note: str | None = None) -> dict:
    task = task_of(user, submission_id)
    assert task is not None, "the task waits for this person"
    resp = user.post("/api/v1/flow/tasks/decide", json={"tasks": [task["id"]], "decision": "approved", "note": note})
    assert resp.status_code == 200, resp.get_json()
    return task


def state(user, submission_id: int) -> dict:
    resp = user.get(f"/api/v1/flow/submissions/{submission_id}")
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def inbox(db_session, account_id: int) -> list[str]:
    from foundation.models.messages import InboxItem, Message

    db_session.expire_all()
    return list(db_session.scalars(sa.select(Message.subject_zh).join(InboxItem, InboxItem.message_id == Message.id)
                                   .where(InboxItem.account_id == account_id).order_by(Message.id)))


@pytest.fixture
def leave(users):
    return publish(users, LEAVE)


def test_long_leave_walks_three_steps_and_the_parent_sees_each(leave, users, db_session, demo):
    from foundation.events import subscribe

    seen = []
    stop = subscribe("lowcode.flow.*", lambda event, payloads: seen.extend((event, p) for p in payloads))
    try:
        parent, homeroom, grade, dean = (users(r, 0) for r in ("parent", "homeroom_teacher", "grade_head", "dean"))
        sid = submit(parent, leave, 5)
        assert task_of(grade, sid) is None and task_of(dean, sid) is None  # not their turn yet
        assert "请假：待审批" in inbox(db_session, account(db_session, demo, "homeroom_teacher"))
        approve(homeroom, sid, "好好休息")
        assert state(parent, sid)["state"]["step"]["key"] == "grade"
        assert any("班主任审批" in s and "批准" in s for s in inbox(db_session, account(db_session, demo, "parent")))
        approve(grade, sid)
        waiting = state(parent, sid)["state"]
        assert waiting["step"]["key"] == "dean" and waiting["waiting_for"]
        approve(dean, sid)
        done = state(parent, sid)
        assert done["state"]["status"] == "approved" and done["state"]["step"] is None
        texts = [line["text"] for line in done["timeline"]]
        assert [line["kind"] for line in done["timeline"]] == [
            "submitted", "step", "approved", "step", "approved", "step", "approved", "finished"]
        assert any("班主任审批" in x for x in texts) and any("政教主任审批" in x for x in texts)
        assert done["timeline"][2]["note"] == "好好休息"
        assert "请假：已批准" in inbox(db_session, account(db_session, demo, "parent"))
        assert "请假：已批准（抄送）" in inbox(db_session, account(db_session, demo, "school_admin"))
        english = parent.get(f"/api/v1/flow/submissions/{sid}", lang="en").get_json()["timeline"]
        assert english[-1]["text"] == "Approved"
        mine = parent.get("/api/v1/flow/submissions").get_json()["submissions"]
        assert mine[0]["id"] == sid and mine[0]["status"] == "approved"
        page = parent.client.get(f"/flow/submissions/{sid}").get_data(as_text=True)
        assert "政教主任审批" in page and "好好休息" in page
        assert task_of(dean, sid) is None  # decided: gone from the queue
    finally:
        stop()
    decided = [p for e, p in seen if e == "lowcode.flow.step_decided" and p["submission_id"] == sid]
    assert [p["step"] for p in decided] == ["homeroom", "grade", "dean"]
    assert [p["outcome"] for e, p in seen if e == "lowcode.flow.finished"] == ["approved"]


def test_a_short_leave_skips_the_grade_head_and_batch_approval_takes_both(leave, users):
    from foundation.lowcode.flow import flow_of, path

    assert [p["taken"] for p in path(flow_of(LEAVE), {"days": 2})] == [True, False, True]
    parent, homeroom = users("parent", 0), users("homeroom_teacher", 0)
    short, long = submit(parent, leave, 2), submit(parent, leave, 4)
    tasks = [task_of(homeroom, short)["id"], task_of(homeroom, long)["id"]]
    bad = homeroom.post("/api/v1/flow/tasks/decide", json={"tasks": tasks + [tasks[0]], "decision": "approved"})
    assert bad.status_code == 422 and "tasks" in bad.get_json()["error"]["fields"]  # the third is decided by then
    assert task_of(homeroom, short) is not None  # all or nothing: none was decided
    resp = homeroom.post("/api/v1/flow/tasks/decide", json={"tasks": tasks, "decision": "approved"})
    assert resp.status_code == 200, resp.get_json()
    assert state(parent, short)["state"]["step"]["key"] == "dean"
    assert state(parent, long)["state"]["step"]["key"] == "grade"
    kinds = [line["kind"] for line in state(parent, short)["timeline"]]
    assert "skipped" in kinds


def test_a_step_past_its_deadline_reminds_once_then_escalates(leave, users, db_session, demo, app):
    from foundation.alerts.calendar import load_clock
    from foundation.lowcode.flow_deadlines import due_times
    from foundation.models import Submission

    parent = users("parent", 0)
    sid = submit(parent, leave, 2)
    approve(users("homeroom_teacher", 0), sid)
    db_session.expire_all()
    row = db_session.scalar(sa.select(Submission).where(Submission.id == sid))
    remind_at, escalate_at = due_times(load_clock(db_session, row.school_id), row.step_started_at, 2)
    assert remind_at > row.step_started_at + timedelta(days=1) and escalate_at > remind_at
    dean, principal = account(db_session, demo, "dean"), account(db_session, demo, "principal")
    with app.app_context():
        from foundation.lowcode.flow_deadlines import committed_sweep as tick  # as the worker runs it

        assert tick(remind_at - timedelta(minutes=1)) == {"reminded": 0, "escalated": 0}
        assert tick(remind_at) == {"reminded": 1, "escalated": 0}
        assert tick(remind_at + timedelta(hours=1)) == {"reminded": 0, "escalated": 0}  # once
        assert tick(escalate_at) == {"reminded": 0, "escalated": 1}
    assert inbox(db_session, dean).count("请假：审批已到期") == 1
    assert "请假：审批已转给您" in inbox(db_session, principal)
    approve(users("principal", 0), sid)
    kinds = [line["kind"] for line in state(parent, sid)["timeline"]]
    assert kinds[-4:] == ["reminded", "escalated", "approved", "finished"]


def test_a_deputy_approves_for_the_absent_dean(leave, users, db_session, demo):
    dean, deputy, parent = users("dean", 0), users("psychology_teacher", 0), users("parent", 0)
    today = date.today()
    me = account(db_session, demo, "dean")
    bad = dean.post("/api/v1/flow/delegations", json={"deputy": me, "starts": today.isoformat(),
                                                        "ends": today.isoformat()})
    assert bad.status_code == 422 and "deputy" in bad.get_json()["error"]["fields"]
    bad = dean.post("/api/v1/flow/delegations", json={"deputy": account(db_session, demo, "psychology_teacher"),
                                                        "starts": today.isoformat(), "ends": "2000-01-01"})
    assert bad.status_code == 422 and "ends" in bad.get_json()["error"]["fields"]
    resp = dean.post("/api/v1/flow/delegations", json={
        "deputy": account(db_session, demo, "psychology_teacher"), "starts": (today - timedelta(days=1)).isoformat(),
        "ends": (today + timedelta(days=7)).isoformat()})
    assert resp.status_code == 201, resp.get_json()
    sid = submit(parent, leave, 2)
    approve(users("homeroom_teacher", 0), sid)
    task = approve(deputy, sid)
    dean_name = db_session.execute(sa.text("select display_name from accounts where id = :i"), {"i": me}).scalar()
    assert task["for"] == dean_name
    line = [x for x in state(parent, sid)["timeline"] if x["kind"] == "approved"][-1]
    assert line["for"] == dean_name and f"（代 {dean_name} 审批）" in line["text"]
    assert deputy.get("/api/v1/flow/delegations").get_json()["delegations"][0]["name"] == dean_name
    assert dean.delete(f"/api/v1/flow/delegations/{resp.get_json()['id']}").status_code == 204
    sid = submit(parent, leave, 2)
    approve(users("homeroom_teacher", 0), sid)
    assert task_of(deputy, sid) is None  # cancelled: no longer offered


def test_countersign_waits_for_both_approvers(users, db_session, demo):
    from foundation.models import Membership

    school = db_session.execute(sa.text("select school_id from memberships where account_id = :a"),
                                {"a": account(db_session, demo, "dean")}).scalar()
    db_session.add(Membership(account_id=account(db_session, demo, "psychology_teacher"), role="dean",
                              org_unit_id=school, school_id=school))
    db_session.commit()
    form = publish(users, {"audience": {"fill": ["parent"]}, "flow": {"steps": [
        {"key": "deans", "title": {"zh": "政教会签", "en": "Deans"}, "approver": {"role": "dean"}, "mode": "all"}]}},
        "活动申请")
    parent = users("parent", 0)
    sid = submit(parent, form, 1)
    approve(users("dean", 0), sid)
    waiting = state(parent, sid)["state"]
    assert waiting["status"] == "pending" and len(waiting["waiting_for"]) == 1
    approve(users("psychology_teacher", 0), sid)
    assert state(parent, sid)["state"]["status"] == "approved"


def test_nobody_approves_their_own_submission(users, db_session, demo):
    form = publish(users, {"audience": {"fill": ["dean"]}, "flow": {"steps": [
        {"key": "dean", "title": {"zh": "政教主任审批", "en": "Dean"}, "approver": {"role": "dean"}}]}}, "采购")
    dean = users("dean", 0)
    sid = submit(dean, form, 1)
    assert task_of(dean, sid) is None
    assert state(dean, sid)["state"]["waiting_for"]  # passed to the school's admin
    approve(users("school_admin", 0), sid)
    assert state(dean, sid)["state"]["status"] == "approved"


def test_the_submitter_withdraws_while_pending(leave, users):
    parent, homeroom = users("parent", 0), users("homeroom_teacher", 0)
    sid = submit(parent, leave, 5)
    assert users("grade_head", 0).post(f"/api/v1/flow/submissions/{sid}/withdraw").status_code == 404
    resp = parent.post(f"/api/v1/flow/submissions/{sid}/withdraw")
    assert resp.status_code == 200 and resp.get_json()["status"] == "withdrawn"
    assert task_of(homeroom, sid) is None
    again = parent.post(f"/api/v1/flow/submissions/{sid}/withdraw")
    assert again.status_code == 422 and "submission" in again.get_json()["error"]["fields"]


def test_the_one_approver_shorthand_still_works(users, db_session, demo):
    form = publish(users, {"audience": {"fill": ["parent"]}, "approval": {"by": "homeroom_teacher"}}, "返校")
    parent, homeroom = users("parent", 0), users("homeroom_teacher", 0)
    sid = submit(parent, form, 1)
    assert state(parent, sid)["state"]["step"]["title"]["zh"] == "审批"
    resp = homeroom.post(f"/api/v1/forms/{form}/submissions/{sid}/decision", json={"decision": "rejected", "note": "补材料"})
    assert resp.status_code == 200 and resp.get_json()["status"] == "rejected"
    assert "返校：未批准" in inbox(db_session, account(db_session, demo, "parent"))


def test_a_plugin_declares_a_flow_and_watches_its_outcome(app, users, db_session, demo):
    from foundation import db, plugin_api
    from foundation.alerts.schedule import PASS
    from foundation.models import Account

    grant = {"steps": [{"key": "homeroom", "title": {"zh": "班主任确认", "en": "Homeroom"}, "approver": {"relative": "homeroom"}},
                       {"key": "principal", "title": {"zh": "校长审批", "en": "Principal"}, "approver": {"role": "principal"},
                        "when": {"field": "amount", "op": "gt", "value": 1000}}]}
    parent = db_session.scalar(sa.select(Account).where(Account.username == login_of(demo, "parent", 0)))
    child = db_session.execute(sa.text("select student_id from guardian_links where guardian_id = :g"),
                               {"g": parent.person_id}).scalar()
    school = db_session.execute(sa.text("select school_id from students where id = :s"), {"s": child}).scalar()
    outcomes = []
    stop = plugin_api.subscribe("lowcode.flow.finished", lambda e, ps: outcomes.extend(
        (p["template_key"], p["outcome"], p["data"]) for p in ps))
    try:
        with app.app_context():
            sess = PASS.mark(db.session())
            with pytest.raises(plugin_api.FlowError):
                plugin_api.start_flow(sess, "aid.grant", {"steps": []}, school_id=school, title={"zh": "助学金"})
            row = plugin_api.start_flow(sess, "aid.grant", grant, school_id=school, title={"zh": "助学金", "en": "Grant"},
                                        data={"amount": 2000}, student_id=child, submitted_by=parent.id)
            sid = row.id
            sess.commit()
        approve(users("homeroom_teacher", 0), sid)
        approve(users("principal", 0), sid)
    finally:
        stop()
    assert outcomes == [("flow:aid.grant", "approved", {"amount": 2000})]
    assert state(users("parent", 0), sid)["state"]["status"] == "approved"
