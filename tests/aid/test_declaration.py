"""The declaration (申报) walks the low-code way: the aid officer clones the plugin's template and publishes it, a
parent declares the family's situation for their child, the declaration reaches the aid record (the family's
words encrypted) — and the answers are private: the school admin, the principal and the homeroom teacher, who
read other forms' submissions, do not see these."""
from __future__ import annotations

import json

import sqlalchemy as sa

from tests.aid.conftest import A, person


def test_a_declaration_reaches_the_review_roles_only(app, installed, users, db_session, demo):
    from foundation import db
    from foundation.lowcode.forms import seed_templates
    from foundation.models import Student
    from foundation.tenancy import unscoped
    from plugins.aid.models import declarations

    with app.app_context():
        seed_templates(unscoped("test setup").mark(db.session()))
        db.session().commit()
    officer = users("dean", 0)  # the school's aid officer (conftest)
    template = next(f for f in officer.get("/api/v1/forms").get_json()["items"]
                    if f["title"]["zh"] == "家庭经济情况申报")
    clone = officer.post(f"/api/v1/forms/{template['id']}/clone", json={"title": "2026 学年家庭经济情况申报"}).get_json()
    assert officer.post(f"/api/v1/forms/{clone['id']}/publish").status_code == 201
    kid = db_session.get(Student, person(db_session, demo, "student", 0).person_id)
    words = "母亲生病住院，家中收入减少"
    sent = users("parent", 0).post(f"/api/v1/forms/{clone['id']}/submissions", json={"data": {
        "student": kid.student_no, "consider": "yes", "situation": words}})
    assert sent.status_code == 201, sent.get_json()
    row = db_session.execute(sa.select(declarations).where(declarations.c.student_id == kid.id)).one()
    assert row.wants_consideration and words not in (row.situation_enc or "")  # encrypted at rest
    seen = officer.get(f"{A}/students/{kid.id}").get_json()["declaration"]
    assert seen["wants_consideration"] is True and seen["situation"] == words
    listed = officer.get(f"/api/v1/forms/{clone['id']}/submissions").get_json()
    assert words in json.dumps(listed, ensure_ascii=False)
    for role in ("school_admin", "principal", "homeroom_teacher", "subject_teacher"):
        u = users(role, 0)
        resp = u.get(f"/api/v1/forms/{clone['id']}/submissions")
        assert resp.status_code in (403, 404) or words not in json.dumps(resp.get_json(), ensure_ascii=False), role
        page = u.client.get(f"/forms/{clone['id']}/submissions")
        assert page.status_code in (403, 404) or words not in page.get_data(as_text=True), role
    assert users("parent", 0).get(f"/api/v1/forms/{clone['id']}/submissions").status_code in (200, 403, 404)
