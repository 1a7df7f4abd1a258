"""Fixtures for the aid plugin: the district publishes it, both demo schools' admins install it through the
API, and ``month_of_records`` writes a month of card and canteen records for school 0 with a known truth per
student (the records land as the demo's do; the browser test sends them through the ingest API)."""
from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import login_of

API = "/api/v1/plugins"
A = "/aid/api"


def publish(app, key: str = "aid") -> None:
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
def installed(app, users, schools, db_session, demo) -> list[int]:
    return install(app, users, schools, db_session, demo)


def install(app, users, schools, db_session, demo) -> list[int]:
    """Installed in both schools; each school's dean also holds the aid officer role (the session's demo
    district was built before the plugin declared it): ``users("dean", i)`` is the school's aid officer."""
    from foundation.models import Membership

    publish(app)
    for index in (0, 1):
        resp = users("school_admin", index).post(f"{API}/aid/install", json={"config": {}})
        assert resp.status_code == 201, resp.get_json()
        dean = person(db_session, demo, "dean", index)
        db_session.add(Membership(account_id=dean.id, role="aid_officer", org_unit_id=schools[index],
                                  school_id=schools[index]))
    db_session.commit()
    return schools


def last_month() -> str:
    first = datetime.now(UTC).date().replace(day=1) - timedelta(days=1)
    return f"{first:%Y-%m}"


def person(db_session, demo, role: str, school: int = 0):
    from foundation.models import Account

    return db_session.scalar(sa.select(Account).where(Account.username == login_of(demo, role, school)))


def homeroom_class(db_session, demo, school: int = 0) -> int:
    from foundation.models import Membership

    acct = person(db_session, demo, "homeroom_teacher", school)
    return db_session.scalar(sa.select(Membership.org_unit_id).where(Membership.account_id == acct.id,
                                                                     Membership.role == "homeroom_teacher"))


def school_days_of(app, school_id: int, month: str) -> list[date]:
    from foundation import db
    from foundation.plugin_api import school_calendar, school_days
    from foundation.tenancy import unscoped
    from plugins.aid.identify import month_days

    with app.app_context():
        sess = unscoped("test: the school's calendar").mark(db.session())
        first, last = month_days(month)
        return school_days(school_calendar(sess, school_id), first, last)


def meals_of(sid: int, kind: str, day: date, rng: random.Random, card: str, boarding: bool = True):
    """(canteen rows, card rows) of one student's day; kinds: normal, poor, at_home, off_campus, fall."""
    meals, pays = [], []
    plan = {"normal": (0.95, 0.2), "poor": (0.8, 0.85), "at_home": (0.1, 0.2), "off_campus": (0.1, 0.2),
            "fall": (0.3, 0.2)}[kind]
    for meal, hour, base in (("breakfast", 7, 3.0), ("lunch", 12, 8.0), ("dinner", 17, 7.0)):
        if (not boarding and meal != "lunch") or rng.random() >= plan[0]:
            continue
        cheap = rng.random() < plan[1]
        price = round(base * (1.0 if cheap else 1.6), 1)
        at = datetime.combine(day, time(hour, rng.randint(0, 50))) - timedelta(hours=8)  # Shanghai → UTC
        ref = f"{sid}-{day:%Y%m%d}-{meal}"
        meals.append({"student_id": sid, "occurred_at": at, "source_id": f"m-{ref}",
                      "data": {"meal_type": meal, "price": price, "is_cheapest": cheap, "card_no": card}})
        pays.append({"student_id": sid, "occurred_at": at, "source_id": f"c-{ref}",
                     "data": {"card_no": card, "amount": price, "merchant_type": "canteen"}})
    return meals, pays


def write_records(app, school_id: int, canteen: list[dict], card: list[dict], attendance: list[dict] = ()) -> None:
    from foundation import db
    from foundation.plugin_api import demo_records
    from foundation.tenancy import unscoped

    with app.app_context():
        sess = db.session()
        with unscoped("test: records as the demo writes them").for_school(sess, school_id):
            demo_records(sess, "canteen_meal", canteen, source="test")
            demo_records(sess, "card_transaction", card, source="test")
            if attendance:
                demo_records(sess, "attendance", list(attendance), source="test")
            sess.flush()
        sess.commit()


@pytest.fixture
def students0(db_session, schools):
    from foundation.models import Student

    return db_session.scalars(sa.select(Student).where(Student.school_id == schools[0], Student.status_code == "01")
                              .order_by(Student.id)).all()
