"""Raising alerts: one open case per (student, rule), assignment, deadlines, red/yellow attachment, rules."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.alerts.conftest import CONDUCT, MONDAY, PSY, SLEEP


def _assignees(sess, case_id: int) -> dict[int, str]:
    from foundation.models import AlertAssignee

    return dict(sess.execute(sa.select(AlertAssignee.account_id, AlertAssignee.role)
                             .where(AlertAssignee.case_id == case_id)).all())


def _events(sess, case_id: int) -> list[str]:
    from foundation.models import AlertEvent

    return list(sess.scalars(sa.select(AlertEvent.kind).where(AlertEvent.case_id == case_id)
                             .order_by(AlertEvent.id)))


def test_a_red_rule_opens_one_case_assigned_with_deadlines(sys_sess, k0, bus):
    from foundation.alerts import trigger

    student = k0.students[0]
    case = trigger(sys_sess, PSY, student_id=student, school_id=k0.school_id, value=27, now=MONDAY)
    assert (case.status, case.level, case.count, case.sensitive) == ("opened", "red", 1, True)
    assert case.contact_due_at == MONDAY + timedelta(hours=1)
    assert case.plan_due_at == MONDAY + timedelta(hours=24)
    assert case.next_due_at == case.contact_due_at and case.follow_due_at is None
    assert _assignees(sys_sess, case.id) == {k0.homeroom: "homeroom_teacher", k0.psych: "psychology_teacher"}
    assert ("alert.case.opened", {"case_id": case.id, "rule": PSY["key"], "student_id": student,
                                  "school_id": k0.school_id, "level": "red"}) in bus

    again = trigger(sys_sess, PSY["key"], student_id=student, school_id=k0.school_id, value=29,
                    now=MONDAY + timedelta(minutes=20))
    assert again.id == case.id and again.count == 2 and again.value == 29
    assert again.escalation_epoch == 1  # escalation restarts
    assert again.contact_due_at == MONDAY + timedelta(hours=1)  # an unmet deadline is not pushed back
    assert _events(sys_sess, case.id) == ["opened", "retriggered"]
    assert [e for e, p in bus if p["case_id"] == case.id] == ["alert.case.opened", "alert.case.retriggered"]
    from foundation.models import AlertCase

    assert sys_sess.scalar(sa.select(sa.func.count()).select_from(AlertCase)) == 1
    # an event that names its occurrence (e.g. the week) counts once per occurrence
    week = trigger(sys_sess, CONDUCT, student_id=student, school_id=k0.school_id, occurrence="2026-W48", now=MONDAY)
    assert trigger(sys_sess, CONDUCT, student_id=student, school_id=k0.school_id, occurrence="2026-W48",
                   now=MONDAY).count == 1
    assert trigger(sys_sess, CONDUCT, student_id=student, school_id=k0.school_id, occurrence="2026-W49",
                   now=MONDAY).count == 2 and week.detail == {"occurrence": "2026-W49"}


def test_a_retrigger_after_the_work_is_done_starts_a_new_round(sys_sess, k0):
    from foundation.alerts import act, trigger

    case = trigger(sys_sess, PSY, student_id=k0.students[1], school_id=k0.school_id, now=MONDAY)
    act(sys_sess, case, "contact", account_id=k0.homeroom, actor="t", note="电话联系家长", now=MONDAY + timedelta(minutes=30))
    act(sys_sess, case, "plan", account_id=k0.homeroom, actor="t", note="每日谈心", now=MONDAY + timedelta(hours=2))
    assert case.next_due_at is None and not case.missed
    later = MONDAY + timedelta(days=3)
    trigger(sys_sess, PSY, student_id=k0.students[1], school_id=k0.school_id, now=later)
    assert (case.round_no, case.status, case.contact_at) == (2, "opened", None)
    assert case.contact_due_at == later + timedelta(hours=1)
    assert case.first_action_at == MONDAY + timedelta(minutes=30)  # kept for time-to-contact


def test_closing_lets_the_pair_open_again(sys_sess, k0):
    from foundation.alerts import act, trigger

    first = trigger(sys_sess, CONDUCT, student_id=k0.students[2], school_id=k0.school_id, now=MONDAY)
    act(sys_sess, first, "close", account_id=k0.homeroom, actor="t", outcome="false_alarm", now=MONDAY)
    assert first.open_key is None and first.status == "closed"
    second = trigger(sys_sess, CONDUCT, student_id=k0.students[2], school_id=k0.school_id, now=MONDAY)
    assert second.id != first.id and second.count == 1


def test_the_database_refuses_two_open_cases_for_one_pair(sys_sess, k0):
    from foundation.alerts import trigger
    from foundation.models import AlertCase

    case = trigger(sys_sess, CONDUCT, student_id=k0.students[3], school_id=k0.school_id, now=MONDAY)
    sys_sess.commit()
    clone = AlertCase(school_id=k0.school_id, student_id=case.student_id, rule_key=case.rule_key,
                      rule_title=case.rule_title, category="conduct", level="yellow", open_key=case.open_key)
    sys_sess.add(clone)
    with pytest.raises(sa.exc.IntegrityError):
        sys_sess.flush()
    sys_sess.rollback()


def test_yellow_work_joins_an_open_red_case_of_the_same_category(sys_sess, k0, bus):
    from foundation.alerts import act, trigger

    sid = k0.students[4]
    early_yellow = trigger(sys_sess, SLEEP, student_id=sid, school_id=k0.school_id, now=MONDAY)
    assert early_yellow.parent_case_id is None and early_yellow.follow_due_at is not None
    red = trigger(sys_sess, PSY, student_id=sid, school_id=k0.school_id, now=MONDAY + timedelta(hours=1))
    assert early_yellow.parent_case_id == red.id and early_yellow.next_due_at is None
    other = trigger(sys_sess, {**SLEEP, "key": "test.diary_words"}, student_id=sid, school_id=k0.school_id,
                    now=MONDAY + timedelta(hours=2))
    assert other.parent_case_id == red.id and other.next_due_at is None
    assert ("alert.case.opened", other.id) in [(e, p["case_id"]) for e, p in bus]
    conduct = trigger(sys_sess, CONDUCT, student_id=sid, school_id=k0.school_id, now=MONDAY)
    assert conduct.parent_case_id is None  # another category is separate work
    assert _events(sys_sess, red.id).count("attached") == 2
    act(sys_sess, red, "close", account_id=k0.psych, actor="p", outcome="recovered", now=MONDAY + timedelta(days=9))
    assert other.status == early_yellow.status == "closed" and other.outcome == "with_parent"
    assert conduct.status == "opened"


def test_a_dynamic_rule_and_bad_input(sys_sess, k0, k1):
    from foundation.alerts import RuleError, get_rule, trigger

    rule = {"key": "lowcode.app7.missed_checkins", "title": "连续三天未打卡", "level": "yellow",
            "category": "lowcode"}
    case = trigger(sys_sess, rule, student_id=k0.students[5], school_id=k0.school_id, now=MONDAY)
    assert case.rule_title == {"zh": "连续三天未打卡", "en": "连续三天未打卡"}
    # a rule given as a dict serves its trigger only: it is not registered for every school to see
    assert get_rule("lowcode.app7.missed_checkins") is None
    assert get_rule("lowcode.app7.missed_checkins", k1.school_id) is None
    for bad in ({"key": "x", "level": "red"}, {"key": "ok.key", "level": "orange"},
                {"key": "ok.key", "level": "red", "assign": ["parent"]},
                {"key": "ok.key", "level": "red", "evaluation_days": 0}):
        with pytest.raises(RuleError):
            trigger(sys_sess, bad, student_id=k0.students[5], school_id=k0.school_id)
    with pytest.raises(RuleError):
        trigger(sys_sess, "no.such.rule", student_id=k0.students[5], school_id=k0.school_id)
    with pytest.raises(RuleError):  # a student of another school
        trigger(sys_sess, CONDUCT, student_id=k1.students[0], school_id=k0.school_id)


def test_a_yellow_deadline_counts_school_days_on_the_schools_calendar(sys_sess, k0):
    from datetime import date, datetime

    from foundation.alerts import trigger
    from foundation.models import SchoolCalendarDay

    friday = datetime(2026, 11, 27, 8, 0)  # 16:00 in Shanghai
    case = trigger(sys_sess, CONDUCT, student_id=k0.students[6], school_id=k0.school_id, now=friday)
    assert case.follow_due_at == datetime(2026, 12, 2, 16, 0)  # end of Wednesday (local midnight) in UTC
    # the school sets a holiday on Tuesday: Mon, Wed, Thu
    sys_sess.add(SchoolCalendarDay(school_id=k0.school_id, day=date(2026, 12, 1), kind="holiday", name="校庆"))
    sys_sess.flush()
    later = trigger(sys_sess, CONDUCT, student_id=k0.students[7], school_id=k0.school_id, now=friday)
    assert later.follow_due_at == datetime(2026, 12, 3, 16, 0)
    # and a make-up school day (调休) on Sunday: Sun, Mon, Wed
    sys_sess.add(SchoolCalendarDay(school_id=k0.school_id, day=date(2026, 11, 29), kind="workday", name="调休"))
    sys_sess.flush()
    third = trigger(sys_sess, CONDUCT, student_id=k0.students[8], school_id=k0.school_id, now=friday)
    assert third.follow_due_at == datetime(2026, 12, 2, 16, 0)
    red = trigger(sys_sess, PSY, student_id=k0.students[7], school_id=k0.school_id, now=friday)
    assert red.contact_due_at == friday + timedelta(hours=1)  # red runs around the clock
