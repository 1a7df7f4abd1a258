"""Return for changes (退回修改): an approver sends a pending leave back with a note; the parent is told,
changes it on the prefilled fill page and submits it again — the same submission, its earlier answers on
the timeline, the flow again from its first step on the new answers; withdrawal works while returned; the
batch decision never returns."""
from __future__ import annotations

import re

from tests.lowcode.test_flow import account, inbox, publish, state, submit, task_of


def test_a_returned_leave_is_changed_and_resubmitted_keeping_its_history(users, db_session, demo):
    from tests.lowcode.test_flow import LEAVE

    leave = publish(users, LEAVE)
    parent, homeroom, grade = users("parent", 0), users("homeroom_teacher", 0), users("grade_head", 0)
    sid = submit(parent, leave, 2)  # 2 days: the grade head's step is skipped
    task = task_of(homeroom, sid)
    silent = homeroom.post(f"/api/v1/flow/tasks/{task['id']}/return", json={"note": "  "})
    assert silent.status_code == 422 and list(silent.get_json()["error"]["fields"]) == ["note"]
    assert state(parent, sid)["state"]["status"] == "pending"  # nothing happened
    assert homeroom.post("/api/v1/flow/tasks/decide", json={"tasks": [task["id"]], "decision": "returned",
                                                            "note": "x"}).status_code == 422  # never in a batch
    assert grade.post(f"/api/v1/flow/tasks/{task['id']}/return", json={"note": "改"}).status_code in (403, 404)

    resp = homeroom.post(f"/api/v1/flow/tasks/{task['id']}/return", json={"note": "请写明是3天"})
    assert resp.status_code == 200 and resp.get_json()["status"] == "returned", resp.get_json()
    assert task_of(homeroom, sid) is None  # gone from 待我审批
    assert "请假：退回修改" in inbox(db_session, account(db_session, demo, "parent"))
    mine = parent.get("/api/v1/flow/submissions").get_json()["submissions"]
    assert next(s for s in mine if s["id"] == sid)["status"] == "returned"

    bad = parent.post(f"/api/v1/flow/submissions/{sid}/resubmit", json={"data": {"days": 99}})
    assert bad.status_code == 422 and "days" in bad.get_json()["error"]["fields"]
    stranger = users("parent", 1).post(f"/api/v1/flow/submissions/{sid}/resubmit", json={"data": {"days": 5}})
    assert stranger.status_code == 404
    again = parent.post(f"/api/v1/flow/submissions/{sid}/resubmit", json={"data": {"days": 5, "reason": "病假"}})
    assert again.status_code == 200 and again.get_json()["id"] == sid, again.get_json()
    assert again.get_json()["status"] == "pending" and again.get_json()["step"]["key"] == "homeroom"
    twice = parent.post(f"/api/v1/flow/submissions/{sid}/resubmit", json={"data": {"days": 5}})
    assert twice.status_code == 422 and "submission" in twice.get_json()["error"]["fields"]

    from tests.lowcode.test_flow import approve

    approve(homeroom, sid)
    assert state(parent, sid)["state"]["step"]["key"] == "grade"  # 5 days now: the grade head's step is taken
    timeline = state(parent, sid)["timeline"]
    kinds = [line["kind"] for line in timeline]
    assert kinds == ["submitted", "step", "returned", "resubmitted", "step", "approved", "step"]
    returned, resubmitted = timeline[2], timeline[3]
    assert returned["note"] == "请写明是3天" and "退回修改" in returned["text"]
    assert resubmitted["previous"] == {"days": 2, "reason": "病假"}
    assert resubmitted["changes"] == [{"field": "days", "before": 2, "after": 5}]
    english = parent.get(f"/api/v1/flow/submissions/{sid}", lang="en").get_json()["timeline"]
    assert english[2]["text"].startswith("Returned for changes")


def _token(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_return_and_resubmit_from_the_pages_and_withdraw_while_returned(users, db_session, demo):
    from tests.lowcode.test_flow import LEAVE

    leave = publish(users, LEAVE)
    parent, homeroom = users("parent", 0), users("homeroom_teacher", 0)
    sid = submit(parent, leave, 2)
    page = homeroom.client.get(f"/flow/submissions/{sid}").get_data(as_text=True)
    assert "退回修改" in page and f"/flow/submissions/{sid}/return" in page
    task = task_of(homeroom, sid)
    empty = homeroom.client.post(f"/flow/submissions/{sid}/return", data={"csrf_token": _token(page), "task": task["id"],
                                                                         "note": ""})
    assert empty.status_code == 302 and "error=flow.return_note" in empty.headers["Location"]
    done = homeroom.client.post(f"/flow/submissions/{sid}/return", data={"csrf_token": _token(page), "task": task["id"],
                                                                        "note": "事由写具体些"})
    assert done.status_code == 302 and state(parent, sid)["state"]["status"] == "returned"

    mine = parent.client.get(f"/flow/submissions/{sid}").get_data(as_text=True)
    assert "事由写具体些" in mine and f"/flow/submissions/{sid}/edit" in mine
    assert f"/flow/submissions/{sid}/edit" in parent.client.get("/my/submissions").get_data(as_text=True)
    edit = parent.client.get(f"/flow/submissions/{sid}/edit").get_data(as_text=True)
    assert "事由写具体些" in edit and 'value="2"' in edit and "重新提交" in edit  # prefilled with the answers
    assert homeroom.client.get(f"/flow/submissions/{sid}/edit").status_code == 404  # the submitter's only
    wrong = parent.client.post(f"/flow/submissions/{sid}/edit", data={"csrf_token": _token(edit), "f.days": "0"})
    assert wrong.status_code == 422 and state(parent, sid)["state"]["status"] == "returned"
    ok = parent.client.post(f"/flow/submissions/{sid}/edit", data={"csrf_token": _token(edit), "f.days": "2",
                                                                  "f.reason": "发烧，医院证明"})
    assert ok.status_code == 302 and ok.headers["Location"].endswith(f"/flow/submissions/{sid}")
    after = parent.client.get(f"/flow/submissions/{sid}").get_data(as_text=True)
    assert "发烧，医院证明" in after and "<del>病假</del>" in after  # the change, on the timeline

    task = task_of(homeroom, sid)
    homeroom.post(f"/api/v1/flow/tasks/{task['id']}/return", json={"note": "再改"})
    withdrawn = parent.post(f"/api/v1/flow/submissions/{sid}/withdraw")
    assert withdrawn.status_code == 200 and withdrawn.get_json()["status"] == "withdrawn"
    gone = parent.post(f"/api/v1/flow/submissions/{sid}/resubmit", json={"data": {"days": 2}})
    assert gone.status_code == 422
