"""The demo district as a school would recognise it (on the session's demo district, plus the points plugin's
term of history): conduct events on school days between 07:30 and 17:30 local time, never at night; a reason
in words on every entry; each school scored by its stage's rulebook (training-room rules only in vocational
schools); grade and class names that say the same thing in Chinese and English (二年级(1)班 / Grade 2 Class 1),
built by one function."""
from __future__ import annotations

from datetime import UTC, time
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from foundation.demo import names as N
from tests.points.conftest import publish

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_grade_and_class_names_agree_between_the_languages(db_session):
    from foundation.models import OrgUnit

    units = {u.id: u for u in db_session.scalars(sa.select(OrgUnit))}
    classes = [u for u in units.values() if u.kind == "class"]
    assert classes
    for c in classes:
        grade, school = units[c.parent_id], units[c.school_id]
        assert (grade.name, grade.name_en) == N.grade_name(grade.seq, school.stage)
        assert (c.name, c.name_en) == N.class_name(grade.seq, c.seq, school.stage)
        assert c.name.endswith(f"({c.seq})班") and c.name_en == f"{grade.name_en} Class {c.seq}"
    assert N.class_name(2, 1) == ("二年级(1)班", "Grade 2 Class 1")
    assert N.class_name(10, 3, "senior") == ("高一(3)班", "Grade 10 Class 3")
    assert N.class_name(11, 2, "vocational") == ("中职二年级(2)班", "Vocational Year 2 Class 2")
    assert N.STAGE_CYCLE[:3] == ("primary", "junior", "vocational")  # `jizuo demo` has a vocational school


def test_conduct_history_happens_in_school_hours_with_reasons_and_the_stages_rulebook(app, users, db_session, demo):
    from foundation.models import OrgUnit
    from foundation.plugin_runtime import demo_data
    from plugins.points import rulebook as rb

    publish(app)
    schools = sorted(db_session.scalars(sa.select(OrgUnit.id).where(OrgUnit.kind == "school")))
    for index in range(len(schools)):
        assert users("school_admin", index).post("/api/v1/plugins/points/install", json={"config": {}}).status_code == 201
    with app.app_context():
        demo_data("points", schools, seed=7)

    from plugins.points.models import entries, rulebooks

    e = entries.c
    rows = db_session.execute(sa.select(e.school_id, e.rule_code, e.points, e.reason, e.occurred_at)).all()
    assert len(rows) > 2000
    for _school, code, points, reason, occurred in rows:
        local = occurred.replace(tzinfo=UTC).astimezone(SHANGHAI)  # stored as UTC
        assert local.weekday() < 5 and time(7, 30) <= local.time() <= time(17, 30), (code, local)
        assert (local.month, local.day) not in {(10, d) for d in range(1, 8)}  # National Day week off
        assert reason and reason.strip(), (code, points)
    assert {r.rule_code for r in rows} >= {"late", "class_order", "hygiene", "volunteer"}

    stages = dict(db_session.execute(sa.select(OrgUnit.id, OrgUnit.stage).where(OrgUnit.kind == "school")).all())
    assert sorted(stages.values()) == ["junior", "primary"]
    for school_id, stage in stages.items():
        body = db_session.scalar(sa.select(rulebooks.c.body).where(rulebooks.c.school_id == school_id)
                                 .order_by(rulebooks.c.version.desc()).limit(1))
        codes = {i["code"] for i in body["items"]}
        assert "training_room" not in codes and not any("实训" in i["title"]["zh"] for i in body["items"]), stage
        assert ("uniform" in codes) == (stage == "primary") and ("phone" in codes) == (stage == "junior")
        used = {r.rule_code for r in rows if r.school_id == school_id}
        assert used <= codes
    vocational = {i["code"] for i in rb.default_body(stage="vocational")["items"]}
    assert {"training_room", "training_safety", "internship"} <= vocational
    for stage in ("primary", "junior", "senior", "vocational", None):
        assert rb.check(rb.default_body(stage=stage)) == {}

    # parents see the reasons: the sample student's deductions, each with its words
    parent = users("parent", 0)
    kid = parent.get("/api/v1/me").get_json()["children"][0]
    archive = parent.get(f"/points/api/students/{kid}").get_json()
    deductions = [e for e in archive["entries"] if e["points"] < 0]
    assert deductions and all(e["reason"] for e in deductions)
