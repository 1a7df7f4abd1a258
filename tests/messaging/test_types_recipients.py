"""Message types (templates, variables, channels) and every recipient selector, checked against the demo
district's own tables."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from foundation.messaging import MessageTypeError, RecipientError, account_ids, register_type, send
from foundation.models import Account, Delivery, GuardianLink, Membership, Student
from tests.messaging.support import classes, parent_accounts, schools
from tests.messaging.test_delivery import channels

SPEC = {"key": "test.sensitive", "title": {"zh": "测试", "en": "Test"}, "variables": ["name"],
        "template": {"zh": {"subject": "{name}", "body": "关于{name}"}, "en": {"subject": "{name}", "body": "On {name}"}}}


def test_type_specs_are_checked():
    register_type(SPEC)
    for bad, why in ((SPEC | {"key": ""}, "key"), (SPEC | {"variables": []}, "undeclared"),
                     (SPEC | {"channels": ["fax"]}, "unknown channels"),
                     (SPEC | {"template": {"zh": SPEC["template"]["zh"]}}, "template.en.subject")):
        with pytest.raises(MessageTypeError, match=why):
            register_type(bad)


def test_send_checks_variables_and_selectors_and_writes_nothing_on_error(app, db_session):
    register_type(SPEC)
    with app.app_context():
        with pytest.raises(MessageTypeError, match="missing variables"):
            send(db_session, "test.sensitive", recipients=[{"district": True}], variables={}, school_id=None)
        with pytest.raises(MessageTypeError, match="unknown message type"):
            send(db_session, "no.such", recipients=[{"district": True}], variables={}, school_id=None)
        for sel in ([], [{"role": "parent"}], [{"account": "7"}], [{"moon": 1}], ["x"], [{"accounts": [1, True]}]):
            with pytest.raises(RecipientError):
                send(db_session, "test.sensitive", recipients=sel, variables={"name": "x"}, school_id=None)
    assert db_session.execute(sa.text("SELECT count(*) FROM messages")).scalar() == 0


def test_only_types_that_name_the_webhook_reach_the_portal(app, db_session, portal):
    channels(app, portal)
    register_type(SPEC)
    s1 = schools(db_session)[0]
    parent_accounts(db_session, classes(db_session, s1)[0])
    with app.app_context():
        quiet = send(db_session, "test.sensitive", recipients=[{"parents_of_class": classes(db_session, s1)[0]}],
                     variables={"name": "王小明"}, school_id=s1)
        loud = send(db_session, "notice", recipients=[{"parents_of_class": classes(db_session, s1)[0]}],
                    variables={"subject": "s", "body": "b"}, school_id=s1)
        db_session.commit()
    count = {m: db_session.scalar(sa.select(sa.func.count()).select_from(Delivery).where(Delivery.message_id == m))
             for m in (quiet.id, loud.id)}
    assert count == {quiet.id: 0, loud.id: loud.recipient_count} and loud.recipient_count > 0


def test_every_selector(db_session):
    s1, s2 = schools(db_session)
    klass = classes(db_session, s1)[0]
    parents = set(parent_accounts(db_session, klass))
    kid = db_session.scalar(sa.select(Student.id).where(Student.class_id == klass).order_by(Student.id))
    def ids(*sel):
        return set(account_ids(db_session, list(sel)))
    members = lambda **kw: set(db_session.scalars(sa.select(Membership.account_id).filter_by(**kw)))  # noqa: E731
    kid_parents = set(db_session.scalars(sa.select(Account.id).where(
        Account.person_kind == "guardian", Account.person_id.in_(
            sa.select(GuardianLink.guardian_id).where(GuardianLink.student_id == kid)))))
    assert kid_parents and kid_parents <= parents
    assert ids({"parents_of_student": kid}) == kid_parents
    assert ids({"parents_of_class": klass}) == parents
    assert ids({"students_of_class": klass}) == set(db_session.scalars(sa.select(Account.id).where(
        Account.person_kind == "student", Account.person_id.in_(sa.select(Student.id).where(Student.class_id == klass)))))
    assert ids({"homeroom_of_student": kid}) == members(role="homeroom_teacher", org_unit_id=klass)
    assert ids({"role": "homeroom_teacher", "class": klass}) == members(role="homeroom_teacher", org_unit_id=klass)
    assert ids({"role": "homeroom_teacher", "school": s2}) == members(role="homeroom_teacher", school_id=s2)
    assert ids({"role": "psychology_teacher", "school_of_student": kid}) == members(
        role="psychology_teacher", school_id=s1) != set()
    assert ids({"school": s1}) == members(school_id=s1) and not ids({"school": s1}) & ids({"school": s2})
    assert ids({"district": True}) == set(db_session.scalars(sa.select(Membership.account_id)))
    some = sorted(parents)[:3]
    assert ids({"accounts": some}, {"account": some[0]}) == set(some)  # the union, each account once
    db_session.execute(sa.update(Account).where(Account.id == some[0]).values(active=False))
    assert ids({"accounts": some}) == set(some[1:])  # inactive accounts are not reached
