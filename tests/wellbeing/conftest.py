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
