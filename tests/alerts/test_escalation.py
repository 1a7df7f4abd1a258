"""Missed deadlines escalate along the school's chain, one step per interval, each step once per case and
epoch, recorded, with its people and the school admin told through the message center; a re-triggered case
starts the chain again. Time is injected: nothing sleeps."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.alerts.conftest import CONDUCT, MONDAY, PSY


def _grade_head(sess, k) -> int:
    """Make another teacher of the school grade head of the class's grade; returns the account id."""
    from foundation.models import Account, Membership

    account = sess.scalar(sa.select(Account.id).join(Membership, Membership.account_id == Account.id).where(
        Membership.role == "subject_teacher", Membership.school_id == k.school_id).order_by(Account.id).limit(1))
    sess.add(Membership(account_id=account, role="grade_head", org_unit_id=k.grade_id, school_id=k.school_id))
    sess.flush()
    return account


def _inbox(sess, account: int, type_key: str) -> list[str]:
    from foundation.models.messages import InboxItem, Message

    return list(sess.scalars(sa.select(Message.subject_zh).join(InboxItem, InboxItem.message_id == Message.id)
                             .where(InboxItem.account_id == account, Message.type_key == type_key)
                             .order_by(Message.id)))


def test_a_missed_red_deadline_climbs_the_chain_once_per_step(sys_sess, k0, bus):
    from foundation.alerts import act, sweep, trigger
    from foundation.models import AlertAssignee, AlertEscalation

    head = _grade_head(sys_sess, k0)
    case = trigger(sys_sess, PSY, student_id=k0.students[0], school_id=k0.school_id, now=MONDAY)
    assert len(_inbox(sys_sess, k0.homeroom, "alert.case.opened")) == 1
    assert _inbox(sys_sess, k0.psych, "alert.case.opened")[0].startswith("【红色预警】")
    assert sweep(sys_sess, MONDAY + timedelta(minutes=59)) == 0 and not case.missed
    assert sweep(sys_sess, MONDAY + timedelta(minutes=61)) == 1
    assert case.missed and case.escalation_step == 1
    assert sys_sess.scalar(sa.select(AlertAssignee.reason).where(AlertAssignee.case_id == case.id,
                                                                 AlertAssignee.account_id == head)) == "escalation"
    assert sweep(sys_sess, MONDAY + timedelta(minutes=90)) == 0  # each step fires once
    assert len(_inbox(sys_sess, head, "alert.case.escalated")) == 1
    assert len(_inbox(sys_sess, k0.admin, "alert.case.escalated")) == 1  # the school admin is told
    assert sweep(sys_sess, MONDAY + timedelta(hours=2, minutes=1)) == 1  # → psychology teacher
    assert sweep(sys_sess, MONDAY + timedelta(hours=10)) == 1  # → school admin; the chain ends there
    assert sweep(sys_sess, MONDAY + timedelta(hours=11)) == 0
    steps = sys_sess.execute(sa.select(AlertEscalation.epoch, AlertEscalation.step, AlertEscalation.role,
                                       AlertEscalation.deadline).where(AlertEscalation.case_id == case.id)
                             .order_by(AlertEscalation.id)).all()
    assert steps == [(0, 1, "grade_head", "contact"), (0, 2, "psychology_teacher", "contact"),
                     (0, 3, "school_admin", "contact")]
    assert len(_inbox(sys_sess, k0.admin, "alert.case.escalated")) == 3
    assert [p["case_id"] for e, p in bus if e == "alert.case.escalated"] == [case.id] * 3

    # a re-trigger restarts the chain: step 1 fires again in the new epoch
    trigger(sys_sess, PSY, student_id=k0.students[0], school_id=k0.school_id, now=MONDAY + timedelta(hours=11))
    assert sweep(sys_sess, MONDAY + timedelta(hours=11)) == 1
    act(sys_sess, case, "contact", account_id=k0.homeroom, actor="t", note="联系",
        now=MONDAY + timedelta(hours=11, minutes=5))
    assert case.next_due_at == MONDAY + timedelta(hours=24)
    assert sweep(sys_sess, MONDAY + timedelta(hours=23)) == 0
    assert sweep(sys_sess, MONDAY + timedelta(hours=24, minutes=1)) == 1  # the plan is late now
    last = sys_sess.execute(sa.select(AlertEscalation.epoch, AlertEscalation.step, AlertEscalation.deadline)
                            .order_by(AlertEscalation.id.desc()).limit(1)).one()
    assert tuple(last) == (1, 2, "plan")


def test_a_step_cannot_fire_twice_even_from_two_sweeps(sys_sess, k0):
    from foundation.alerts import sweep, trigger
    from foundation.models import AlertEscalation

    case = trigger(sys_sess, PSY, student_id=k0.students[1], school_id=k0.school_id, now=MONDAY)
    sweep(sys_sess, MONDAY + timedelta(hours=2))
    sys_sess.commit()
    sys_sess.add(AlertEscalation(case_id=case.id, school_id=k0.school_id, epoch=0, step=1, role="grade_head",
                                 deadline="contact", due_at=MONDAY, fired_at=MONDAY, recipients=[]))
    with pytest.raises(sa.exc.IntegrityError):
        sys_sess.flush()
    sys_sess.rollback()


def test_yellow_escalation_counts_school_days(sys_sess, k0):
    from foundation.alerts import sweep, trigger

    friday = datetime(2026, 11, 27, 8, 0)  # 16:00 in Shanghai
    case = trigger(sys_sess, CONDUCT, student_id=k0.students[2], school_id=k0.school_id, now=friday)
    wednesday_end = datetime(2026, 12, 2, 16, 0)
    assert sweep(sys_sess, wednesday_end - timedelta(minutes=1)) == 0
    assert sweep(sys_sess, wednesday_end + timedelta(minutes=30)) == 1
    assert sweep(sys_sess, wednesday_end + timedelta(hours=23)) == 0  # the next step: end of Thursday
    assert sweep(sys_sess, wednesday_end + timedelta(hours=24, minutes=1)) == 1
    assert sweep(sys_sess, wednesday_end + timedelta(hours=48, minutes=1)) == 1
    assert case.escalation_step == 3  # the chain is done: nothing more fires over the weekend
    assert sweep(sys_sess, wednesday_end + timedelta(days=6)) == 0


def test_a_school_sets_its_own_chain_and_deadlines(sys_sess, k0):
    from foundation.alerts import sweep, trigger
    from foundation.models import AlertEscalation, AlertSettings

    sys_sess.add(AlertSettings(school_id=k0.school_id, deadlines={"red": {"contact_hours": 2}},
                               chain=["homeroom_teacher", "school_admin"], weekdays=[0, 1, 2, 3, 4]))
    sys_sess.flush()
    case = trigger(sys_sess, PSY, student_id=k0.students[3], school_id=k0.school_id, now=MONDAY)
    assert case.contact_due_at == MONDAY + timedelta(hours=2)
    assert sweep(sys_sess, MONDAY + timedelta(hours=1, minutes=30)) == 0
    assert sweep(sys_sess, MONDAY + timedelta(hours=9)) == 1
    assert sys_sess.scalar(sa.select(AlertEscalation.role).where(AlertEscalation.case_id == case.id)) == "school_admin"


def test_a_batch_tells_each_teacher_once(sys_sess, k0):
    from foundation.alerts import trigger_many

    trigger_many(sys_sess, CONDUCT, k0.school_id, [{"student_id": s} for s in k0.students[10:13]], source="scan",
                 now=MONDAY)
    assert _inbox(sys_sess, k0.homeroom, "alert.case.digest") == ["【黄色预警】德育分周降幅过大：3 名学生"]
    assert _inbox(sys_sess, k0.homeroom, "alert.case.opened") == []
    trigger_many(sys_sess, CONDUCT, k0.school_id, [{"student_id": s} for s in k0.students[10:13]], source="scan",
                 now=MONDAY + timedelta(days=1))  # found again the next day: one more digest
    assert len(_inbox(sys_sess, k0.homeroom, "alert.case.digest")) == 2


def test_a_rule_may_declare_its_own_chain(sys_sess, k0):
    """A psychology rule escalates to its own people (the principal here) instead of the school's chain; a
    chain naming a role nobody may be assigned is refused when the rule is checked."""
    from foundation.alerts import RuleError, register_rule, sweep, trigger, unregister_rule
    from foundation.models import AlertEscalation

    rule = register_rule({**PSY, "key": "test.own_chain", "chain": ["homeroom_teacher", "principal"]})
    try:
        assert rule.chain == ("homeroom_teacher", "principal")
        case = trigger(sys_sess, "test.own_chain", student_id=k0.students[2], school_id=k0.school_id, now=MONDAY)
        assert sweep(sys_sess, MONDAY + timedelta(minutes=61)) == 1
        assert sweep(sys_sess, MONDAY + timedelta(hours=5)) == 0  # its chain ends at the principal
        assert list(sys_sess.scalars(sa.select(AlertEscalation.role).where(AlertEscalation.case_id == case.id))) \
            == ["principal"]
        with pytest.raises(RuleError):
            register_rule({**PSY, "key": "test.bad_chain", "chain": ["parent"]})
    finally:
        unregister_rule("test.own_chain")
