"""Helpers for the alert tests: the demo's homeroom class and its people, a system session, a frozen clock.

Time is injected (``now=`` or the ``frozen`` fixture replacing ``foundation.alerts.clock.now``), so deadlines
and escalation are tested without sleeping."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pytest
import sqlalchemy as sa

from tests.conftest import login_of

# A Monday morning in Shanghai (09:00 local = 01:00 UTC), in term time
MONDAY = datetime(2026, 11, 23, 1, 0)


@dataclass
class Klass:
    school_id: int
    class_id: int
    grade_id: int
    students: list[int]
    homeroom: int  # account id of the homeroom teacher
    psych: int
    admin: int


def klass(db_session, demo, school: int = 0) -> Klass:
    """The sample class of the n-th demo school (whose homeroom teacher has a demo login)."""
    from foundation.models import Account, Membership, OrgUnit, Student

    def account(role: str) -> int:
        return db_session.scalar(sa.select(Account.id).where(Account.username == login_of(demo, role, school)))

    homeroom = account("homeroom_teacher")
    m = db_session.scalar(sa.select(Membership).where(Membership.account_id == homeroom,
                                                      Membership.role == "homeroom_teacher"))
    unit = db_session.scalar(sa.select(OrgUnit).where(OrgUnit.id == m.org_unit_id))
    students = list(db_session.scalars(sa.select(Student.id).where(Student.class_id == unit.id)
                                       .order_by(Student.id)))
    return Klass(m.school_id, unit.id, unit.parent_id, students, homeroom, account("psychology_teacher"),
                 account("school_admin"))


@pytest.fixture
def k0(db_session, demo) -> Klass:
    return klass(db_session, demo, 0)


@pytest.fixture
def k1(db_session, demo) -> Klass:
    return klass(db_session, demo, 1)


@pytest.fixture
def sys_sess(app):
    """The app's own session, unscoped (what the scheduler and CLI use)."""
    from foundation import db
    from foundation.tenancy import unscoped

    with app.app_context():
        yield unscoped("test setup").mark(db.session())


@pytest.fixture
def frozen(monkeypatch):
    """``frozen.at = datetime(...)`` sets the engine's clock."""

    class Clock:
        at = MONDAY

    c = Clock()
    monkeypatch.setattr("foundation.alerts.clock.now", lambda: c.at)
    return c


@pytest.fixture
def bus():
    """Alert events published on the bus, as (event, payload) pairs."""
    from foundation import events

    seen: list[tuple[str, dict]] = []
    stop = events.subscribe("alert.case.*", lambda ev, payloads: seen.extend((ev, p) for p in payloads))
    yield seen
    stop()


PSY = {"key": "test.psych_screening", "title": {"zh": "心理筛查高风险", "en": "Psych screening high risk"},
       "level": "red", "category": "psychology", "assign": ["psychology_teacher"], "evaluation_days": 30}
CONDUCT = {"key": "test.conduct_drop", "title": {"zh": "德育分周降幅过大", "en": "Conduct score weekly drop"},
           "level": "yellow", "category": "conduct", "evaluation_days": 30}
SLEEP = {"key": "test.sleep_log", "title": {"zh": "睡眠打卡异常", "en": "Sleep check-in irregular"},
         "level": "yellow", "category": "psychology"}


@pytest.fixture(autouse=True)
def test_rules():
    """The test rules, registered in code like the platform's own (every school knows them)."""
    from foundation.alerts import register_rule, unregister_rule

    for spec in (PSY, CONDUCT, SLEEP):
        register_rule(spec)
    yield
    for spec in (PSY, CONDUCT, SLEEP):
        unregister_rule(spec["key"])
