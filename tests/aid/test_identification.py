"""Identification over a month with a known truth: students in difficulty come out candidates with reasons and
figures; each exclusion (eats at home, eats off campus, on leave, on internship, joined mid-month, card
replaced, and a holiday month's few school days) comes out "not enough data", never "potential difficulty".
Then who sees it: only the student's homeroom teacher and the aid officer, on the API, the pages and the
profile; every read audited; the review loop and the coverage it feeds."""
from __future__ import annotations

import json
import random
from datetime import datetime, time

import sqlalchemy as sa

from tests.aid.conftest import A, homeroom_class, last_month, meals_of, school_days_of, write_records


def scenario(app, db_session, demo, schools, students0, users) -> dict:
    from foundation.models import Student

    month, school = last_month(), schools[0]
    days = school_days_of(app, school, month)
    assert len(days) >= 15
    hc = homeroom_class(db_session, demo)
    mine = [s for s in students0 if s.class_id == hc]
    others = [s for s in students0 if s.class_id != hc]
    rest = others[4:]
    who = {"poor": [s.id for s in mine[:3]], "at_home": rest[0].id, "off_campus": rest[1].id, "leave": rest[2].id,
           "joined": rest[3].id, "replaced": rest[4].id, "intern": [s.id for s in others[:4]],
           "day_pupils": [s.id for s in rest[5:25]], "hc": hc, "month": month}
    db_session.execute(sa.update(Student).where(Student.school_id == school).values(boarding=True))
    db_session.execute(sa.update(Student).where(Student.id.in_([who["at_home"], *who["day_pupils"]]))
                       .values(boarding=False))
    db_session.commit()
    rng = random.Random(5)
    canteen, card, attendance = [], [], []
    intern_days = set(days[2:12])
    for s in students0:
        kind = "poor" if s.id in who["poor"] else "at_home" if s.id == who["at_home"] else \
            "off_campus" if s.id == who["off_campus"] else "normal"
        boarding = s.id not in who["day_pupils"] and s.id != who["at_home"]
        for i, d in enumerate(days):
            if s.id in who["intern"] and d in intern_days or s.id == who["joined"] and i < 8:
                continue
            if s.id == who["leave"] and 3 <= i < 13:
                attendance.append({"student_id": s.id, "occurred_at": datetime.combine(d, time(0, 30)),
                                   "source_id": f"leave-{s.id}-{d}", "data": {"status": "leave"}})
                continue
            number = f"C{s.id}" + ("N" if s.id == who["replaced"] and i >= len(days) // 2 else "")
            m, p = meals_of(s.id, kind, d, rng, number, boarding)
            canteen += m
            card += p
    write_records(app, school, canteen, card, attendance)
    officer = users("dean", 0)
    for sid in who["intern"]:  # (a class's internship weeks are entered the same way, with class_id)
        resp = officer.post(f"{A}/away", json={"kind": "internship", "student_id": sid,
                                               "first_day": min(intern_days).isoformat(),
                                               "last_day": max(intern_days).isoformat(), "note": "顶岗实习"})
        assert resp.status_code == 201, resp.get_json()
    run = officer.post(f"{A}/identify", json={"month": month})
    assert run.status_code == 200, run.get_json()
    return who


def test_each_exclusion_is_not_enough_data_and_the_poor_are_candidates_with_reasons(
        app, installed, users, db_session, demo, students0):
    who = scenario(app, db_session, demo, installed, students0, users)
    got = users("dean", 0).get(f"{A}/candidates", query_string={"month": who["month"], "status": "all"})
    assert got.status_code == 200
    by = {i["student_id"]: i for i in got.get_json()["items"]}
    for sid in who["poor"]:
        assert by[sid]["status"] == "candidate", by[sid]
        codes = {r["code"] for r in by[sid]["reasons"]}
        assert {"spend_below", "cheap_meals", "days"} <= codes
        assert "低于同年级平均" in by[sid]["line"] and "最低价" in by[sid]["line"] and "个在校日中" in by[sid]["line"]
    expected = {who["at_home"]: "eats_at_home", who["off_campus"]: "eats_off_campus", who["leave"]: "away",
                who["joined"]: "joined_mid_month", who["replaced"]: "card_replaced",
                **{sid: "away" for sid in who["intern"]}}
    for sid, code in expected.items():
        assert by[sid]["status"] == "insufficient", (code, by[sid])
        assert by[sid]["reasons"] == [{"code": code}], (code, by[sid]["reasons"])
    flagged = {sid for sid, i in by.items() if i["status"] == "candidate"}
    assert flagged & set(expected) == set()
    assert set(who["poor"]) <= flagged and len(flagged) <= len(who["poor"]) + 2  # precision: few false flags
    # the candidate list itself: highest score first, the reasons in English too
    top = users("dean", 0).get(f"{A}/candidates", query_string={"month": who["month"]}, lang="en").get_json()
    scores = [i["score"] for i in top["items"]]
    assert scores == sorted(scores, reverse=True) and "below grade average" in top["items"][0]["line"]


def test_a_month_mostly_of_holidays_is_not_enough_data_for_everyone(app, installed, users):
    month = last_month()
    days = school_days_of(app, installed[0], month)
    admin = users("school_admin", 0)
    for d in days[:-5]:  # the school's calendar: all but five school days are holidays
        assert admin.put(f"/api/v1/alerts/calendar/{d.isoformat()}", json={"kind": "holiday"}).status_code in (200, 201)
    out = users("dean", 0).post(f"{A}/identify", json={"month": month}).get_json()
    assert out["school_days"] == 5 and out.get("candidate", 0) == 0 and out["insufficient"] > 0
    items = users("dean", 0).get(f"{A}/candidates", query_string={"month": month, "status": "all"}).get_json()["items"]
    assert {i["reasons"][0]["code"] for i in items} == {"few_school_days"}


def test_only_the_homeroom_teacher_and_the_aid_officer_see_it(app, installed, users, db_session, demo, students0):
    from foundation.models import AuditEntry

    who = scenario(app, db_session, demo, installed, students0, users)
    poor = who["poor"][0]
    month = who["month"]
    for role in ("homeroom_teacher", "dean"):
        u = users(role, 0)
        body = u.get(f"{A}/students/{poor}")
        assert body.status_code == 200 and body.get_json()["months"][0]["status"] == "candidate"
        assert u.client.get(f"/aid/students/{poor}").status_code == 200
        items = u.get(f"{A}/candidates", query_string={"month": month}).get_json()["items"]
        assert poor in {i["student_id"] for i in items}
        if role == "homeroom_teacher":  # their own class only
            assert {i["class_id"] for i in items} == {who["hc"]}
        profile = u.get(f"/api/v1/students/{poor}/profile").get_json()
        assert "aid.review" in json.dumps(profile)
        page = u.client.get(f"/students/{poor}").get_data(as_text=True)
        assert "资助复核" in page and "低于同年级平均" in page and f"/aid/students/{poor}" in page
    reads = db_session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "aid.candidate.read",
                                                           AuditEntry.resource_id == str(poor))).all()
    assert len(reads) >= 4  # API and page, for both
    assert db_session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "aid.candidate.list")) >= 2
    # everyone else: nothing, as if it did not exist
    outsiders = [("student", 0), ("parent", 0), ("subject_teacher", 0), ("psychology_teacher", 0), ("grade_head", 0),
                 ("school_admin", 0), ("principal", 0), ("district_admin", 0), ("dean", 1),
                 ("homeroom_teacher", 1)]
    other_class = next(s.id for s in students0 if s.class_id != who["hc"] and s.id not in who["intern"])
    for role, school in outsiders:
        u = users(role, school)
        for sid in (poor, other_class):
            assert u.get(f"{A}/students/{sid}").status_code == 404, (role, sid)
            assert u.client.get(f"/aid/students/{sid}").status_code == 404, (role, sid)
            prof = u.get(f"/api/v1/students/{sid}/profile")
            assert prof.status_code != 200 or "aid.review" not in json.dumps(prof.get_json()), role
        listed = u.get(f"{A}/candidates", query_string={"month": month})  # their own school's, if any
        assert listed.status_code in (403, 404) or poor not in {i["student_id"] for i in listed.get_json()["items"]}
        page = u.client.get("/aid/")
        assert page.status_code in (403, 404) or f"/aid/students/{poor}" not in page.get_data(as_text=True), role
        assert u.post(f"{A}/students/{poor}/steps", json={"kind": "note", "note": "x"}).status_code in (403, 404)
    # the homeroom teacher may not open a student of another class
    assert users("homeroom_teacher", 0).get(f"{A}/students/{other_class}").status_code == 404
    # the reviewers' home page counts their open candidates; the family's own pages say nothing of it
    assert "待复核的潜在困难学生" in users("homeroom_teacher", 0).client.get("/").get_data(as_text=True)
    for role in ("student", "parent"):
        page = users(role, 0).client.get("/").get_data(as_text=True)
        assert "资助复核" not in page and "潜在困难" not in page and "待复核" not in page


def test_review_loop_is_audited_remembered_and_counted(app, installed, users, db_session, demo, students0):
    from foundation.models import AuditEntry

    who = scenario(app, db_session, demo, installed, students0, users)
    a, b = who["poor"][:2]
    teacher, officer = users("homeroom_teacher", 0), users("dean", 0)
    assert teacher.post(f"{A}/students/{a}/steps", json={"kind": "confirm", "note": "家访核实，父亲失业"}).status_code == 201
    assert teacher.post(f"{A}/students/{a}/steps", json={"kind": "talk", "method": "home_visit",
                                                        "note": "与母亲谈话，愿意申请助学金"}).status_code == 201
    # the teacher recommends a grant: the platform's approval flow asks the aid officer, then (above 1,000 yuan)
    # the principal — in 待我审批, privately: the school admin does not see it
    award = teacher.post(f"{A}/students/{a}/awards", json={"kind": "national_grant", "amount": 1500}).get_json()
    assert award["status"] == "recommended" and award["in_approval"]
    assert teacher.post(f"{A}/awards/{award['id']}", json={"status": "granted"}).status_code == 422
    for role in ("dean", "principal"):  # the dean is the aid officer here (conftest)
        tasks = [x for x in users(role, 0).get("/api/v1/flow/tasks").get_json()["tasks"]
                 if x.get("submission_id") == award["flow"]]
        assert len(tasks) == 1, (role, tasks)
        done = users(role, 0).post("/api/v1/flow/tasks/decide", json={"tasks": [tasks[0]["id"]], "decision": "approved"})
        assert done.status_code == 200, done.get_json()
    assert users("school_admin", 0).get(f"/api/v1/flow/submissions/{award['flow']}").status_code in (403, 404)
    assert teacher.post(f"{A}/students/{b}/steps", json={"kind": "dismiss", "note": "家庭经济正常，节俭习惯"}).status_code == 201
    # bad input: 422 naming the field, nothing written
    bad = teacher.post(f"{A}/students/{a}/steps", json={"kind": "talk", "note": "x"})
    assert bad.status_code == 422 and "method" in json.dumps(bad.get_json())
    assert teacher.post(f"{A}/students/{a}/steps", json={"kind": "confirm", "note": "  "}).status_code == 422
    assert officer.post(f"{A}/students/{a}/awards", json={"kind": "lottery"}).status_code == 422
    view = officer.get(f"{A}/students/{a}").get_json()
    assert [s["kind"] for s in view["steps"]] == ["talk", "confirm"]
    assert view["awards"][0]["status"] == "granted" and not view["awards"][0]["in_approval"]
    # a dismissal is remembered: the next run marks the student, below the open candidates
    officer.post(f"{A}/identify", json={"month": who["month"]})
    items = officer.get(f"{A}/candidates", query_string={"month": who["month"]}).get_json()["items"]
    mark = {i["student_id"]: i["dismissed_before"] for i in items}
    assert mark[b] is True and mark[a] is False and items[-1]["student_id"] == b
    cov = users("school_admin", 0).get(f"{A}/coverage").get_json()
    assert cov["confirmed"] == 1 and cov["covered"] == 1 and cov["coverage_pct"] == 100
    assert "name" not in json.dumps(cov)
    actions = set(db_session.scalars(sa.select(AuditEntry.action).where(AuditEntry.action.like("aid.%"))))
    assert {"aid.step.confirm", "aid.step.talk", "aid.step.dismiss", "aid.award.create", "aid.award.decide",
            "aid.identify.run"} <= actions
    # the district sees counts per school, desensitised: the 3 candidates and the 1 covered are suppressed
    figs = users("district_admin", 0).get("/api/v1/district/figures").get_json()
    by_key = {f["key"]: f for f in figs["items"]}
    school = next(x for x in by_key["aid.outcomes"]["schools"] if x["school_id"] == installed[0])
    cells = {c["group"]["status"]: c for c in school["cells"]}
    assert cells["candidate"]["count"] is None and cells["normal"]["count"] > 5
    ours = json.dumps([by_key["aid.outcomes"], by_key["aid.coverage"]], ensure_ascii=False)
    assert "student_id" not in ours and "name" not in ours.replace('"key"', "")
    covered = next(x for x in by_key["aid.coverage"]["schools"] if x["school_id"] == installed[0])
    assert all(c["count"] is None for c in covered["cells"])
    # no message to the family names the label
    for role in ("parent", "student"):
        inbox = users(role, 0).get("/messages/inbox?box=all")
        text = json.dumps(inbox.get_json() if inbox.is_json else {}, ensure_ascii=False)
        assert not any(w in text for w in ("潜在困难", "资助", "困难")), role
