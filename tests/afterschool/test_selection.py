"""First come, first served: the catalogue refuses clashes with the field and the reason; a full course puts
a child on its waiting list; a clash is refused; a freed seat moves the list up and tells the family."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from plugins.afterschool.models import busy, choices
from tests.afterschool.conftest import child_of, person

P = "/afterschool/api"
THREE = {"periods": [["15:40", "16:40"], ["16:50", "17:50"], ["18:00", "18:40"]]}  # period 3: free in the demo


def _iso(**kw) -> str:
    return (datetime.now(UTC) + timedelta(**kw)).isoformat()


def _course(admin, venue: int, grades: list[int], slots, teacher: int, title: str, capacity: int = 1):
    return admin.post(f"{P}/courses", json={"title": title, "category": "science", "venue_id": venue, "slots": slots,
                                            "capacity": capacity, "grades": grades, "teacher_staff_id": teacher})


def setup_fcfs(users, db_session, demo) -> dict:
    admin = users("school_admin", 0)
    assert admin.put("/api/v1/plugins/afterschool/config", json={"config": THREE}).status_code == 200
    venue = admin.post(f"{P}/venues", json={"name": "创客教室", "capacity": 2}).get_json()["id"]
    grades = admin.get(f"{P}/windows").get_json()["items"][0]["grades"]
    teacher = person(db_session, demo, "homeroom_teacher")[1]
    a = _course(admin, venue, grades, [[2, 3]], teacher, "3D 打印")
    assert a.status_code == 201, a.get_json()
    w = admin.post(f"{P}/windows", json={"title": "补选", "opens_at": _iso(minutes=-1), "closes_at": _iso(days=1),
                                         "mode": "fcfs", "grades": grades, "max_courses": 3, "students_choose": True})
    assert w.status_code == 201, w.get_json()
    return {"admin": admin, "venue": venue, "grades": grades, "teacher": teacher, "a": a.get_json()["id"],
            "window": w.get_json()["id"]}


def test_first_come_waiting_list_clash_and_moving_up(app, installed, users, db_session, demo):
    s = setup_fcfs(users, db_session, demo)
    admin, venue, grades = s["admin"], s["venue"], s["grades"]
    # the catalogue: the same venue or the same teacher at that time, or more seats than the venue holds
    clash = _course(admin, venue, grades, [[2, 3]], person(db_session, demo, "subject_teacher")[1], "激光切割")
    assert clash.status_code == 422 and "3D 打印" in clash.get_json()["error"]["fields"]["venue_id"]
    hall = admin.post(f"{P}/venues", json={"name": "报告厅", "capacity": 200}).get_json()["id"]
    busy_teacher = _course(admin, hall, grades, [[2, 3]], s["teacher"], "激光切割")
    assert busy_teacher.status_code == 422 and "teacher_staff_id" in busy_teacher.get_json()["error"]["fields"]
    big = _course(admin, venue, grades, [[3, 3]], s["teacher"], "激光切割", capacity=3)
    assert big.status_code == 422 and "2" in big.get_json()["error"]["fields"]["capacity"]
    same_time = _course(admin, hall, grades, [[2, 3]], person(db_session, demo, "subject_teacher")[1], "航模", 30)
    later = _course(admin, hall, grades, [[4, 3]], person(db_session, demo, "subject_teacher")[1], "无人机", 30)
    assert same_time.status_code == later.status_code == 201
    # the cadre takes the one seat; the parent's child waits, and cannot hold a clashing course meanwhile? it can:
    # a waiting place holds no time; an enrolled one does
    cadre, parent = users("student_cadre", 0), users("parent", 0)
    cadre_kid, kid = person(db_session, demo, "student_cadre")[1], child_of(db_session, demo)
    first = cadre.post(f"{P}/windows/{s['window']}/choices", json={"student_id": cadre_kid, "courses": [s["a"]]})
    assert first.get_json()["items"][0]["outcome"] == "enrolled"
    out = parent.post(f"{P}/windows/{s['window']}/choices", json={"student_id": kid, "courses": [s["a"]]}).get_json()
    assert out["items"][0]["outcome"] == "waiting" and out["items"][0]["position"] == 1
    again = parent.post(f"{P}/windows/{s['window']}/choices", json={"student_id": kid, "courses": [s["a"]]}).get_json()
    assert again["items"][0] == {"course_id": s["a"], "outcome": "refused", "reason": "already"}
    # the cadre, enrolled in 3D 打印 on Tuesday's third period, cannot also take 航模 then
    both = cadre.post(f"{P}/windows/{s['window']}/choices", json={"student_id": cadre_kid, "courses": [
        same_time.get_json()["id"], later.get_json()["id"]]}).get_json()["items"]
    assert [(o["outcome"], o.get("reason")) for o in both] == [("refused", "clash"), ("enrolled", None)]
    # the cadre withdraws: the seat goes to the waiting child at once, and the parent is told
    mine = next(w for w in cadre.get(f"{P}/me").get_json()["items"][0]["windows"] if w["id"] == s["window"])
    seat = next(c["id"] for c in mine["choices"] if c["course_id"] == s["a"])
    assert parent.delete(f"{P}/choices/{seat}").status_code in (403, 404)  # not the parent's child
    moved = cadre.delete(f"{P}/choices/{seat}")
    assert moved.status_code == 200 and moved.get_json()["moved_up"] == 1
    db_session.expire_all()
    assert db_session.scalar(sa.select(choices.c.status).where(choices.c.student_id == kid,
                                                               choices.c.course_id == s["a"])) == "enrolled"
    assert db_session.scalar(sa.select(sa.func.count()).select_from(busy).where(busy.c.student_id == cadre_kid,
                                                                                busy.c.course_id == s["a"])) == 0
    assert any("3D 打印" in m["subject"] for m in parent.get("/api/v1/messages/inbox").get_json()["items"])
    # a student chooses for themself only where the school allows it
    demo_window = next(w for w in parent.get(f"{P}/me").get_json()["items"][0]["windows"] if w["title"] == "本学期课后服务选课")
    assert demo_window["students_choose"] is False


def test_bad_input_is_a_422_naming_the_field_and_nothing_is_written(app, installed, users, db_session, demo):
    s = setup_fcfs(users, db_session, demo)
    admin, parent, kid = s["admin"], users("parent", 0), child_of(db_session, demo)
    before = db_session.scalar(sa.select(sa.func.count()).select_from(choices))
    for body, field in (({"student_id": kid, "courses": "x"}, "courses"), ({"student_id": kid, "courses": [s["a"], s["a"]]}, "courses"),
                        ({"courses": [s["a"]]}, "student_id"), ({"student_id": kid, "courses": [2**31 - 1]}, "courses")):
        resp = parent.post(f"{P}/windows/{s['window']}/choices", json=body, lang="en")
        assert resp.status_code == 422 and field in resp.get_json()["error"]["fields"], (body, resp.get_json())
    assert db_session.scalar(sa.select(sa.func.count()).select_from(choices)) == before
    bad = admin.post(f"{P}/windows", json={"title": "x", "opens_at": "2026-12-01 18:00", "closes_at": _iso(days=1),
                                           "mode": "fcfs", "grades": s["grades"]})
    assert bad.status_code == 422 and "opens_at" in bad.get_json()["error"]["fields"]
    slots = admin.post(f"{P}/courses", json={"title": "x", "category": "science", "venue_id": s["venue"], "capacity": 1,
                                             "slots": [[6, 1]], "grades": s["grades"], "teacher_staff_id": s["teacher"]})
    assert slots.status_code == 422 and "slots" in slots.get_json()["error"]["fields"]
    assert users("school_admin", 1).put(f"{P}/courses/{s['a']}", json={}).status_code == 404  # another school's
    assert parent.post(f"{P}/courses", json={}).status_code in (403, 404)
