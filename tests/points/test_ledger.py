"""The points plugin end to end through its API: install, automatic deductions from check-in and from
practical-training and activity records, caps, rulebook versions that never rewrite history, manual entries,
reversals as new rows, and the tables matching their migration."""
from __future__ import annotations

import sqlalchemy as sa

from tests.points.conftest import ago, sample_student

P = "/points/api"


def ingest(user, library: str, source: str, rows: list[dict]):
    resp = user.post(f"/api/v1/ingest/{library}?source={source}", json=rows)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def archive(user, student_id: int) -> dict:
    resp = user.get(f"{P}/students/{student_id}")
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def test_plugin_is_loaded_through_its_entry_point(app):
    host = app.extensions["jizuo.plugins"]
    assert "points" in host.loaded and "plugins.points" not in host.loaded["points"].origin
    assert host.loaded["points"].origin.startswith("entry point")
    assert [f for f in host.failures if f.name == "points"] == []
    assert host.call("points", "jizuo_form_templates")[0]["id"] == "hygiene_score"
    assert host.call("points", "jizuo_alert_rules")[0]["level"] == "yellow"


def test_install_gives_the_default_rulebook_and_everyone_the_starting_score(installed, users, db_session, demo):
    admin = users("school_admin", 0)
    book = admin.get(f"{P}/rulebook").get_json()
    assert book["version"] == 1 and book["rulebook"]["starting_score"] == 1000
    codes = {i["code"]: i for i in book["rulebook"]["items"]}
    assert codes["late"]["points"] == -2 and codes["early_leave"]["points"] == -2
    assert codes["class_order"]["points"] == -5 and codes["volunteer"]["points"] == 3
    assert codes["hygiene"]["kind"] == "scored" and codes["competition"]["kind"] == "by_level"
    kid = sample_student(db_session, demo)
    board = admin.get(f"{P}/classes/{kid.class_id}/board").get_json()
    assert board["items"] and {r["score"] for r in board["items"]} == {1000}
    assert {r["rank"] for r in board["items"]} == {1}  # everyone ties at the start


def test_a_late_check_in_becomes_a_deduction_once(installed, users, db_session, demo, sources):
    admin = users("school_admin", 0)
    kid = sample_student(db_session, demo)
    rows = [{"source_id": "a1", "student": kid.student_no, "occurred_at": ago(hours=2), "status": "late",
             "minutes_late": 7},
            {"source_id": "a2", "student": kid.student_no, "occurred_at": ago(hours=1), "status": "early_leave"},
            {"source_id": "a3", "student": kid.student_no, "occurred_at": ago(minutes=30), "status": "present"}]
    assert ingest(admin, "attendance", "classroom_terminal", rows)["created"] == 3
    got = archive(admin, kid.id)
    assert got["score"] == 996
    assert sorted((e["rule_code"], e["points"], e["source"]) for e in got["entries"]) == [
        ("early_leave", -2, "attendance"), ("late", -2, "attendance")]
    late = next(e for e in got["entries"] if e["rule_code"] == "late")
    assert late["rulebook_version"] == 1 and late["reason"] == "7 分钟" and late["evidence"][0].startswith("attendance:")
    # the same records again (a terminal re-sending) change nothing
    ingest(admin, "attendance", "classroom_terminal", rows)
    assert archive(admin, kid.id)["score"] == 996
    # a student of the other school, where points is disabled, is not scored
    other_admin = users("school_admin", 1)
    assert other_admin.post("/api/v1/plugins/points/disable", json={"reason": "本学期暂停"}).status_code == 200
    other = sample_student(db_session, demo, school=1)
    ingest(other_admin, "attendance", "classroom_terminal",
           [{"source_id": "b1", "student": other.student_no, "occurred_at": ago(hours=1), "status": "late"}])
    assert db_session.scalar(sa.text("SELECT count(*) FROM points_entries WHERE student_id = :s"), {"s": other.id}) == 0


def test_training_room_violations_and_activities_are_collected(installed, users, db_session, demo, sources):
    admin = users("school_admin", 0)
    kid = sample_student(db_session, demo)
    book = _rulebook(admin)  # a primary school's book has no training room: this one adds the vocational rule
    assert "training_room" not in {i["code"] for i in book["items"]}
    book["items"].append({"code": "training_room", "dimension": "discipline", "kind": "fixed", "points": -5,
                          "title": {"zh": "违反实训室规范", "en": "Training-room violation"}, "active": True})
    assert admin.post(f"{P}/rulebook", json={"rulebook": book, "note": "开设实训室"}).status_code in (200, 201)
    ingest(admin, "conduct_event", "training_system", [
        {"source_id": "t1", "student": kid.student_no, "occurred_at": ago(days=1), "category": "discipline",
         "rule_item": "training_room", "points_delta": -5, "reason": "实训室未穿工装", "evidence": ["photo-17"]},
        {"source_id": "t2", "student": kid.student_no, "occurred_at": ago(days=1), "category": "discipline",
         "rule_item": "no_such_rule", "points_delta": -50}])
    ingest(admin, "activity", "activity_system", [
        {"source_id": "v1", "student": kid.student_no, "occurred_at": ago(days=2), "activity_type": "volunteer",
         "activity_name": "社区敬老", "hours": 2},
        {"source_id": "c1", "student": kid.student_no, "occurred_at": ago(days=3), "activity_type": "competition",
         "activity_name": "区数学竞赛", "award_level": "municipal", "award": "二等奖"},
        {"source_id": "x1", "student": kid.student_no, "occurred_at": ago(days=3), "activity_type": "collective",
         "activity_name": "升旗仪式", "attended": False}])
    got = archive(admin, kid.id)
    assert sorted((e["rule_code"], e["points"], e["source"]) for e in got["entries"]) == [
        ("competition", 15, "activity"), ("training_room", -5, "training"), ("volunteer", 3, "activity")]
    assert got["score"] == 1013
    training = next(e for e in got["entries"] if e["rule_code"] == "training_room")
    assert training["reason"] == "实训室未穿工装" and training["evidence"] == ["photo-17"]


def _rulebook(admin) -> dict:
    return admin.get(f"{P}/rulebook").get_json()["rulebook"]


def test_rulebook_versions_never_rewrite_history_and_caps_hold(installed, users, db_session, demo, sources):
    admin = users("school_admin", 0)
    kid = sample_student(db_session, demo)
    ingest(admin, "attendance", "classroom_terminal",
           [{"source_id": "l1", "student": kid.student_no, "occurred_at": ago(hours=5), "status": "late"}])
    book = _rulebook(admin)
    next(i for i in book["items"] if i["code"] == "late")["points"] = -3
    book["caps"]["attendance"] = {"min": -6, "max": 0}
    resp = admin.post(f"{P}/rulebook", json={"rulebook": book, "note": "迟到改为扣 3 分"})
    assert resp.status_code == 201 and resp.get_json()["version"] == 2
    ingest(admin, "attendance", "classroom_terminal", [
        {"source_id": f"l{n}", "student": kid.student_no, "occurred_at": ago(hours=5 - n), "status": "late"}
        for n in (2, 3)])
    late = sorted((e["rulebook_version"], e["raw_points"], e["points"])
                  for e in archive(admin, kid.id)["entries"])
    assert late == [(1, -2, -2), (2, -3, -3), (2, -3, -1)]  # the cap of −6 for attendance stops the third
    assert archive(admin, kid.id)["score"] == 994
    assert admin.get(f"{P}/rulebook/1").get_json()["rulebook"]["items"][0]["points"] == -2
    history = admin.get(f"{P}/rulebook").get_json()["history"]
    assert [h["version"] for h in history] == [2, 1] and history[0]["note"] == "迟到改为扣 3 分"


def test_a_bad_rulebook_names_each_problem_and_saves_nothing(installed, users):
    admin = users("school_admin", 0)
    book = _rulebook(admin)
    book["items"][0]["points"] = 0
    book["items"][1]["code"] = book["items"][2]["code"]
    book["items"][3]["dimension"] = "sports"
    book["term"]["end"] = "2000-01-01"
    book["caps"]["hygiene"] = {"min": 5, "max": 1}
    # plugin APIs are not under /api/, so the language comes from ?lang= (Accept-Language is for /api/ only)
    resp = admin.post(f"{P}/rulebook?lang=en", json={"rulebook": book})
    assert resp.status_code == 422
    fields = resp.get_json()["error"]["fields"]
    assert {"rulebook.items.0.points", "rulebook.items.2.code", "rulebook.items.3.dimension", "rulebook.term",
            "rulebook.caps.hygiene"} <= set(fields)
    assert "non-zero" in fields["rulebook.items.0.points"]
    zh = admin.post(f"{P}/rulebook?lang=zh", json={"rulebook": book}).get_json()["error"]["fields"]
    assert "非零" in zh["rulebook.items.0.points"]
    for junk in (None, [], "x", {"rulebook": None}, {"rulebook": {"items": "no"}}):
        assert admin.post(f"{P}/rulebook", json=junk).status_code == 422
    assert admin.get(f"{P}/rulebook").get_json()["version"] == 1
    assert users("homeroom_teacher", 0).post(f"{P}/rulebook", json={"rulebook": _rulebook(admin)}).status_code == 403


def test_manual_entries_and_reversals_are_new_rows(installed, users, db_session, demo):
    teacher = users("homeroom_teacher", 0)
    kid = sample_student(db_session, demo)
    assert teacher.post(f"{P}/entries", json={"student_id": kid.id, "rule_code": "class_order"}).status_code == 422
    bad = teacher.post(f"{P}/entries", json={"student_id": kid.id, "rule_code": "nope", "reason": "x"})
    assert bad.status_code == 422 and "rule_code" in bad.get_json()["error"]["fields"]
    hygiene = teacher.post(f"{P}/entries", json={"student_id": kid.id, "rule_code": "hygiene", "score": 10,
                                                 "reason": "个人卫生优秀"})
    assert hygiene.status_code == 201 and hygiene.get_json()["points"] == 2
    resp = teacher.post(f"{P}/entries", json={"student_id": kid.id, "rule_code": "class_order",
                                              "reason": "课上大声喧哗", "evidence": ["课堂记录 3-2"]})
    assert resp.status_code == 201, resp.get_json()
    entry = resp.get_json()
    assert entry["points"] == -5 and entry["score"] == 997 and entry["recorded_by"]
    before = dict(db_session.execute(sa.text("SELECT * FROM points_entries WHERE id = :i"), {"i": entry["id"]})
                  .mappings().one())
    rev = teacher.post(f"{P}/entries/{entry['id']}/reverse", json={"reason": "误登记"})
    assert rev.status_code == 201 and rev.get_json()["points"] == 5 and rev.get_json()["reverses_id"] == entry["id"]
    assert rev.get_json()["score"] == 1002
    again = teacher.post(f"{P}/entries/{entry['id']}/reverse", json={"reason": "再来"})
    assert again.status_code == 422
    assert teacher.post(f"{P}/entries/{rev.get_json()['id']}/reverse", json={"reason": "x"}).status_code == 422
    after = dict(db_session.execute(sa.text("SELECT * FROM points_entries WHERE id = :i"), {"i": entry["id"]})
                 .mappings().one())
    assert before == after  # the original row is untouched: the ledger only grows
    listed = archive(teacher, kid.id)["entries"]
    assert len(listed) == 3 and next(e for e in listed if e["id"] == entry["id"])["reversed_by"] == rev.get_json()["id"]
    # a subject teacher may look but not write; a parent neither writes nor reverses
    assert users("subject_teacher", 0).post(f"{P}/entries", json={"student_id": kid.id, "rule_code": "late",
                                                                  "reason": "x"}).status_code == 403
    parent = users("parent", 0)
    assert parent.post(f"{P}/entries", json={"student_id": kid.id, "rule_code": "late", "reason": "x"}).status_code == 403
    assert parent.post(f"{P}/entries/{entry['id']}/reverse", json={"reason": "x"}).status_code == 403


def test_models_match_the_plugins_migration(app):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from plugins.points.models import TABLES

    metadata = sa.MetaData()  # this plugin's tables only (PluginBase's MetaData holds every plugin's)
    for table in TABLES:
        table.to_metadata(metadata)

    engine = app.extensions["jizuo.engine"]
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={
            "include_name": lambda name, kind, _parent: kind != "table" or name.startswith("points_")}), metadata)
    assert diff == []


def test_a_batch_of_check_ins_scores_every_student_in_one_go(installed, users, db_session, sources):
    from foundation.models import Student

    admin = users("school_admin", 0)
    kids = db_session.scalars(sa.select(Student).where(Student.school_id == installed[0]).order_by(Student.id)).all()
    rows = [{"source_id": f"batch-{k.id}-{n}", "student": k.student_no, "occurred_at": ago(hours=n + 1),
             "status": "late" if n == 0 else "early_leave"} for k in kids for n in (0, 1)]
    report = ingest(admin, "attendance", "classroom_terminal", rows)
    assert report["created"] == 2 * len(kids)
    scores = dict(db_session.execute(sa.text("SELECT student_id, score FROM points_scores WHERE school_id = :s"),
                                     {"s": installed[0]}).all())
    assert set(scores.values()) == {996} and len(scores) == len(kids)
    ranking = admin.get(f"{P}/rankings?level=school").get_json()["items"]
    assert {r["rank"] for r in ranking} == {1} and len(ranking) == len(kids)


def test_disable_hides_everything_and_uninstall_keeps_data_unless_purged(installed, users, db_session, demo):
    kid = sample_student(db_session, demo)
    admin = users("school_admin", 0)
    assert admin.post(f"{P}/entries", json={"student_id": kid.id, "rule_code": "volunteer", "reason": "x"}).status_code == 201
    assert admin.post("/api/v1/plugins/points/disable", json={"reason": "本学期暂停"}).status_code == 200
    for url in (f"{P}/rulebook", f"{P}/students/{kid.id}", "/points/", f"/points/classes/{kid.class_id}"):
        assert admin.get(url).status_code == 404, url
    assert admin.post("/api/v1/plugins/points/enable").status_code == 200
    count = "SELECT count(*) FROM points_entries WHERE school_id = :s"
    assert admin.delete("/api/v1/plugins/points", json={"reason": "改用区里的新系统"}).status_code == 204
    assert db_session.scalar(sa.text(count), {"s": installed[0]}) == 1
    assert admin.post("/api/v1/plugins/points/install", json={"config": {}}).status_code == 201
    assert archive(admin, kid.id)["score"] == 1003  # the kept ledger and rulebook are picked up again
    assert admin.delete("/api/v1/plugins/points?purge=true", json={"reason": "数据已导出，清除"}).status_code == 204
    for table in ("points_entries", "points_rulebooks", "points_scores", "points_appeals"):
        assert db_session.scalar(sa.text(f"SELECT count(*) FROM {table} WHERE school_id = :s"), {"s": installed[0]}) == 0
    assert db_session.scalar(sa.text("SELECT count(*) FROM points_rulebooks WHERE school_id = :s"),
                             {"s": installed[1]}) == 1  # the other school's rulebook is untouched
