"""The roll and the loop back to the family: a course's teacher (a homeroom teacher, reaching only her own
classes) takes the whole roll of her course; a child absent without leave has the parents told at once; leave
asked through the plugin's low-code template turns the absence into leave and tells nobody; ratings reach the
school without names; the district sees every school's figures, and one school only after entering it."""
from __future__ import annotations

import re
from datetime import date, timedelta

import sqlalchemy as sa

from plugins.afterschool.models import attendance, sessions
from tests.afterschool.conftest import child_of
from tests.afterschool.test_selection import P, setup_fcfs


def test_the_teacher_takes_the_roll_absence_tells_the_parent_leave_does_not(app, installed, users, db_session, demo):
    from foundation import db
    from foundation.lowcode.forms import seed_templates
    from foundation.tenancy import unscoped

    s = setup_fcfs(users, db_session, demo)
    parent, kid = users("parent", 0), child_of(db_session, demo)
    assert parent.post(f"{P}/windows/{s['window']}/choices", json={"student_id": kid, "courses": [s["a"]]}
                       ).get_json()["items"][0]["outcome"] == "enrolled"
    teacher = users("homeroom_teacher", 0)  # the course's teacher (setup_fcfs)
    today, tomorrow = date.today(), date.today() + timedelta(days=1)
    roll = teacher.get(f"{P}/courses/{s['a']}/roll?day={today}")
    assert roll.status_code == 200 and [k["id"] for k in roll.get_json()["items"]] == [kid]
    assert teacher.get(f"/afterschool/courses/{s['a']}/roll").status_code == 200
    # the parent asks for tomorrow's leave through the plugin's template, cloned and published by the school
    with app.app_context():
        seed_templates(unscoped("test setup").mark(db.session()))
        db.session().commit()
    admin = s["admin"]
    template = next(f for f in admin.get("/api/v1/forms").get_json()["items"] if f["title"]["zh"] == "课后服务请假")
    form = admin.post(f"/api/v1/forms/{template['id']}/clone", json={"title": "课后服务请假"}).get_json()
    assert admin.post(f"/api/v1/forms/{form['id']}/publish").status_code == 201
    number = db_session.execute(sa.text("SELECT student_no FROM students WHERE id = :i"), {"i": kid}).scalar()
    sent = parent.post(f"/api/v1/forms/{form['id']}/submissions", json={"data": {
        "student": number, "date": tomorrow.isoformat(), "kind": "病假", "note": "发烧"}})
    assert sent.status_code == 201, sent.get_json()
    assert teacher.get(f"{P}/courses/{s['a']}/roll?day={tomorrow}").get_json()["items"][0]["leave"] is True
    on_leave = teacher.post(f"{P}/courses/{s['a']}/roll", json={"day": tomorrow.isoformat(), "marks": {str(kid): "absent"}})
    assert on_leave.get_json() == {"session_id": on_leave.get_json()["session_id"], "saved": 1, "told": 0}
    # absent without leave today: the parents are told at once, once
    before = len(parent.get("/api/v1/messages/inbox").get_json()["items"])
    for _ in range(2):
        told = teacher.post(f"{P}/courses/{s['a']}/roll", json={"day": today.isoformat(), "marks": {str(kid): "absent"}})
        assert told.status_code == 200
    assert told.get_json()["told"] == 0  # the second save changes nothing, tells nobody again
    inbox = parent.get("/api/v1/messages/inbox").get_json()["items"]
    assert len(inbox) == before + 1 and "3D 打印" in inbox[0]["subject"] and "未到" in inbox[0]["subject"]
    db_session.expire_all()
    assert sorted(db_session.scalars(sa.select(attendance.c.status).join(sessions, sessions.c.id == attendance.c.session_id)
                                     .where(attendance.c.student_id == kid, sessions.c.course_id == s["a"]))) == [
        "absent", "leave"]
    # the student's profile (一生一档) shows the course and the attendance, to the family and to staff
    for viewer in (parent, teacher):
        sections = viewer.get(f"/api/v1/students/{kid}/profile").get_json()["sections"]
        mine = next(x for x in sections if x["key"] in ("afterschool.courses", "afterschool.courses_own"))
        assert "3D 打印" in [c["title"] for c in mine["data"]["courses"]] and mine["data"]["absent"] >= 1
    # only the course's teacher (or the school's admin) takes its roll; nobody of another school sees it
    assert users("subject_teacher", 0).get(f"{P}/courses/{s['a']}/roll").status_code in (403, 404)
    assert users("homeroom_teacher", 1).get(f"{P}/courses/{s['a']}/roll").status_code == 404
    bad = teacher.post(f"{P}/courses/{s['a']}/roll", json={"marks": {str(kid): "asleep"}})
    assert bad.status_code == 422 and f"marks.{kid}" in bad.get_json()["error"]["fields"]
    stranger = teacher.post(f"{P}/courses/{s['a']}/roll", json={"marks": {"1": "present"}})
    assert stranger.status_code == 422 and "marks" in stranger.get_json()["error"]["fields"]
    # the family rates the course after it met; the school reads stars and words, no names
    rated = parent.post(f"{P}/courses/{s['a']}/ratings", json={"student_id": kid, "stars": 5, "comment": "很喜欢"})
    assert rated.status_code == 201
    assert parent.post(f"{P}/courses/{s['a']}/ratings", json={"student_id": kid, "stars": 9}).status_code == 422
    got = admin.get(f"{P}/courses/{s['a']}/ratings").get_json()
    assert got["average"] == 5 and [set(i) for i in got["items"]] == [{"stars", "comment", "by", "at"}]


def test_the_district_sees_every_school_side_by_side_and_one_school_only_by_entering(app, installed, users, demo):
    district = users("district_admin", 0)
    keys = ["afterschool.categories", "afterschool.participation", "afterschool.venues", "afterschool.attendance",
            "afterschool.ratings"]
    figs = district.get("/api/v1/district/figures?" + "&".join(f"key={k}" for k in keys)).get_json()["items"]
    assert sorted(f["key"] for f in figs) == sorted(keys)
    for f in figs:
        assert len(f["schools"]) == 2 and not f.get("refused") and not f.get("failed"), f
    share = next(f for f in figs if f["key"] == "afterschool.participation")
    assert all(0 < c["value"] < 100 for s in share["schools"] for c in s["cells"] if c["group"]["enrolled"])
    names = {n for row in demo["logins"] for n in [row.get("username")]}
    assert not any(n in str(figs) for n in names)
    page = district.get("/afterschool/district")
    assert page.status_code == 200 and "课后服务数字化监管" in page.get_data(as_text=True)
    assert district.get(f"{P}/courses").status_code == 404  # no school's detail from district level
    assert users("school_admin", 0).get("/afterschool/district").status_code == 404
    assert users("parent", 0).get("/afterschool/district").status_code == 404
    # the district's audited enter-school step, then that school's courses
    html = district.get("/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    entered = district.client.post("/district/enter", data={"school_id": installed[0], "csrf_token": token})
    assert entered.status_code == 302
    courses = district.get(f"{P}/courses")
    assert courses.status_code == 200 and courses.get_json()["school_id"] == installed[0]
    assert district.get(f"{P}/courses?school_id={installed[1]}").status_code == 404

