"""Fixtures for the wellbeing plugin: the district publishes it in the app square and both demo schools'
admins install it through the API; ``screening`` schedules a PHQ-9 open today for the sample student's class
(as the school's psychology teacher, through the API)."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import login_of


def publish(app) -> None:
    from foundation import db
    from foundation.models import AppListing
    from foundation.services import square
    from foundation.tenancy import unscoped

    with app.app_context():
        sess = unscoped("test setup").mark(db.session())
        square.list_plugins(sess, app.extensions["jizuo.plugins"].loaded)
        row = sess.scalar(sa.select(AppListing).where(AppListing.key == "wellbeing"))
        if row.status != "published":
            for action in ("review", "publish"):
                square.step(sess, row, action, account_id=None, name="district.admin", reason=None)
        sess.commit()


@pytest.fixture
def installed(app, users) -> None:
    publish(app)
    for index in (0, 1):
        resp = users("school_admin", index).post("/api/v1/plugins/wellbeing/install", json={"config": {}})
        assert resp.status_code == 201, resp.get_json()


def account_of(db_session, demo, role: str, school: int = 0):
    from foundation.models import Account

    return db_session.scalar(sa.select(Account).where(Account.username == login_of(demo, role, school)))


def sample_student(db_session, demo, school: int = 0):
    from foundation.models import Student

    return db_session.get(Student, account_of(db_session, demo, "student", school).person_id)


def set_birth(db_session, student_id: int, years: int, whole_class: bool = False) -> None:
    """The student (or their whole class) ``years`` old: the demo's first school is a primary school."""
    from foundation.models import Student

    born = date.today() - timedelta(days=int(365.25 * years) + 30)
    who = Student.id == student_id
    if whole_class:
        who = Student.class_id == sa.select(Student.class_id).where(Student.id == student_id).scalar_subquery()
    db_session.execute(sa.update(Student).where(who).values(birth_date=born))
    db_session.commit()


@pytest.fixture
def screening(installed, users, db_session, demo) -> dict:
    kid = sample_student(db_session, demo)
    set_birth(db_session, kid.id, 16, whole_class=True)
    today = date.today()
    resp = users("psychology_teacher").post("/wellbeing/api/screenings", json={
        "instrument": "phq9", "class_ids": [kid.class_id], "opens_on": (today - timedelta(days=1)).isoformat(),
        "closes_on": (today + timedelta(days=3)).isoformat()})
    assert resp.status_code == 201, resp.get_json()
    return {**resp.get_json(), "student_id": kid.id, "class_id": kid.class_id, "school_id": kid.school_id}


def seed_templates(app) -> None:
    from foundation import db
    from foundation.lowcode.forms import seed_templates as seed
    from foundation.tenancy import unscoped

    with app.app_context():
        seed(unscoped("test setup").mark(db.session()))
        db.session().commit()


def scale_clone(app, psych, scale: str, questions: dict | None = None) -> dict:
    """The psychology teacher's clone of the scale's template (``"PHQ-9"``/``"GAD-7"``), through the API:
    a draft when ``questions`` is None, else with those fields added after the scored items and published."""
    seed_templates(app)
    template = next(f for f in psych.get("/api/v1/forms").get_json()["items"]
                    if f["school_id"] is None and f["title"]["en"].endswith(f"({scale})"))
    made = psych.post(f"/api/v1/forms/{template['id']}/clone", json={"title": f"本校 {scale}"}).get_json()
    d = made["draft"]
    out = {"id": made["id"], "template": template["id"], "schema": d["schema"], "ui": d["ui_schema"], "app": d["app"]}
    if questions is None:
        return out
    schema = {**d["schema"], "properties": {**d["schema"]["properties"], **questions}}
    ui = {**d["ui_schema"], "ui:order": [k for k in d["schema"]["properties"]] + list(questions)}
    saved = psych.put(f"/api/v1/forms/{made['id']}", json={"schema": schema, "ui_schema": ui, "app": d["app"]})
    assert saved.get_json()["problems"] == {}, saved.get_json()
    assert psych.post(f"/api/v1/forms/{made['id']}/publish").status_code == 201
    return out
