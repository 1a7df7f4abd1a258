"""Rankings, eligibility, the demo history, the hygiene form and the weekly-drop alert: rankings equal a
hand-written SQL query over the ledger; the demo fills a term for 2 × 100 students fast and includes
students whose score fell fast; eligibility follows the rulebook's thresholds."""
from __future__ import annotations

import time

import sqlalchemy as sa

from tests.points.conftest import sample_student

P = "/points/api"
HAND_SQL = """
SELECT s.id AS student_id, 1000 + COALESCE(SUM(e.points), 0) AS score,
       RANK() OVER (PARTITION BY {part} ORDER BY 1000 + COALESCE(SUM(e.points), 0) DESC) AS rank
FROM students s
JOIN org_units c ON c.id = s.class_id
LEFT JOIN points_entries e ON e.student_id = s.id AND e.term_start = :term
WHERE s.school_id = :school AND s.status_code = '01'
GROUP BY s.id, s.class_id, c.parent_id
"""


def fill(app, schools) -> float:
    started = time.perf_counter()
    from foundation.plugin_runtime import demo_data

    with app.app_context():
        demo_data("points", schools, seed=7)
    return time.perf_counter() - started


def test_demo_history_is_fast_and_rankings_match_hand_written_sql(app, installed, users, db_session):
    took = fill(app, installed)
    assert took < 3.0, took
    n = db_session.scalar(sa.text("SELECT count(*) FROM points_entries"))
    assert n > 2000  # a term of conduct for 200 students
    admin = users("school_admin", 0)
    term = admin.get(f"{P}/rulebook").get_json()["rulebook"]["term"]["start"]
    for level, part in (("school", "s.school_id"), ("grade", "c.parent_id")):
        want = {r.student_id: (r.score, r.rank) for r in db_session.execute(
            sa.text(HAND_SQL.format(part=part)), {"term": term, "school": installed[0]})}
        if level == "school":
            got = admin.get(f"{P}/rankings?level=school").get_json()["items"]
            assert {r["student_id"]: (r["score"], r["rank"]) for r in got} == want
            assert [r["rank"] for r in got] == sorted(r["rank"] for r in got)
            assert len({r["score"] for r in got}) > 10
        else:
            grade = db_session.scalar(sa.text("SELECT id FROM org_units WHERE kind='grade' AND school_id=:s LIMIT 1"),
                                      {"s": installed[0]})
            got = admin.get(f"{P}/rankings?level=grade&unit_id={grade}").get_json()["items"]
            assert got and all(want[r["student_id"]] == (r["score"], r["rank"]) for r in got)
    kid_class = db_session.scalar(sa.text("SELECT class_id FROM students WHERE school_id=:s LIMIT 1"), {"s": installed[0]})
    board = admin.get(f"{P}/classes/{kid_class}/board").get_json()["items"]
    want = {r.student_id: r.rank for r in db_session.execute(sa.text(HAND_SQL.format(part="s.class_id")),
                                                              {"term": term, "school": installed[0]})}
    assert board and all(want[r["student_id"]] == r["rank"] for r in board)
    assert all(len(r["trend"]) == 8 for r in board)
    school_want = {r.student_id: r.rank for r in db_session.execute(
        sa.text(HAND_SQL.format(part="s.school_id")), {"term": term, "school": installed[0]})}
    for row in board[::7]:  # the archive's ranks (counted for one student) agree with the window query
        got = admin.get(f"{P}/students/{row['student_id']}").get_json()
        assert (got["class_rank"], got["school_rank"]) == (want[row["student_id"]], school_want[row["student_id"]])


def test_the_demo_has_students_falling_fast(app, installed):
    from foundation import db
    from foundation.tenancy import unscoped
    from plugins.points import alerting

    fill(app, installed)
    with app.app_context():
        sess = unscoped("test: reading the demo district").mark(db.session())
        for school in installed:
            ids = [r[0] for r in sess.execute(sa.text("SELECT id FROM students WHERE school_id=:s"), {"s": school})]
            falling = [d for d in (alerting.assess(sess, school, i) for i in ids) if d]
            assert 1 <= len(falling) <= 10, falling
            assert any(d["drop"] >= 50 and d["reason"] == "threshold" for d in falling)


def test_eligibility_follows_the_thresholds(app, installed, users, db_session, demo):
    kid = sample_student(db_session, demo)
    admin = users("school_admin", 0)
    everyone = admin.get(f"{P}/eligibility/merit").get_json()
    assert everyone["rule"]["min_score"] == 950 and everyone["total"] == 100  # all start at 1000
    admin.post(f"{P}/entries", json={"student_id": kid.id, "rule_code": "class_order", "reason": "喧哗"})
    after = admin.get(f"{P}/eligibility/merit").get_json()
    assert kid.id not in {r["student_id"] for r in after["items"]} and after["total"] == 99
    aid = admin.get(f"{P}/eligibility/aid_conduct").get_json()  # no discipline condition there
    assert kid.id in {r["student_id"] for r in aid["items"]}
    assert admin.get(f"{P}/eligibility/nope").status_code == 404
    teacher = users("homeroom_teacher", 0).get(f"{P}/eligibility/aid_conduct").get_json()
    assert teacher["items"] and {r["class_id"] for r in teacher["items"]} == {kid.class_id}


def test_hygiene_form_submissions_and_clones_become_hygiene_entries(app, installed, users, db_session, demo):
    from foundation import db, events
    from foundation.lowcode.forms import seed_templates
    from foundation.tenancy import unscoped

    with app.app_context():
        seed_templates(unscoped("test setup").mark(db.session()))
        db.session().commit()
    kid = sample_student(db_session, demo)
    teacher = users("homeroom_teacher", 0)
    forms = teacher.get("/api/v1/forms").get_json()["items"]
    template = next(f for f in forms if f["title"]["zh"] == "德育卫生评分（个人）")
    clone = teacher.post(f"/api/v1/forms/{template['id']}/clone", json={"title": "三班卫生评分"})
    assert clone.status_code == 201, clone.get_json()
    unrelated = next(f for f in forms if f["title"]["zh"] == "班级请假申请")
    with app.test_request_context():
        sess = db.session()
        # as the platform publishes them: each form with the template it descends from
        for n, (form_id, root, score) in enumerate(((template["id"], "points:hygiene_score", 10),
                                                    (clone.get_json()["id"], "points:hygiene_score", 5),
                                                    (unrelated["id"], "class_leave", 3)), 1):
            events.publish("lowcode.submission.created", [{
                "id": 900 + n, "form_id": form_id, "template_key": root, "school_id": kid.school_id,
                "submitted_by": None, "student_id": kid.id, "class_id": kid.class_id,
                "data": {"student": kid.student_no, "date": "2026-11-20", "area": "宿舍内务", "score": score}}])
        sess.commit()
    got = teacher.get(f"{P}/students/{kid.id}").get_json()
    assert sorted((e["rule_code"], e["points"], e["source"]) for e in got["entries"]) == [
        ("hygiene", -3, "hygiene_form"), ("hygiene", 2, "hygiene_form")]
    assert got["score"] == 999


def test_a_seven_day_fall_opens_a_yellow_case_for_the_homeroom_teacher(app, installed, users, db_session, demo):
    from foundation.models import AlertCase
    from plugins.points import alerting

    kid = sample_student(db_session, demo)
    teacher, admin = users("homeroom_teacher", 0), users("school_admin", 0)
    # the fixed threshold alone first (the baseline check needs at least 500 points here)
    assert admin.put("/api/v1/plugins/points/config", json={"config": {"baseline_min_drop": 500}}).status_code == 200
    made = [teacher.post(f"{P}/entries", json={"student_id": kid.id, "rule_code": "class_order",
                                               "reason": f"第 {n} 次扰乱课堂"}).get_json() for n in range(9)]
    assert made[-1]["score"] == 955  # −45: below the threshold of 50, no case yet
    assert teacher.get("/api/v1/alerts/cases?status=open").get_json()["items"] == []
    made.append(teacher.post(f"{P}/entries", json={"student_id": kid.id, "rule_code": "class_order",
                                                   "reason": "第 10 次"}).get_json())
    cases = teacher.get("/api/v1/alerts/cases?status=open").get_json()["items"]
    assert [(c["rule"] if "rule" in c else c.get("rule_key"), c["level"]) for c in cases] == [("points.weekly_drop", "yellow")]
    case = db_session.scalar(sa.select(AlertCase).where(AlertCase.student_id == kid.id))
    assert case.detail["drop"] == 50 and case.detail["reason"] == "threshold" and case.detail["score"] == 950
    assert case.count == 1 and "new" not in case.detail
    # one more deduction deepens the fall but not by another threshold: the teacher is not told again
    teacher.post(f"{P}/entries", json={"student_id": kid.id, "rule_code": "class_order", "reason": "第 11 次"})
    db_session.expire_all()
    assert db_session.scalar(sa.select(AlertCase.count).where(AlertCase.id == case.id)) == 1
    with app.app_context():
        from foundation import db
        from foundation.tenancy import unscoped

        sess = db.session()
        for_school = unscoped("test: the rule's evaluation, as the scheduler runs it").for_school
        with for_school(sess, case.school_id):
            assert alerting.evaluate(sess, case) is False  # still down
        for entry in made[:6]:
            assert teacher.post(f"{P}/entries/{entry['id']}/reverse", json={"reason": "复核撤销"}).status_code == 201
        sess.rollback()
        with for_school(sess, case.school_id):
            assert alerting.evaluate(sess, case) is True  # back at 980, no alarming fall left
    # a school with a higher threshold still hears of a fall far beyond the student's own baseline
    assert admin.put("/api/v1/plugins/points/config", json={"config": {"drop_threshold": 100}}).status_code == 200
    before = len(teacher.get("/api/v1/alerts/cases?status=open").get_json()["items"])
    other = db_session.scalar(sa.select(sa.text("id")).select_from(sa.text("students")).where(
        sa.text(f"class_id = {kid.class_id} AND id != {kid.id}")).limit(1))
    for _ in range(7):
        teacher.post(f"{P}/entries", json={"student_id": other, "rule_code": "class_order", "reason": "x"})
    with app.test_request_context():
        from foundation import db
        from foundation.tenancy import unscoped

        with unscoped("test: the rule's check, as the platform runs it").for_school(db.session(), kid.school_id):
            detail = alerting.assess(db.session(), kid.school_id, other)
    assert detail["reason"] == "baseline" and detail["drop"] == 35 and detail["threshold"] == 100
    assert len(teacher.get("/api/v1/alerts/cases?status=open").get_json()["items"]) == before + 1
