"""Who sees what. Families (students, parents) see only their own (child's) score, entries and a band —
never another student's score, never a rank, on the API and on the pages. Rankings are staff-only; class-reach
teachers see their classes; another school's students are 404. Appeals go from family to homeroom teacher."""
from __future__ import annotations

import json

import sqlalchemy as sa

from foundation.models import Student
from tests.points.conftest import sample_student

P = "/points/api"
RANK_WORDS = ("rank", "名次", "排名")


def _others(db_session, kid, n=15) -> list[Student]:
    return db_session.scalars(sa.select(Student).where(Student.school_id == kid.school_id, Student.id != kid.id)
                              .order_by(Student.id).limit(n)).all()


def test_a_parent_and_a_student_see_only_their_own_score_and_a_band(installed, users, db_session, demo):
    kid = sample_student(db_session, demo)
    teacher = users("homeroom_teacher", 0)
    assert teacher.post(f"{P}/entries", json={"student_id": kid.id, "rule_code": "volunteer",
                                              "reason": "社区服务"}).status_code == 201
    classmates = _others(db_session, kid)
    theirs = [users("school_admin", 0).post(f"{P}/entries", json={"student_id": c.id, "rule_code": "class_order",
                                                                "reason": "喧哗"})
              .get_json()["id"] for c in classmates[:3]]
    for role in ("parent", "student"):
        user = users(role, 0)
        me = user.get(f"{P}/me")
        assert me.status_code == 200, me.get_json()
        items = me.get_json()["items"]
        assert [i["student_id"] for i in items] == [kid.id]
        assert items[0]["score"] == 1003 and items[0]["band"] == "top_quarter"
        text = json.dumps(me.get_json(), ensure_ascii=False)
        assert not any(w in text for w in RANK_WORDS)
        assert not any(c.name in text for c in classmates)
        own = user.get(f"{P}/students/{kid.id}").get_json()
        assert own["score"] == 1003 and "class_rank" not in own and "school_rank" not in own
        assert not any(w in json.dumps(own, ensure_ascii=False) for w in RANK_WORDS)
        for other in classmates:  # every other student: not found, as if they did not exist
            assert user.get(f"{P}/students/{other.id}").status_code == 404
        for entry_id in theirs:  # nor may they appeal, or learn about, a classmate's entry
            assert user.post(f"{P}/appeals", json={"entry_id": entry_id, "reason": "x"}).status_code == 404
        assert user.get(f"{P}/classes/{kid.class_id}/board").status_code in (403, 404)
        for level in ("school", "grade", "class"):
            resp = user.get(f"{P}/rankings", query_string={"level": level, "unit_id": kid.class_id})
            assert resp.status_code in (403, 404), (role, level)
        assert user.get(f"{P}/eligibility/merit").status_code in (403, 404)
        # the pages say the same
        # the page's own content (the header names the person signed in, whose name may hold a classmate's)
        page = user.client.get("/points/me").get_data(as_text=True).split("<main>", 1)[1]
        assert "1003" in page and kid.name in page and not any(c.name in page for c in classmates)
        assert ("我的德育积分" if role == "student" else "孩子的德育积分") in page  # a parent's is the child's
        assert not any(w in page for w in ("名次", "排名")) or "看不到名次" in page
        assert user.client.get(f"/points/classes/{kid.class_id}").status_code in (403, 404)
        assert user.client.get("/points/rankings").status_code in (403, 404)
        assert user.client.get(f"/points/students/{classmates[0].id}").status_code == 404
        archive_page = user.client.get(f"/points/students/{kid.id}").get_data(as_text=True)
        assert "a-class-rank" not in archive_page and "a-school-rank" not in archive_page
        assert user.client.get("/points/").status_code == 302  # families land on their own page


def test_staff_see_rankings_within_their_reach_and_other_schools_are_404(installed, users, db_session, demo):
    kid = sample_student(db_session, demo)
    admin, teacher, subject = users("school_admin", 0), users("homeroom_teacher", 0), users("subject_teacher", 0)
    board = teacher.get(f"{P}/classes/{kid.class_id}/board")
    assert board.status_code == 200 and kid.id in [r["student_id"] for r in board.get_json()["items"]]
    assert subject.get(f"{P}/classes/{kid.class_id}/board").status_code == 200
    assert admin.get(f"{P}/rankings?level=school").status_code == 200
    assert teacher.get(f"{P}/rankings?level=school").status_code == 404  # class reach: their classes only
    other_class = db_session.scalar(sa.select(Student.class_id).where(
        Student.school_id == kid.school_id, Student.class_id != kid.class_id).limit(1))
    if other_class not in teacher_classes(db_session, demo):
        assert teacher.get(f"{P}/classes/{other_class}/board").status_code == 404
    other_school_kid = sample_student(db_session, demo, school=1)
    for user in (admin, teacher):
        assert user.get(f"{P}/students/{other_school_kid.id}").status_code == 404
        assert user.get(f"{P}/classes/{other_school_kid.class_id}/board").status_code == 404
        assert user.post(f"{P}/entries", json={"student_id": other_school_kid.id, "rule_code": "late",
                                               "reason": "x"}).status_code == 404
    assert users("school_admin", 1).get(f"{P}/students/{kid.id}").status_code == 404


def teacher_classes(db_session, demo) -> set[int]:
    from foundation.models import Account, Membership
    from tests.conftest import login_of

    acct = db_session.scalar(sa.select(Account).where(Account.username == login_of(demo, "homeroom_teacher", 0)))
    return set(db_session.scalars(sa.select(Membership.org_unit_id).where(Membership.account_id == acct.id)))


def test_an_appeal_accepted_reverses_and_a_rejected_one_does_not(installed, users, db_session, demo):
    kid = sample_student(db_session, demo)
    teacher, parent, student = users("homeroom_teacher", 0), users("parent", 0), users("student", 0)
    first = teacher.post(f"{P}/entries", json={"student_id": kid.id, "rule_code": "class_order", "reason": "喧哗"})
    second = teacher.post(f"{P}/entries", json={"student_id": kid.id, "rule_code": "late", "reason": "晨会迟到"})
    first, second = first.get_json()["id"], second.get_json()["id"]
    assert parent.post(f"{P}/appeals", json={"entry_id": first}).status_code == 422  # a reason is required
    made = parent.post(f"{P}/appeals", json={"entry_id": first, "reason": "当时是在回答老师提问"})
    assert made.status_code == 201, made.get_json()
    assert parent.post(f"{P}/appeals", json={"entry_id": first, "reason": "again"}).status_code == 422
    assert student.post(f"{P}/appeals", json={"entry_id": second, "reason": "公交晚点"}).status_code == 201
    assert student.post(f"{P}/appeals/{made.get_json()['id']}/decide", json={"decision": "accept"}).status_code == 403
    assert [a["id"] for a in parent.get(f"{P}/appeals?status=all").get_json()["items"]]  # families see their own

    told = teacher.get("/api/v1/messages/inbox").get_json()["items"]
    assert any(kid.name in json.dumps(m, ensure_ascii=False) and "申诉" in json.dumps(m, ensure_ascii=False)
               for m in told), told
    queue = teacher.get(f"{P}/appeals").get_json()["items"]
    assert {a["entry_id"] for a in queue} == {first, second}
    by_entry = {a["entry_id"]: a for a in queue}
    assert by_entry[first]["student_name"] == kid.name and by_entry[first]["points"] == -5
    assert teacher.post(f"{P}/appeals/{by_entry[second]['id']}/decide", json={"decision": "reject"}).status_code == 422
    ok = teacher.post(f"{P}/appeals/{by_entry[first]['id']}/decide", json={"decision": "accept", "note": "核实无误"})
    assert ok.status_code == 200 and ok.get_json()["status"] == "accepted" and ok.get_json()["reversal_id"]
    no = teacher.post(f"{P}/appeals/{by_entry[second]['id']}/decide", json={"decision": "reject", "note": "考勤记录属实"})
    assert no.status_code == 200 and no.get_json()["reversal_id"] is None
    again = teacher.post(f"{P}/appeals/{by_entry[first]['id']}/decide", json={"decision": "reject", "note": "x"})
    assert again.status_code == 422
    parent_told = json.dumps(parent.get("/api/v1/messages/inbox").get_json()["items"], ensure_ascii=False)
    assert "申诉成立" in parent_told and "核实无误" in parent_told
    mine = parent.get(f"{P}/me").get_json()["items"][0]
    assert mine["score"] == 998  # −5 reversed, −2 stands
    assert {e["source"] for e in mine["entries"]} == {"manual", "reversal"}
    assert teacher.get(f"{P}/appeals").get_json()["items"] == []
    other_school_parent = users("parent", 1)
    assert other_school_parent.post(f"{P}/appeals", json={"entry_id": second, "reason": "x"}).status_code == 404


def test_junk_never_answers_500(installed, users, db_session, demo):
    kid = sample_student(db_session, demo)
    junk = [None, "", [], {}, "x" * 600, -1, 0, 2**63, 3.5, True, {"a": 1}, "\u0000", "汉字", "2026-02-30"]
    admin = users("school_admin", 0)
    entry = admin.post(f"{P}/entries", json={"student_id": kid.id, "rule_code": "late", "reason": "x"}).get_json()
    posts = [f"{P}/entries", f"{P}/entries/{entry['id']}/reverse", f"{P}/appeals", f"{P}/appeals/1/decide",
             f"{P}/rulebook", f"{P}/entries/999999/reverse", f"{P}/entries/{2**40}/reverse"]
    keys = ["student_id", "rule_code", "reason", "score", "level", "occurred_at", "evidence", "entry_id",
            "decision", "note", "rulebook"]
    parent = users("parent", 0)
    for url in posts:
        for value in junk:
            for user in (admin, parent):
                assert user.post(url, json=value).status_code < 500, (url, value)
            for key in keys:
                body = {"student_id": kid.id, "reason": "r", "rule_code": "late", "entry_id": entry["id"], key: value}
                resp = admin.post(url, json=body)
                assert resp.status_code < 500, (url, body, resp.get_data(as_text=True)[:300])
    for url in (f"{P}/rankings", f"{P}/appeals", f"{P}/eligibility/nope", f"{P}/rulebook/{2**40}", f"{P}/students/{2**40}"):
        for value in junk:
            assert admin.get(url, query_string={"level": str(value), "unit_id": str(value),
                                                "status": str(value)}).status_code < 500


def test_the_term_report_gives_staff_ranks_and_families_a_band(installed, users, db_session, demo):
    kid = sample_student(db_session, demo)
    teacher = users("homeroom_teacher", 0)
    entry = teacher.post(f"{P}/entries", json={"student_id": kid.id, "rule_code": "class_order", "reason": "喧哗"})
    teacher.post(f"{P}/entries", json={"student_id": kid.id, "rule_code": "volunteer", "reason": "义卖"})
    teacher.post(f"{P}/entries/{entry.get_json()['id']}/reverse", json={"reason": "误记"})
    staff = teacher.get(f"{P}/students/{kid.id}/report").get_json()
    assert staff["score"] == 1003 and staff["class_rank"] == 1 and staff["school_rank"] == 1 and "band" not in staff
    assert staff["dimensions"]["discipline"] == {"net": 0, "deducted": -5, "credited": 5, "entries": 2}
    assert staff["sources"] == {"manual": 2} and staff["reversals"] == 1
    assert {e["key"]: e["met"] for e in staff["eligibility"]} == {"merit": True, "aid_conduct": True}
    for role in ("parent", "student"):
        own = users(role, 0).get(f"{P}/students/{kid.id}/report")
        assert own.status_code == 200
        body = own.get_json()
        assert body["band"] == "top_quarter" and not any(w in json.dumps(body, ensure_ascii=False) for w in RANK_WORDS)
        page = users(role, 0).client.get(f"/points/students/{kid.id}/report").get_data(as_text=True)
        assert "1003" in page and "名次" not in page
        other = _others(db_session, kid, 1)[0]
        assert users(role, 0).get(f"{P}/students/{other.id}/report").status_code == 404
        assert users(role, 0).client.get(f"/points/students/{other.id}/report").status_code == 404


def test_home_page_widgets_link_staff_to_the_board_and_families_to_their_own_score(installed, users, db_session,
                                                                                    demo):
    kid = sample_student(db_session, demo)
    users("homeroom_teacher", 0).post(f"{P}/entries", json={"student_id": kid.id, "rule_code": "volunteer",
                                                            "reason": "敬老院服务"})
    teacher_home = users("homeroom_teacher", 0).client.get("/").get_data(as_text=True)
    assert "德育积分" in teacher_home and 'href="/points/"' in teacher_home and "≥1000" in teacher_home
    for role in ("parent", "student"):
        home = users(role, 0).client.get("/").get_data(as_text=True)
        title = "我的德育积分" if role == "student" else f"{kid.name}的德育积分"  # a parent reads the child's, named
        assert title in home and 'href="/points/me"' in home and "1003" in home
        assert "位于全校前 25%" in home and "≥1000" not in home
    other_parent_home = users("parent", 1).client.get("/").get_data(as_text=True)
    assert "1003" not in other_parent_home


def test_writes_need_the_csrf_token_and_anonymous_callers_get_nothing(installed, users, db_session, demo, app):
    kid = sample_student(db_session, demo)
    teacher = users("homeroom_teacher", 0)
    resp = teacher.client.post(f"{P}/entries", json={"student_id": kid.id, "rule_code": "late", "reason": "x"})
    assert resp.status_code in (400, 403)
    assert db_session.scalar(sa.text("SELECT count(*) FROM points_entries")) == 0
    anonymous = app.test_client()
    assert anonymous.get(f"{P}/students/{kid.id}").status_code == 401
    assert anonymous.get(f"{P}/me").status_code == 401
    assert anonymous.get("/points/").status_code == 302


def test_the_plugin_keeps_no_school_apart_by_hand():
    """Tenancy is the platform's: no query of the plugin filters by the caller's schools, classes or children,
    and it checks reach only through plugin_api (student_or_404, classes_in_reach…)."""
    import re
    from pathlib import Path

    by_hand = re.compile(r"school_id\s*==|school_id\.in_\(|\.scope\(\)|full_school_ids|\.class_ids|\.student_ids"
                         r"|enabled_schools|school_ids\(\)\s*&")
    found = []
    for path in sorted((Path(__file__).parents[2] / "plugins" / "points").glob("*.py")):
        for n, line in enumerate(path.read_text("utf-8").splitlines(), 1):
            if by_hand.search(line):
                found.append(f"{path.name}:{n}: {line.strip()}")
    assert not found, "\n".join(found)
