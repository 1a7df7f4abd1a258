"""Fixtures for the after-school plugin: the district publishes it, both demo schools' admins install it through
the API, and its demo data (a term of courses, a past selection with sessions, an open lottery window) is filled
as ``jizuo demo`` fills it."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.conftest import login_of

API = "/api/v1/plugins"


def publish(app, key: str = "afterschool") -> None:
    from foundation import db
    from foundation.models import AppListing
    from foundation.services import square
    from foundation.tenancy import unscoped

    with app.app_context():
        sess = unscoped("test setup").mark(db.session())
        square.list_plugins(sess, app.extensions["jizuo.plugins"].loaded)
        row = sess.scalar(sa.select(AppListing).where(AppListing.key == key))
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
    """Installed in both demo schools, with the demo's courses, windows, sessions and ratings."""
    from foundation.plugin_runtime import demo_data

    publish(app)
    for index in (0, 1):
        resp = users("school_admin", index).post(f"{API}/afterschool/install", json={"config": {}})
        assert resp.status_code == 201, resp.get_json()
    with app.app_context():
        demo_data("afterschool", schools, 7)
    return schools


def person(db_session, demo, role: str, school: int = 0):
    """(account, person id) of a demo login."""
    from foundation.models import Account

    acct = db_session.scalar(sa.select(Account).where(Account.username == login_of(demo, role, school)))
    return acct.id, acct.person_id


def child_of(db_session, demo, school: int = 0) -> int:
    """The demo parent's child (the sample student) of a school."""
    return person(db_session, demo, "student", school)[1]
