"""Apps that write standard data: a school's own check-in app writes `attendance` records through the
ingest path (the app a registered source, the submission the source id), they appear in the change feed
and the points plugin deducts from them like from a class board's; the publish check refuses mappings
that do not fit the library; an approved-mode app writes at approval; a withdrawn submission's record
leaves a tombstone."""
from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from tests.points.conftest import installed, publish, sample_student, schools  # noqa: F401 - fixtures

LEAVE_SCHEMA = {
    "type": "object", "required": ["student", "start", "kind"],
    "properties": {
        "student": {"type": "string", "x-jizuo-binding": "student"},
        "start": {"type": "string", "format": "date"},
        "kind": {"type": "string", "oneOf": [{"const": "sick", "title": "病假"}, {"const": "personal", "title": "事假"}]},
        "days": {"type": "integer", "minimum": 1},
        "note": {"type": "string"},
    },
}


def _seed(app) -> None:
    from foundation import db
    from foundation.lowcode.forms import seed_templates
    from foundation.tenancy import unscoped

    with app.app_context():
        seed_templates(unscoped("test setup").mark(db.session()), plugin_templates=[])
        db.session().commit()


def _template(user, zh: str) -> dict:
    return next(f for f in user.get("/api/v1/forms").get_json()["items"] if f["title"]["zh"] == zh)


def _feed(user, since: str = "0") -> list[dict]:
    resp = user.get(f"/api/v1/changes?library=attendance&since={since}")
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()["items"]


def test_a_check_in_app_writes_attendance_that_points_deducts(app, installed, users, db_session, demo):  # noqa: F811
    _seed(app)
    admin, teacher = users("school_admin", 0), users("homeroom_teacher", 0)
    template = _template(admin, "校内考勤登记")
    # a teacher's own copy may not write the school's attendance: that is the school's to allow
    own = teacher.post(f"/api/v1/forms/{template['id']}/clone", json={}).get_json()
    refused = teacher.post(f"/api/v1/forms/{own['id']}/publish")
    assert refused.status_code == 422
    assert "学校管理员" in refused.get_json()["error"]["fields"]["app/writes/library"]
    checkin = admin.post(f"/api/v1/forms/{template['id']}/clone", json={"title": "二小考勤登记"}).get_json()
    assert admin.post(f"/api/v1/forms/{checkin['id']}/publish").status_code == 201
    source = f"lowcode_app_{checkin['id']}"
    from foundation.models import DataSource

    assert db_session.scalar(sa.select(DataSource.libraries).where(DataSource.code == source)) == ["attendance"]
    since = str(max([c["seq"] for c in _feed(admin)] or [0]))
    kid = sample_student(db_session, demo)
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    sent = teacher.post(f"/api/v1/forms/{checkin['id']}/submissions", json={"data": {
        "student": kid.student_no, "date": yesterday, "status": "late", "minutes_late": 7}})
    assert sent.status_code == 201, sent.get_json()
    sid = sent.get_json()["id"]
    fed = _feed(admin, since)
    assert [(c["op"], c["library"]) for c in fed] == [("create", "attendance")]
    records = admin.get(f"/api/v1/records/attendance?student_id={kid.id}").get_json()["items"]
    mine = next(r for r in records if r["id"] == fed[0]["id"])
    assert (mine["source"], mine["source_id"]) == (source, str(sid))
    assert mine["data"]["status"] == "late" and mine["data"]["minutes_late"] == 7
    got = admin.get(f"/points/api/students/{kid.id}").get_json()
    assert got["score"] == 998
    assert [(e["rule_code"], e["points"], e["source"]) for e in got["entries"]] == [("late", -2, "attendance")]
    # a future day is refused at the door, naming the form's field (the library takes no future check-in)
    ahead = (date.today() + timedelta(days=3)).isoformat()
    future = teacher.post(f"/api/v1/forms/{checkin['id']}/submissions", json={"data": {
        "student": kid.student_no, "date": ahead, "status": "absent"}})
    assert future.status_code == 422 and set(future.get_json()["error"]["fields"]) == {"date"}
    # writing the same submission again changes nothing (ingest is idempotent on source and source id)
    from foundation import db
    from foundation.lowcode import forms, writes
    from foundation.models import Submission
    from foundation.tenancy import unscoped

    with app.app_context():
        sess = unscoped("test: write again").mark(db.session())
        row = sess.get(Submission, sid)
        assert writes.write(sess, forms.latest(sess, checkin["id"]).app, row) is None
        sess.commit()
    assert _feed(admin, since) == fed and admin.get(f"/points/api/students/{kid.id}").get_json()["score"] == 998


def test_publish_refuses_a_mapping_that_does_not_fit_the_library(users):
    admin = users("school_admin", 0)

    def problems(fields: dict, schema: dict = LEAVE_SCHEMA, lang: str | None = None, **extra) -> dict:
        app = {"writes": {"library": "attendance", "fields": fields, **extra}}
        form = admin.post("/api/v1/forms", json={"title": "x", "schema": schema, "app": app}).get_json()
        resp = admin.post(f"/api/v1/forms/{form['id']}/publish", lang=lang)
        assert resp.status_code == 422, resp.get_json()
        return resp.get_json()["error"]["fields"]

    got = problems({"occurred_at": "note", "status": "kind", "period": "note", "weather": "days"})
    assert got == {
        "app/writes/fields/occurred_at": "数据元「occurred_at」是时间，表单字段「note」不是日期或时间字段",
        "app/writes/fields/status": "表单字段「kind」的选项「sick」不是数据元「status」代码表中的代码",
        "app/writes/fields/period": "数据元「period」是整数，表单字段「note」不是整数字段",
        "app/writes/fields/weather": "业务库「attendance」中没有数据元「weather」",
    }
    got = problems({"occurred_at": "start", "minutes_late": "days"}, lang="en", when="approved")
    assert got == {
        "app/writes/fields/status": "The element \"status\" is required by the library: name the form field "
                                    "(or a fixed value) that fills it",
        "app/writes/when": "\"Write when approved\" needs an approval or an approval flow",
    }
    optional = problems({"occurred_at": "start", "status": {"const": "tardy"}, "reason": "missing"})
    assert optional == {"app/writes/fields/status": "数据元「status」不接受固定值「tardy」",
                        "app/writes/fields/reason": "表单中没有字段「missing」"}
    no_student = {"type": "object", "required": ["start"], "properties": {"start": {"type": "string", "format": "date"}}}
    assert problems({"occurred_at": "start", "status": {"const": "late"}}, no_student) == {
        "app/writes/library": "业务库「attendance」的记录关于一名学生：表单需要一个绑定学生的字段，或只由学生、家长填写"}
    unknown = admin.post("/api/v1/forms", json={"title": "x", "schema": LEAVE_SCHEMA, "app": {
        "writes": {"library": "weather", "fields": {"a": "start"}}}}).get_json()
    assert admin.post(f"/api/v1/forms/{unknown['id']}/publish").get_json()["error"]["fields"] == {
        "app/writes/library": "没有可写入的业务库「weather」"}


def test_an_approved_leave_becomes_attendance_and_a_withdrawn_one_leaves_a_tombstone(app, users, db_session, demo):
    admin, parent, teacher = users("school_admin", 0), users("parent", 0), users("homeroom_teacher", 0)
    leave = {"approval": {"by": "homeroom_teacher"}, "audience": {"fill": ["parent"]},
             "writes": {"library": "attendance",
                        "fields": {"occurred_at": "start", "status": {"const": "leave"}, "reason": "note"}}}
    form = admin.post("/api/v1/forms", json={"title": "请假", "schema": LEAVE_SCHEMA, "app": leave}).get_json()
    assert admin.post(f"/api/v1/forms/{form['id']}/publish").status_code == 201, "a school admin may"
    since = str(max([c["seq"] for c in _feed(admin)] or [0]))
    from tests.lowcode.test_apps import _child, _ids

    kid = _child(db_session, _ids(demo, db_session, "parent", 0)[1])
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    sent = parent.post(f"/api/v1/forms/{form['id']}/submissions", json={"data": {
        "student": kid.student_no, "start": yesterday, "kind": "sick", "note": "发烧"}})
    assert sent.status_code == 201, sent.get_json()
    sid = sent.get_json()["id"]
    assert _feed(admin, since) == []  # pending: nothing is standard data yet
    ok = teacher.post(f"/api/v1/forms/{form['id']}/submissions/{sid}/decision", json={"decision": "approved"})
    assert ok.status_code == 200, ok.get_json()
    fed = _feed(admin, since)
    assert [c["op"] for c in fed] == ["create"]
    from foundation.models import Record

    record = db_session.get(Record, fed[0]["id"])
    assert record.data == {"occurred_at": record.data["occurred_at"], "status": "leave", "reason": "发烧"}
    assert (record.source_id, record.subject_id) == (str(sid), kid.id)
    # an app that writes at once ("submitted"), with an approval: withdrawing while pending tombstones it
    at_once = {**leave, "writes": {**leave["writes"], "when": "submitted"}}
    form = admin.post("/api/v1/forms", json={"title": "请假登记", "schema": LEAVE_SCHEMA, "app": at_once}).get_json()
    assert admin.post(f"/api/v1/forms/{form['id']}/publish").status_code == 201
    sid = parent.post(f"/api/v1/forms/{form['id']}/submissions", json={"data": {
        "student": kid.student_no, "start": yesterday, "kind": "personal"}}).get_json()["id"]
    written = _feed(admin, str(fed[-1]["seq"]))
    assert [c["op"] for c in written] == ["create"]
    assert parent.post(f"/api/v1/flow/submissions/{sid}/withdraw").status_code == 200
    assert [(c["op"], c["id"]) for c in _feed(admin, str(fed[-1]["seq"]))] == [
        ("create", written[0]["id"]), ("delete", written[0]["id"])]
    assert all(r["id"] != written[0]["id"] for r in admin.get("/api/v1/records/attendance").get_json()["items"])
