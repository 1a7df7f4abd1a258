"""Responses arriving through the ingest API update mastery live; a weak point pushes a matching resource to
the student and their parents (at most the school's number a week), and the push is opened through its
link; a family sees only their own child's map; bad input is a 422 naming the field, nothing half-written."""
from __future__ import annotations

import sqlalchemy as sa

from tests.learning.conftest import ago, responses, sample_student

INGEST = "/api/v1/ingest/item_response?source=homework_app"


def _inbox(user) -> list[dict]:
    return [m for m in user.get("/api/v1/messages/inbox").get_json()["items"] if m.get("type") == "learning.push"]


def test_wrong_answers_make_a_weak_point_that_pushes_a_resource_capped_per_week(installed, users, db_session, demo,
                                                                                source):
    kid = sample_student(db_session, demo)
    admin, student, parent = users("school_admin", 0), users("student", 0), users("parent", 0)
    before = student.get(f"/learning/api/students/{kid.id}/map").get_json()
    assert before["weak"] == [] and before["responses"] == 0
    first = responses(kid.student_no, "MA7.NA.03", [False, True, False, False, False], "w1")
    resp = admin.post(INGEST, json=first)
    assert resp.status_code == 200 and resp.get_json()["created"] == 5, resp.get_json()
    got = student.get(f"/learning/api/students/{kid.id}/map").get_json()
    assert got["responses"] == 5
    weak = {w["code"]: w for w in got["weak"]}
    assert weak["MA7.NA.03"]["attempts"] == 5 and weak["MA7.NA.03"]["correct"] == 1
    assert weak["MA7.NA.03"]["mastery"] < 0.2  # four wrong of five from the default prior 0.3
    radar = {a["code"]: a["mastery"] for s in got["subjects"] for a in s["axes"]}
    assert radar == {"MA7.NA": weak["MA7.NA.03"]["mastery"]}
    # the push: one resource for the point, to the student and the parents, with a link that records the open
    assert [p["point"] for p in got["pushes"]] == ["一元一次方程"]
    mine = _inbox(student)
    assert len(mine) == 1 and "解一元一次方程的五个步骤" in mine[0]["subject"] and len(_inbox(parent)) == 1
    opened = student.get(mine[0]["link"])
    assert opened.status_code == 302 and opened.headers["Location"].startswith("https://res.example.edu.cn/")
    assert student.get(f"/learning/api/students/{kid.id}/map").get_json()["pushes"][0]["opened_at"]
    # more weak points the same week: pushes stop at the school's three a week
    for code, tag in (("MA7.NA.01", "w2"), ("MA7.GE.02", "w3"), ("MA7.FN.02", "w4")):
        assert admin.post(INGEST, json=responses(kid.student_no, code, [False] * 5, tag)).status_code == 200
    n = db_session.scalar(sa.text("SELECT count(*) FROM learning_pushes WHERE student_id = :s"), {"s": kid.id})
    assert n == 3 and len(_inbox(student)) == 3
    # a right answer raises mastery, and the same batch sent twice changes nothing
    again = admin.post(INGEST, json=first)
    assert again.get_json()["unchanged"] == 5
    assert admin.post(INGEST, json=responses(kid.student_no, "MA7.NA.03", [True, True], "w5")).status_code == 200
    after = student.get(f"/learning/api/students/{kid.id}/map").get_json()
    push = next(p for p in after["pushes"] if p["code"] == "MA7.NA.03")
    assert push["mastery_then"] == weak["MA7.NA.03"]["mastery"] and push["mastery_now"] > push["mastery_then"]
    assert after["responses"] == 5 + 15 + 2


def test_a_family_sees_only_their_child_and_no_class_or_value_added(installed, users, db_session, demo):
    from foundation.models import Student

    kid = sample_student(db_session, demo)
    mate = db_session.scalar(sa.select(Student).where(Student.class_id == kid.class_id, Student.id != kid.id))
    for role in ("parent", "student"):
        who = users(role, 0)
        assert who.get(f"/learning/api/students/{kid.id}/map").status_code == 200
        assert who.get(f"/learning/students/{kid.id}").status_code == 200
        assert who.get(f"/learning/api/students/{mate.id}/map").status_code == 404
        assert who.get(f"/learning/students/{mate.id}").status_code == 404
        assert who.get(f"/learning/api/classes/{kid.class_id}/heatmap").status_code in (403, 404)
        assert who.get("/learning/api/value-added").status_code in (403, 404)
        assert who.post(f"/learning/api/students/{kid.id}/plans", json={"text": "x"}).status_code == 404
    page = users("parent", 0).get(f"/learning/students/{kid.id}").get_data(as_text=True)
    assert mate.name not in page and "不与任何同学比较" in page
    # another school's teacher does not reach the student at all
    assert users("homeroom_teacher", 1).get(f"/learning/api/students/{kid.id}/map").status_code == 404


def test_bad_input_is_a_422_naming_the_field_and_nothing_is_written(installed, users, db_session):
    admin = users("school_admin", 0)
    n = db_session.scalar(sa.text("SELECT count(*) FROM learning_points"))
    bad = "subject,grade,code,name,name_en,parent_code\nmath,7,MA7.NA.09,新知识点,,MA7.NA\nmath,7,bad code!,x,,\n"
    resp = admin.post("/learning/api/points/import", data=bad.encode(), content_type="text/csv")
    assert resp.status_code == 422 and "rows.2.code" in resp.get_json()["error"]["fields"]
    assert db_session.scalar(sa.text("SELECT count(*) FROM learning_points")) == n  # not even the good row
    resp = admin.post("/learning/api/resources", json={"title": "微课", "url": "javascript:alert(1)",
                                                      "kind": "micro_lesson", "subject": "math",
                                                      "points": ["MA7.NA.01"]}, lang="en")
    assert resp.status_code == 422
    assert resp.get_json()["error"]["fields"]["url"] == "A link starting with http:// or https://, please"
    resp = admin.post("/learning/api/items/import", data=b"item_id,subject,knowledge_points\nQ1,math,NOPE\n",
                      content_type="text/csv")
    assert resp.status_code == 422 and "rows.1.knowledge_points" in resp.get_json()["error"]["fields"]
    good = "subject,grade,code,name,name_en,parent_code\nmath,7,MA7.NA.09,分式,Fractions,MA7.NA\n"
    assert admin.post("/learning/api/points/import", data=good.encode(), content_type="text/csv").status_code == 201
    tags = "item_id,subject,knowledge_points\nQ-9,math,MA7.NA.09;MA7.NA.01\n"
    assert admin.post("/learning/api/items/import", data=tags.encode(), content_type="text/csv").status_code == 201
    assert admin.post("/learning/api/points", json={"code": "X1"}).status_code == 422


def test_classroom_interactions_and_certificate_progress_show_on_the_map(installed, users, db_session, demo):
    from foundation.models import DataSource

    for code in ("classroom_terminal", "exam_system"):
        if db_session.scalar(sa.select(DataSource.id).where(DataSource.code == code)) is None:
            db_session.add(DataSource(code=code, name=code))
    db_session.commit()
    kid = sample_student(db_session, demo)
    admin, parent = users("school_admin", 0), users("parent", 0)
    lessons = [{"source_id": f"ci-{i}", "student": kid.student_no, "occurred_at": ago(hours=i + 1), "subject": "math",
                "kind": kind, "count": n} for i, (kind, n) in enumerate((("answer", 3), ("question", 1), ("answer", 2)))]
    assert admin.post("/api/v1/ingest/classroom_interaction?source=classroom_terminal",
                      json=lessons).get_json()["created"] == 3
    steps = [{"source_id": f"sc-{i}", "student": kid.student_no, "occurred_at": ago(days=9 - i), "certificate": "计算机操作员",
              "level": "中级", "status": status} for i, status in enumerate(("registered", "preparing", "passed"))]
    assert admin.post("/api/v1/ingest/skill_certificate?source=exam_system", json=steps[::-1]).get_json()["created"] == 3
    got = parent.get(f"/learning/api/students/{kid.id}/map").get_json()
    math = next(x for x in got["interactions"] if x["subject"] == "math")
    assert math["total"] == 6 and math["kinds"] == {"answer": 5, "question": 1}
    assert got["certificates"] == [{"certificate": "计算机操作员", "level": "中级", "status": "passed",
                                    "at": got["certificates"][0]["at"]}]  # the latest step, whatever the order sent
    bad = admin.post("/api/v1/ingest/skill_certificate?source=exam_system&atomic=true", json=[
        {"source_id": "sc-x", "student": kid.student_no, "occurred_at": ago(days=1), "certificate": "x", "status": "won"}])
    assert bad.status_code == 422
