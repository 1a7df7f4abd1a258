"""The red alert (消费数据异常+无申报): spending per school day halves against the student's own baseline and no
declaration is on file — a red case assigned to the homeroom teacher and the aid officer, contact due within
1 hour and a plan within 24 hours. The same fall with a declaration on file, or with a card replaced, opens
nothing."""
from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from tests.aid.conftest import meals_of, write_records


def test_a_fall_without_declaration_opens_a_red_case_with_both_deadlines(app, installed, db_session, students0,
                                                                          users):
    from foundation import db
    from foundation.alerts.schedule import PASS, tick
    from foundation.models import AlertCase
    from plugins.aid.models import declarations

    school = installed[0]
    today = datetime.now(UTC).date()
    days = [today - timedelta(days=i) for i in range(1, 43) if (today - timedelta(days=i)).weekday() < 5]
    fall, declared, replaced = students0[0].id, students0[1].id, students0[2].id
    rng, canteen, card = random.Random(3), [], []
    for s in students0[:30]:
        for d in days:
            recent = (today - d).days <= 13
            kind = "fall" if recent and s.id in (fall, declared) else "normal"
            number = f"C{s.id}" + ("N" if s.id == replaced and recent else "")
            m, p = meals_of(s.id, kind if s.id != replaced or not recent else "fall", d, rng, number)
            canteen += m
            card += p
    write_records(app, school, canteen, card)
    db_session.execute(sa.insert(declarations).values(school_id=school, student_id=declared, wants_consideration=True,
                                                      declared_at=datetime.now(UTC).replace(tzinfo=None) - timedelta(days=30)))
    db_session.commit()
    with app.app_context():  # the scheduled pass (jizuo alerts run, the worker)
        out = tick(PASS.mark(db.session()), schools={school})
        db.session().commit()
    assert out["scanned"]["aid.spending_fall"] == 1
    cases = db_session.scalars(sa.select(AlertCase).where(AlertCase.rule_key == "aid.spending_fall")).all()
    assert [c.student_id for c in cases] == [fall]
    case = cases[0]
    assert case.level == "red" and case.category == "aid" and case.sensitive
    assert case.contact_due_at - case.opened_at == timedelta(hours=1)
    assert case.plan_due_at - case.opened_at == timedelta(hours=24)
    assert case.detail["fall_pct"] >= 50 and case.detail["declaration"] is False
    from foundation.models.alerts import AlertAssignee

    roles = set(db_session.scalars(sa.select(AlertAssignee.role).where(AlertAssignee.case_id == case.id)))
    assert {"homeroom_teacher", "aid_officer"} <= roles, roles
    from foundation.alerts.escalation import sweep

    with app.app_context():  # contact missed for two hours: the aid chain climbs, never to a grade head
        sess = PASS.mark(db.session())
        sweep(sess, case.opened_at + timedelta(minutes=61))
        sweep(sess, case.opened_at + timedelta(minutes=122))
        sess.commit()
    roles = set(db_session.scalars(sa.select(AlertAssignee.role).where(AlertAssignee.case_id == case.id)))
    assert "principal" in roles and not roles & {"grade_head", "psychology_teacher", "school_admin"}, roles
    # evaluation: spending has not recovered, so not yet; once aid is granted, it has
    from foundation.tenancy import unscoped
    from plugins.aid.alerting import evaluate

    def judged():
        with app.app_context():
            sess = db.session()
            with unscoped("test: the rule's evaluation").for_school(sess, school):
                got = sess.get(AlertCase, case.id)
                return evaluate(sess, got)

    assert judged() is False
    officer = users("dean", 0)
    award = officer.post(f"/aid/api/students/{fall}/awards", json={"kind": "emergency", "amount": 500}).get_json()
    assert not award["in_approval"]  # the officer's own, within 1,000 yuan: no approval, the officer records it
    assert officer.post(f"/aid/api/awards/{award['id']}", json={"status": "granted"}).status_code == 200
    assert judged() is True


def test_aid_recommended_where_nobody_holds_the_officer_role_is_recorded_by_hand(app, installed, db_session,
                                                                                students0, users, demo):
    from foundation.models import Membership
    from tests.aid.conftest import homeroom_class

    db_session.execute(sa.delete(Membership).where(Membership.role == "aid_officer"))
    db_session.commit()
    kid = next(s for s in students0 if s.class_id == homeroom_class(db_session, demo))
    teacher = users("homeroom_teacher", 0)
    award = teacher.post(f"/aid/api/students/{kid.id}/awards", json={"kind": "work_study"})
    assert award.status_code == 201, award.get_json()
    assert award.get_json()["status"] == "recommended" and not award.get_json()["in_approval"]
    assert teacher.post(f"/aid/api/awards/{award.get_json()['id']}", json={"status": "granted"}).status_code == 200
