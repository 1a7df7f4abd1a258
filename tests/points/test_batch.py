"""Batch conduct entries: one rule item for several students in one request, through the same checks, caps,
alerts and audit as a single entry; all or nothing."""
from __future__ import annotations

import sqlalchemy as sa

from foundation.models import Account, AuditEntry, Student
from tests.conftest import login_of
from tests.points.conftest import sample_student

P = "/points/api"


def _entries(db_session) -> int:
    return db_session.scalar(sa.text("SELECT count(*) FROM points_entries"))


def _class_kids(db_session, demo, school: int = 0) -> tuple[int, list[int]]:
    """The homeroom teacher's class and its students."""
    acct = db_session.scalar(sa.select(Account).where(Account.username == login_of(demo, "homeroom_teacher", school)))
    cls = next(m.org_unit_id for m in acct.memberships if m.role == "homeroom_teacher")
    return cls, list(db_session.scalars(sa.select(Student.id).where(Student.class_id == cls).order_by(Student.id)))


def test_five_students_in_one_request_make_five_entries_and_move_their_standings(installed, users, db_session, demo):
    cls, kids = _class_kids(db_session, demo)
    five = kids[:5]
    teacher = users("homeroom_teacher", 0)
    resp = teacher.post(f"{P}/entries/batch", json={"student_ids": five, "rule_code": "volunteer",
                                                    "reason": "周末社区志愿服务"})
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["count"] == 5 and [e["student_id"] for e in body["items"]] == five
    assert {(e["points"], e["score"], e["source"], e["reason"]) for e in body["items"]} == {(3, 1003, "manual", "周末社区志愿服务")}
    rows = db_session.execute(sa.text("SELECT student_id, rule_code, points FROM points_entries")).all()
    assert sorted(rows) == [(k, "volunteer", 3) for k in five]
    board = {r["student_id"]: r for r in teacher.get(f"{P}/classes/{cls}/board").get_json()["items"]}
    assert {board[k]["score"] for k in five} == {1003} and {board[k]["rank"] for k in five} == {1}
    assert {r["score"] for k, r in board.items() if k not in five} == {1000}
    audits = db_session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "points.entry.create")).all()
    assert sorted(a.detail["student_id"] for a in audits) == five and {a.detail["batch"] for a in audits} == {5}
    # a credit needs no reason; a deduction does (families read it), and without one nothing is written
    assert teacher.post(f"{P}/entries/batch", json={"student_ids": five[:2], "rule_code": "volunteer"}).status_code == 201
    bare = teacher.post(f"{P}/entries/batch", json={"student_ids": five, "rule_code": "class_order"})
    assert bare.status_code == 422 and "reason" in bare.get_json()["error"]["fields"]
    assert _entries(db_session) == 7


def test_one_student_out_of_reach_writes_nothing(installed, users, db_session, demo):
    cls, kids = _class_kids(db_session, demo)
    other_class = db_session.scalar(sa.select(Student.id).where(Student.class_id != cls,
                                                                Student.school_id == installed[0]).order_by(Student.id))
    other_school = sample_student(db_session, demo, school=1).id
    teacher = users("homeroom_teacher", 0)
    for stranger in (other_class, other_school, 2**31 - 1):
        for lang in ("zh", "en"):
            resp = teacher.post(f"{P}/entries/batch", lang=lang, json={"student_ids": [*kids[:4], stranger],
                                                                       "rule_code": "volunteer", "reason": "义卖"})
            assert resp.status_code == 422, resp.get_json()
            assert str(stranger) in resp.get_json()["error"]["fields"]["student_ids"]
    for junk in (None, [], "1,2", [True], [1.5], [str(kids[0])], list(range(1, 202))):
        resp = teacher.post(f"{P}/entries/batch", json={"student_ids": junk, "rule_code": "volunteer", "reason": "x"})
        assert resp.status_code == 422 and "student_ids" in resp.get_json()["error"]["fields"], junk
    bad_rule = teacher.post(f"{P}/entries/batch", json={"student_ids": kids[:5], "rule_code": "nope", "reason": "x"})
    assert bad_rule.status_code == 422 and "rule_code" in bad_rule.get_json()["error"]["fields"]
    # looking is not writing: a subject teacher and a parent are refused
    own = sample_student(db_session, demo).id
    for role in ("subject_teacher", "parent"):
        assert users(role, 0).post(f"{P}/entries/batch", json={"student_ids": [own], "rule_code": "volunteer",
                                                                "reason": "x"}).status_code == 403
    assert _entries(db_session) == 0
