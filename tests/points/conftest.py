"""Fixtures for the points plugin: the district publishes it in the app square, both demo schools'
admins install it through the API (as they would in the browser), and ``users`` logs in several people at
once, each with a client of their own."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import login_of

API = "/api/v1/plugins"


@pytest.fixture
def schools(db_session) -> list[int]:
    from foundation.models import OrgUnit

    return sorted(db_session.scalars(sa.select(OrgUnit.id).where(OrgUnit.kind == "school")))


def publish(app) -> None:
    from foundation import db
    from foundation.models import AppListing
    from foundation.services import square
    from foundation.tenancy import unscoped

    with app.app_context():
        sess = unscoped("test setup").mark(db.session())
        square.list_plugins(sess, app.extensions["jizuo.plugins"].loaded)
        row = sess.scalar(sa.select(AppListing).where(AppListing.key == "points"))
        if row.status != "published":
            for action in ("review", "publish"):
                square.step(sess, row, action, account_id=None, name="district.admin", reason=None)
        sess.commit()


@pytest.fixture
def installed(app, users, schools) -> list[int]:
    """The plugin installed and enabled in both demo schools (default rulebook v1, everyone at 1000)."""
    publish(app)
    for index in (0, 1):
        resp = users("school_admin", index).post(f"{API}/points/install", json={"config": {}})
        assert resp.status_code == 201, resp.get_json()
    return schools


@pytest.fixture
def sources(db_session):
    from foundation.models import DataSource

    for code, name in (("classroom_terminal", "班牌考勤"), ("training_system", "实训管理系统"),
                       ("activity_system", "活动管理系统")):
        if db_session.scalar(sa.select(DataSource.id).where(DataSource.code == code)) is None:
            db_session.add(DataSource(code=code, name=name))
    db_session.commit()


def ago(**kw) -> str:
    return (datetime.now(UTC) - timedelta(**kw)).isoformat()


def sample_student(db_session, demo, role: str = "student", school: int = 0):
    """The demo's sample student of a school (the one the ``student`` and ``parent`` logins belong to)."""
    from foundation.models import Account, Student

    acct = db_session.scalar(sa.select(Account).where(Account.username == login_of(demo, role, school)))
    return db_session.scalar(sa.select(Student).where(Student.id == acct.person_id))
