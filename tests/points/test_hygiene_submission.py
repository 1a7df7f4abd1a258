"""The hygiene form walks the whole way: a teacher clones the plugin's template, publishes it, fills it in
through the forms API, and the student's conduct archive gains the hygiene entry (the low-code layer's
``lowcode.submission.created`` event, delivered only where the plugin is enabled)."""
from __future__ import annotations

import sqlalchemy as sa

from plugins.points.models import entries as ledger
from tests.points.conftest import sample_student

P = "/points/api"


def test_a_submitted_hygiene_form_becomes_a_conduct_entry(app, installed, users, db_session, demo):
    from foundation import db
    from foundation.lowcode.forms import seed_templates
    from foundation.tenancy import unscoped

    with app.app_context():
        seed_templates(unscoped("test setup").mark(db.session()))
        db.session().commit()
    kid = sample_student(db_session, demo)
    teacher = users("homeroom_teacher", 0)
    template = next(f for f in teacher.get("/api/v1/forms").get_json()["items"]
                    if f["title"]["zh"] == "德育卫生评分（个人）")
    clone = teacher.post(f"/api/v1/forms/{template['id']}/clone", json={"title": "二班卫生评分"}).get_json()
    assert teacher.post(f"/api/v1/forms/{clone['id']}/publish").status_code == 201
    sent = teacher.post(f"/api/v1/forms/{clone['id']}/submissions", json={"data": {
        "student": kid.student_no, "date": "2026-11-24", "area": "宿舍内务", "score": 5}})
    assert sent.status_code == 201, sent.get_json()
    entries = teacher.get(f"{P}/students/{kid.id}").get_json()["entries"]
    assert [(e["rule_code"], e["points"], e["source"]) for e in entries] == [("hygiene", -3, "hygiene_form")]
    # a school where the plugin is disabled hears nothing
    admin_b = users("school_admin", 1)
    assert admin_b.post("/api/v1/plugins/points/disable", json={"reason": "本学期暂停"}).status_code == 200
    other = users("homeroom_teacher", 1)
    copy_b = other.post(f"/api/v1/forms/{template['id']}/clone", json={}).get_json()
    other.post(f"/api/v1/forms/{copy_b['id']}/publish")
    kid_b = sample_student(db_session, demo, school=1)
    assert other.post(f"/api/v1/forms/{copy_b['id']}/submissions", json={"data": {
        "student": kid_b.student_no, "date": "2026-11-24", "score": 2}}).status_code == 201
    count = db_session.scalar(sa.select(sa.func.count()).select_from(ledger)
                              .where(ledger.c.school_id == kid_b.school_id))
    assert count == 0


def test_the_plugins_pages_are_in_the_navigation_only_where_enabled(installed, users):
    teacher = users("homeroom_teacher", 0)
    assert 'href="/points/"' in teacher.get("/").get_data(as_text=True)
    assert 'href="/points/me"' not in teacher.get("/").get_data(as_text=True)  # a family's entry
    parent = users("parent", 0)
    nav = parent.get("/").get_data(as_text=True)
    assert 'href="/points/me"' in nav and 'href="/points/"' not in nav
    assert users("school_admin", 1).post("/api/v1/plugins/points/disable", json={"reason": "本学期暂停"}).status_code == 200
    assert "/points/" not in users("homeroom_teacher", 1).get("/").get_data(as_text=True).split("</nav>")[0]
