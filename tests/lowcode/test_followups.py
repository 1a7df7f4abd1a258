"""Several forms in one app: a leave, then its return-to-school report (返校报告) filled as a follow-up of
the same case — it carries the leave's id and its student, only a leave the filler may see can be followed
up, and the app's view shows the report's field beside the leave; from the pages, the leave's page offers
「填写返校报告」, the report is filled for that leave and shows under it."""
from __future__ import annotations

import re

import sqlalchemy as sa

from tests.lowcode.test_apps import _child, _ids

LEAVE = {"type": "object", "required": ["student", "days"],
         "properties": {"student": {"type": "string", "x-jizuo-binding": "student"},
                        "days": {"type": "integer", "minimum": 1}}}
REPORT = {"type": "object", "required": ["back_on"],
          "properties": {"back_on": {"type": "string", "format": "date"}, "healthy": {"type": "boolean"}}}


def test_a_return_report_follows_up_a_leave_and_shows_in_the_apps_view(users, demo, db_session):
    teacher, parent = users("homeroom_teacher", 0), users("parent", 0)
    app = {"audience": {"fill": ["parent"], "see": ["homeroom_teacher"]},
           "views": [{"key": "main", "columns": ["student", "days", "return_report.back_on"],
                      "filters": ["return_report.back_on"]}]}
    leave = teacher.post("/api/v1/forms", json={"title": "请假", "schema": LEAVE, "app": app}).get_json()
    assert teacher.post(f"/api/v1/forms/{leave['id']}/publish").status_code == 201
    body = {"title": {"zh": "返校报告", "en": "Return to school"}, "schema": REPORT,
            "app": {"audience": {"fill": ["parent"]}}, "main_form_id": leave["id"], "followup_key": "return_report"}
    report = teacher.post("/api/v1/forms", json=body)
    assert report.status_code == 201, report.get_json()
    report = report.get_json()
    assert teacher.post(f"/api/v1/forms/{report['id']}/publish").status_code == 201
    again = teacher.post("/api/v1/forms", json=body)
    assert again.status_code == 422 and "followup_key" in again.get_json()["error"]["fields"]
    other = users("homeroom_teacher", 1).post("/api/v1/forms", json={**body, "followup_key": "mine"})
    assert other.status_code == 422 and set(other.get_json()["error"]["fields"]) == {"main_form_id"}

    child = _child(db_session, _ids(demo, db_session, "parent", 0)[1])
    sid = parent.post(f"/api/v1/forms/{leave['id']}/submissions", json={"data": {
        "student": child.student_no, "days": 2}}).get_json()["id"]
    missing = parent.post(f"/api/v1/forms/{report['id']}/submissions", json={"data": {"back_on": "2026-11-30"}})
    assert missing.status_code == 422 and "parent_id" in missing.get_json()["error"]["fields"]
    stranger = users("parent", 1).post(f"/api/v1/forms/{report['id']}/submissions",
                                       json={"data": {"back_on": "2026-11-30"}, "parent_id": sid})
    assert stranger.status_code in (403, 404, 422)  # another school's parent cannot follow up this leave
    done = parent.post(f"/api/v1/forms/{report['id']}/submissions",
                       json={"data": {"back_on": "2026-11-30", "healthy": True}, "parent_id": sid})
    assert done.status_code == 201, done.get_json()
    assert (done.get_json()["parent_id"], done.get_json()["student_id"]) == (sid, child.id)
    not_followup = parent.post(f"/api/v1/forms/{leave['id']}/submissions", json={"data": {
        "student": child.student_no, "days": 1}, "parent_id": sid})
    assert not_followup.status_code == 422 and "parent_id" in not_followup.get_json()["error"]["fields"]

    view = teacher.get(f"/api/v1/forms/{leave['id']}/view").get_json()
    row = next(r for r in view["rows"] if r["id"] == sid)
    assert row["data"]["return_report.back_on"] == "2026-11-30" and row["data"]["days"] == 2
    filtered = teacher.get(f"/api/v1/forms/{leave['id']}/view?f_return_report.back_on=2026-11-30").get_json()
    assert [r["id"] for r in filtered["rows"]] == [sid]


def test_the_leave_page_offers_the_report_and_shows_it_once_filled(users, demo, db_session):
    teacher, parent = users("homeroom_teacher", 0), users("parent", 0)
    app = {"audience": {"fill": ["parent"], "see": ["homeroom_teacher"]}}
    leave = teacher.post("/api/v1/forms", json={"title": "请假", "schema": LEAVE, "app": app}).get_json()["id"]
    assert teacher.post(f"/api/v1/forms/{leave}/publish").status_code == 201
    report = teacher.post("/api/v1/forms", json={
        "title": {"zh": "返校报告", "en": "Return to school"}, "schema": REPORT, "app": {"audience": {"fill": ["parent"]}},
        "main_form_id": leave, "followup_key": "return_report"}).get_json()["id"]
    assert teacher.post(f"/api/v1/forms/{report}/publish").status_code == 201
    child = _child(db_session, _ids(demo, db_session, "parent", 0)[1])
    sid = parent.post(f"/api/v1/forms/{leave}/submissions", json={"data": {
        "student": child.student_no, "days": 2}}).get_json()["id"]

    page = parent.client.get(f"/flow/submissions/{sid}").get_data(as_text=True)
    assert "填写返校报告" in page and f"/forms/{report}/fill?parent={sid}" in page
    assert "填写返校报告" not in teacher.client.get(f"/flow/submissions/{sid}").get_data(as_text=True)  # parents fill it
    alone = parent.client.get(f"/forms/{report}/fill").get_data(as_text=True)
    assert "后续表单要从原申请的页面填写" in alone  # opened without its leave: said before anything is typed
    fill = parent.client.get(f"/forms/{report}/fill?parent={sid}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', fill).group(1)
    done = parent.client.post(f"/forms/{report}/fill?parent={sid}", data={"csrf_token": token, "f.back_on": "2026-11-30"})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/flow/submissions/{sid}")
    for viewer in (parent, teacher):  # the submitter and the staff who see the leave read the report under it
        shown = viewer.client.get(f"/flow/submissions/{sid}").get_data(as_text=True)
        assert "返校报告" in shown and "2026-11-30" in shown


def test_a_plugin_flows_form_is_not_in_the_staff_forms_list(users, db_session):
    from foundation.models import LowcodeForm

    admin = users("school_admin", 0)
    made = admin.post("/api/v1/forms", json={"title": "助学金评审单", "schema": REPORT}).get_json()["id"]
    kept = admin.post("/api/v1/forms", json={"title": "教师自己的表单", "schema": REPORT}).get_json()["id"]
    db_session.execute(sa.update(LowcodeForm).where(LowcodeForm.id == made).values(template_key="flow:aid.grant"))
    db_session.commit()
    page = admin.client.get("/forms").get_data(as_text=True)
    assert "教师自己的表单" in page and f"/forms/{kept}/" in page
    assert "助学金评审单" not in page
