"""Fixtures for the learning plugin: the district publishes it in the app square, both demo schools' admins
install it through the API (which seeds the district's knowledge map and resources), and ``filled`` adds the
plugin's demo term (responses, mastery, pushes, tests)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import login_of

API = "/api/v1/plugins"


def publish(app) -> None:
    from foundation import db
    from foundation.models import AppListing
    from foundation.services import square
    from foundation.tenancy import unscoped

    with app.app_context():
        sess = unscoped("test setup").mark(db.session())
        square.list_plugins(sess, app.extensions["jizuo.plugins"].loaded)
        row = sess.scalar(sa.select(AppListing).where(AppListing.key == "learning"))
        if row.status != "published":
            for action in ("review", "publish"):
                square.step(sess, row, action, account_id=None, name="district.admin", reason=None)
        sess.commit()


@pytest.fixture
def schools(db_session) -> list[int]:
    from foundation.models import OrgUnit

    return sorted(db_session.scalars(sa.select(OrgUnit.id).where(OrgUnit.kind == "school")))


@pytest.fixture
def installed(app, users, schools) -> list[int]:
    publish(app)
    for index in (0, 1):
        resp = users("school_admin", index).post(f"{API}/learning/install", json={"config": {}})
        assert resp.status_code == 201, resp.get_json()
    return schools


@pytest.fixture
def filled(app, installed) -> list[int]:
    from foundation.plugin_runtime import demo_data

    with app.app_context():
        demo_data("learning", installed, seed=7)
    return installed


@pytest.fixture
def source(db_session) -> str:
    from foundation.models import DataSource

    if db_session.scalar(sa.select(DataSource.id).where(DataSource.code == "homework_app")) is None:
        db_session.add(DataSource(code="homework_app", name="作业平台"))
        db_session.commit()
    return "homework_app"


def ago(**kw) -> str:
    return (datetime.now(UTC) - timedelta(**kw)).isoformat()


def sample_student(db_session, demo, role: str = "student", school: int = 0):
    from foundation.models import Account, Student

    acct = db_session.scalar(sa.select(Account).where(Account.username == login_of(demo, role, school)))
    return db_session.scalar(sa.select(Student).where(Student.id == acct.person_id))


def responses(student_no: str, code: str, rights: list[bool], prefix: str, item: str = "Q-NA03") -> list[dict]:
    return [{"source_id": f"{prefix}-{i}", "student": student_no, "occurred_at": ago(minutes=30 - i),
             "item_id": f"{item}-{i}", "subject": "math", "knowledge_points": [code], "correct": r, "attempt": 1}
            for i, r in enumerate(rights)]
