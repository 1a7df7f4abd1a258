"""The alerts API: inbox by urgency, a case with its timeline, recorded steps, and who sees what — a teacher
of another class or school gets 404, parents and students never see cases, sensitive notes stay with the
assigned staff and reading them is audited."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from tests.alerts.conftest import CONDUCT, PSY
from tests.conftest import login_of


def _open(app, k, rule, idx, **kw):
    from foundation import db
    from foundation.alerts import trigger
    from foundation.tenancy import unscoped

    with app.app_context():
        sess = unscoped("test setup").mark(db.session())
        case = trigger(sess, rule, student_id=k.students[idx], school_id=k.school_id, **kw)
        sess.commit()
        return case.id


def _other_homeroom(db_session, k) -> str:
    from foundation.models import Account, Membership

    return db_session.scalar(sa.select(Account.username).join(Membership, Membership.account_id == Account.id).where(
        Membership.role == "homeroom_teacher", Membership.school_id == k.school_id,
        Membership.org_unit_id != k.class_id).order_by(Account.id).limit(1))


def test_the_homeroom_teacher_handles_a_red_case_through_the_api(app, login, k0, db_session):
    conduct = _open(app, k0, CONDUCT, 0)
    red = _open(app, k0, PSY, 1, value=31)
    teacher = login("homeroom_teacher", 0)
    inbox = teacher.get("/api/v1/alerts/cases").get_json()
    assert [c["id"] for c in inbox["items"]] == [red, conduct]  # red due in an hour comes first
    first = inbox["items"][0]
    assert first["level"] == "red" and first["next_deadline"] == "contact" and 0 < first["seconds_left"] <= 3600
    resp = teacher.post(f"/api/v1/alerts/cases/{red}/actions", json={"kind": "contact"})
    assert resp.status_code == 422 and "note" in resp.get_json()["error"]["fields"]
    resp = teacher.post(f"/api/v1/alerts/cases/{red}/actions",
                        json={"kind": "contact", "method": "phone", "note": "与家长电话沟通，学生情绪平稳"})
    assert resp.status_code == 201, resp.get_json()
    resp = teacher.post(f"/api/v1/alerts/cases/{red}/actions",
                        json={"kind": "plan", "note": "每天课间谈心，心理老师每周两次辅导", "evaluation_days": 28})
    case = resp.get_json()
    assert case["status"] == "planned" and case["next_due_at"] is None
    assert [d["met"] for d in case["deadlines"]] == [True, True]
    assert [e["kind"] for e in case["timeline"]] == ["opened", "contact", "plan"]
    assert case["timeline"][1]["actor"] and case["timeline"][1]["note"].startswith("与家长")
    en = teacher.post(f"/api/v1/alerts/cases/{red}/actions", json={"kind": "evaluate"}, lang="en")
    assert en.get_json()["error"]["fields"] == {"recovered": "This rule cannot judge recovery itself: say whether "
                                                              "the student recovered"}
    teacher.post(f"/api/v1/alerts/cases/{red}/actions", json={"kind": "evaluate", "recovered": True})
    closed = teacher.post(f"/api/v1/alerts/cases/{red}/actions", json={"kind": "close", "outcome": "recovered"})
    assert closed.get_json()["status"] == "closed"
    again = teacher.post(f"/api/v1/alerts/cases/{red}/actions", json={"kind": "note", "note": "x"})
    assert again.status_code == 422
    assert [c["id"] for c in teacher.get("/api/v1/alerts/cases").get_json()["items"]] == [conduct]
    assert red in [c["id"] for c in teacher.get("/api/v1/alerts/cases?status=closed").get_json()["items"]]
    from foundation.models import AuditEntry

    assert db_session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "alerts.case.contact", AuditEntry.resource_id == str(red))) == 1


def test_nobody_else_sees_the_case(app, login, k0, k1, db_session, demo):
    from tests.conftest import AuthActions

    case = _open(app, k0, CONDUCT, 2)
    other_case = _open(app, k1, CONDUCT, 0)
    url = f"/api/v1/alerts/cases/{case}"
    # a homeroom teacher of another class, the other school's staff: 404 on every case endpoint
    for username in (_other_homeroom(db_session, k0), login_of(demo, "homeroom_teacher", 1),
                     login_of(demo, "school_admin", 1), login_of(demo, "psychology_teacher", 0)):
        auth = AuthActions(app.test_client())
        assert auth.login(username).status_code == 302
        assert auth.get(url).status_code == 404, username
        assert auth.post(url + "/actions", json={"kind": "acknowledge"}).status_code == 404, username
        ids = [c["id"] for c in auth.get("/api/v1/alerts/cases?status=all&scope=school").get_json()["items"]]
        assert case not in ids, username
    # parents, students and subject teachers hold no alerts capability at all
    for role in ("parent", "student", "subject_teacher"):
        who = login(role, 0)
        assert who.get("/api/v1/alerts/cases").status_code == 403, role
        assert who.get(url).status_code in (403, 404), role
        assert who.post(url + "/actions", json={"kind": "acknowledge"}).status_code in (403, 404), role
        assert who.post("/api/v1/alerts/cases", json={"student_id": k0.students[2], "note": "x"}).status_code in (403, 404)
    admin = login("school_admin", 0)
    ids = [c["id"] for c in admin.get("/api/v1/alerts/cases?scope=school").get_json()["items"]]
    assert case in ids and other_case not in ids
    assert admin.get(f"/api/v1/alerts/cases/{other_case}").status_code == 404
    assert admin.get(f"/api/v1/alerts/cases?scope=school&school_id={k1.school_id}").status_code == 404
    assert admin.get(f"/api/v1/alerts/cases/{case}").status_code == 200


def test_a_psychology_case_is_seen_by_its_assignees_only(app, login, k0):
    """Restricted by its category: the school admin's overview and the grade head's class view do not list
    it nor open it (404), whereas a conduct case of the same class they do."""
    case = _open(app, k0, PSY, 8, value=31)
    conduct = _open(app, k0, CONDUCT, 8, value=60)
    for role in ("school_admin", "grade_head"):
        who = login(role, 0)
        listed = [c["id"] for c in who.get("/api/v1/alerts/cases?scope=school").get_json()["items"]]
        assert conduct in listed and case not in listed, role
        assert who.get(f"/api/v1/alerts/cases/{case}").status_code == 404, role
    assert login("psychology_teacher", 0).get(f"/api/v1/alerts/cases/{case}").status_code == 200
    assert login("homeroom_teacher", 0).get(f"/api/v1/alerts/cases/{case}").status_code == 200


def test_sensitive_notes_stay_with_the_assigned_staff_and_reads_are_audited(app, login, k0, db_session):
    from foundation.alerts import register_rule, unregister_rule

    register_rule({**PSY, "key": "test.psych_open", "restricted": False})  # sensitive, yet the overview sees it
    try:
        _sensitive_notes(app, login, k0, db_session, {**PSY, "key": "test.psych_open", "restricted": False})
    finally:
        unregister_rule("test.psych_open")


def _sensitive_notes(app, login, k0, db_session, rule):
    case = _open(app, k0, rule, 3, value=31, detail={"answers": "第9题：经常"})
    psych = login("psychology_teacher", 0)
    psych.post(f"/api/v1/alerts/cases/{case}/actions", json={"kind": "note", "note": "自述近期失眠，有自伤念头"})
    mine = psych.get(f"/api/v1/alerts/cases/{case}").get_json()
    assert mine["timeline"][-1]["note"] == "自述近期失眠，有自伤念头" and mine["value"] == 31
    admin = login("school_admin", 0)
    seen = admin.get(f"/api/v1/alerts/cases/{case}").get_json()
    assert seen["notes_visible"] is False and "自伤" not in str(seen) and "第9题" not in str(seen)
    assert seen["value"] is None and "value" not in seen["timeline"][0]["data"]
    assert seen["timeline"][-1]["note"] == "（敏感个案：仅分派的教师可见）"
    from foundation.models import AuditEntry

    rows = db_session.execute(sa.select(AuditEntry.username, AuditEntry.detail).where(
        AuditEntry.action == "alerts.case.read", AuditEntry.resource_id == str(case))).all()
    assert {(u.split(".")[1], d["notes_visible"]) for u, d in rows} == {("psych", True), ("admin", False)}


def test_a_teacher_raises_a_concern_about_own_student_only(login, k0, k1):
    teacher = login("homeroom_teacher", 0)
    resp = teacher.post("/api/v1/alerts/cases", json={"student_id": k0.students[4], "note": "连续三天情绪低落",
                                                      "level": "yellow"})
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["rule"] == "core.manual" and body["assigned_to_me"] and body["deadlines"][0]["name"] == "follow"
    assert teacher.post("/api/v1/alerts/cases", json={"student_id": k1.students[0], "note": "x"}).status_code == 404
    bad = teacher.post("/api/v1/alerts/cases", json={"student_id": k0.students[4], "note": "x", "rule": "nope"})
    assert bad.status_code == 422 and "rule" in bad.get_json()["error"]["fields"]
    rules = teacher.get("/api/v1/alerts/rules").get_json()["items"]
    assert "core.manual" in [r["key"] for r in rules]


def test_settings_and_calendar_belong_to_the_school(login, k0, k1):
    admin = login("school_admin", 0)
    assert admin.get("/api/v1/alerts/settings").get_json()["chain"][0] == "homeroom_teacher"
    bad = admin.put("/api/v1/alerts/settings", json={"deadlines": {"red": {"contact_hours": 0}}, "chain": ["parent"],
                                                     "weekdays": [7], "timezone": "Mars/Base"})
    assert set(bad.get_json()["error"]["fields"]) == {"deadlines.red.contact_hours", "chain", "weekdays", "timezone"}
    ok = admin.put("/api/v1/alerts/settings", json={"deadlines": {"red": {"contact_hours": 2}},
                                                    "chain": ["homeroom_teacher", "psychology_teacher", "school_admin"],
                                                    "weekdays": [0, 1, 2, 3, 4, 5]})
    assert ok.status_code == 200 and ok.get_json()["deadlines"]["red"] == {"contact_hours": 2, "plan_hours": 24,
                                                                          "escalate_every_hours": 1}
    assert admin.put("/api/v1/alerts/calendar/2026-10-01", json={"kind": "holiday", "name": "国庆"}).status_code == 200
    assert admin.put("/api/v1/alerts/calendar/2026-02-30", json={"kind": "holiday"}).status_code == 422
    assert admin.get("/api/v1/alerts/calendar?year=2026").get_json()["items"] == [
        {"day": "2026-10-01", "kind": "holiday", "name": "国庆"}]
    teacher = login("homeroom_teacher", 0)
    assert teacher.put("/api/v1/alerts/settings", json={"weekdays": [0]}).status_code == 403
    assert teacher.put("/api/v1/alerts/calendar/2026-10-02", json={"kind": "holiday"}).status_code == 403
    other = login("school_admin", 1)
    assert other.get("/api/v1/alerts/calendar").get_json()["items"] == []
    assert other.get(f"/api/v1/alerts/settings?school_id={k0.school_id}").status_code == 404
    assert other.delete("/api/v1/alerts/calendar/2026-10-01").status_code == 404
    assert login("school_admin", 0).delete("/api/v1/alerts/calendar/2026-10-01").status_code == 200


def test_figures_per_school_rule_and_teacher(app, login, k0, frozen):
    from foundation import db
    from foundation.alerts import act, trigger
    from foundation.tenancy import unscoped

    t0 = frozen.at
    with app.app_context():
        sess = unscoped("test setup").mark(db.session())
        fast = trigger(sess, PSY, student_id=k0.students[5], school_id=k0.school_id, now=t0)
        slow = trigger(sess, PSY, student_id=k0.students[6], school_id=k0.school_id, now=t0)
        trigger(sess, CONDUCT, student_id=k0.students[7], school_id=k0.school_id, now=t0)  # still pending
        for case, minutes in ((fast, 20), (slow, 100)):
            at = t0 + timedelta(minutes=minutes)
            act(sess, case, "contact", account_id=k0.homeroom, actor="t", note="联系", now=at)
            act(sess, case, "plan", account_id=k0.homeroom, actor="t", note="计划", now=at)
        act(sess, fast, "evaluate", account_id=k0.homeroom, actor="t", recovered=True, now=t0 + timedelta(days=30))
        act(sess, slow, "evaluate", account_id=k0.homeroom, actor="t", recovered=False, now=t0 + timedelta(days=30))
        sess.commit()
    frozen.at = t0 + timedelta(hours=3)
    admin = login("school_admin", 0)
    school = admin.get("/api/v1/alerts/figures").get_json()["items"]
    assert len(school) == 1
    row = school[0]
    assert (row["cases"], row["decided"], row["within_deadline"], row["within_share"]) == (3, 2, 1, 0.5)
    assert (row["median_minutes_to_contact"], row["recovered_share"]) == (60.0, 0.5)
    rules = {r["key"]: r for r in admin.get("/api/v1/alerts/figures?by=rule").get_json()["items"]}
    assert rules[PSY["key"]]["label"] == "心理筛查高风险" and rules[CONDUCT["key"]]["decided"] == 0
    teachers = {r["key"]: r for r in admin.get("/api/v1/alerts/figures?by=teacher").get_json()["items"]}
    assert teachers[k0.homeroom]["cases"] == 3 and teachers[k0.psych]["cases"] == 2
    assert login("homeroom_teacher", 0).get("/api/v1/alerts/figures").status_code == 403


def test_every_alerts_endpoint_is_closed_to_parents_students_and_other_schools(app, login, k0, k1):
    case = _open(app, k0, CONDUCT, 8)
    gets = ["/api/v1/alerts/cases", f"/api/v1/alerts/cases/{case}", "/api/v1/alerts/rules",
            "/api/v1/alerts/settings", "/api/v1/alerts/calendar", "/api/v1/alerts/figures"]
    for role in ("parent", "student"):
        who = login(role, 0)
        for url in gets:
            assert who.get(url).status_code in (403, 404), (role, url)
        assert who.put("/api/v1/alerts/settings", json={"weekdays": [0]}).status_code in (403, 404)
        assert who.put("/api/v1/alerts/calendar/2026-10-01", json={"kind": "holiday"}).status_code in (403, 404)
    other = login("school_admin", 1)
    for url in ("/api/v1/alerts/settings", "/api/v1/alerts/calendar", "/api/v1/alerts/figures"):
        assert other.get(f"{url}?school_id={k0.school_id}").status_code == 404, url
    # a school out of reach is not found, as a filter too (it says nothing about what the school holds)
    assert other.get(f"/api/v1/alerts/cases?scope=school&status=all&school_id={k0.school_id}").status_code == 404
    assert other.get(f"/api/v1/alerts/cases/{case}").status_code == 404


def test_junk_steps_on_a_real_case_are_422_and_change_nothing(app, login, k0, db_session):
    from foundation.models import AlertCase, AlertEvent

    case = _open(app, k0, PSY, 9)
    teacher = login("homeroom_teacher", 0)
    junk = [None, "", " ", "x" * 5000, -1, 0, 2**63, 3.5, True, [], {}, "\u0000", "汉字"]
    for field in ("kind", "note", "method", "evaluation_days", "recovered", "outcome", "nope"):
        for value in junk:
            resp = teacher.post(f"/api/v1/alerts/cases/{case}/actions", json={"kind": "close", field: value})
            assert resp.status_code == 422, (field, value, resp.get_json())
    for body in (None, [], "text", 42, {}, {"kind": "evaluate"}, {"kind": "acknowledge", "note": "\u0000"}):
        assert teacher.post(f"/api/v1/alerts/cases/{case}/actions", json=body).status_code == 422, body
    db_session.expire_all()
    assert db_session.scalar(sa.select(AlertCase.status).where(AlertCase.id == case)) == "opened"
    assert db_session.scalar(sa.select(sa.func.count()).select_from(AlertEvent).where(AlertEvent.case_id == case)) == 1


def test_the_district_compares_schools_explicitly(app, login, k0, k1, db_session):
    from foundation.models import AuditEntry

    _open(app, k0, PSY, 10)
    _open(app, k1, PSY, 1)
    district = login("district_admin")
    rows = district.get("/api/v1/alerts/figures?district=true").get_json()["items"]
    assert {r["key"] for r in rows} == {k0.school_id, k1.school_id} and all(r["cases"] == 1 for r in rows)
    assert db_session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "district.alerts.figures")) == 1
    assert login("school_admin", 0).get("/api/v1/alerts/figures?district=true").status_code == 403
