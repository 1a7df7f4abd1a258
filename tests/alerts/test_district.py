"""The scheduled pass writes every school's hits in one district batch (``trigger_district``): the same
cases, assignees, timeline and messages as school by school, on opening and on the next day's re-trigger —
red/yellow attachment both ways included — and a batch with one school's bad hits costs that school only."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from tests.alerts.conftest import CONDUCT, MONDAY

RED = {"key": "test.scan_fight", "title": {"zh": "打架", "en": "Fight"}, "level": "red", "category": "conduct"}
YELLOW = {"key": "test.scan_drop", "title": {"zh": "德育分下降", "en": "Conduct drop"}, "level": "yellow",
          "category": "conduct"}


def _shape(sess) -> dict:
    """Everything the pass wrote, named by (rule, student) instead of ids."""
    from foundation.models import AlertAssignee, AlertCase, AlertEvent, InboxItem, Message

    cases = {c.id: c for c in sess.scalars(sa.select(AlertCase))}
    name = {i: (c.rule_key, c.student_id) for i, c in cases.items()}
    keep = ("school_id", "class_id", "level", "status", "count", "round_no", "follow_due_at", "contact_due_at",
            "next_due_at", "escalation_epoch", "value", "source")
    shape = {"cases": sorted((name[i], name.get(c.parent_case_id), *(getattr(c, k) for k in keep))
                             for i, c in cases.items())}
    shape["assignees"] = sorted((name[c], a, r) for c, a, r in sess.execute(
        sa.select(AlertAssignee.case_id, AlertAssignee.account_id, AlertAssignee.role)))
    shape["events"] = sorted((name[c], k, str({x: y for x, y in (d or {}).items() if "case_id" not in x}))
                             for c, k, d in sess.execute(sa.select(AlertEvent.case_id, AlertEvent.kind, AlertEvent.data)))
    inbox: dict[int, list[int]] = {}
    for m, a in sess.execute(sa.select(InboxItem.message_id, InboxItem.account_id)):
        inbox.setdefault(m, []).append(a)
    shape["messages"] = sorted((m.type_key, m.school_id, m.subject_zh, m.body_zh, m.recipient_count,
                                sorted(inbox.get(m.id, []))) for m in sess.scalars(
        sa.select(Message).where(Message.type_key.like("alert.%"))))
    return shape


def _run(sess, k0, k1) -> tuple[dict, dict]:
    """Open cases one school day, find them again the next: the shape after each pass."""
    from foundation.alerts import register_rule, run_scans, trigger

    a, b = k0.students[:2]
    trigger(sess, {**RED, "key": "test.manual_red"}, student_id=a, school_id=k0.school_id, now=MONDAY)
    trigger(sess, CONDUCT, student_id=b, school_id=k0.school_id, now=MONDAY)  # an open yellow, joins red below
    hits = {k0.school_id: k0.students[:6], k1.school_id: k1.students[:3]}
    register_rule({**YELLOW, "scan": lambda s, school: [{"student_id": x, "value": 60} for x in hits.get(school, [])
                                                        if x != b]})
    register_rule({**RED, "scan": lambda s, school: [{"student_id": b, "value": 3}] if school == k0.school_id
                   else []})
    shapes = []
    for at in (MONDAY, MONDAY + timedelta(days=1)):
        assert run_scans(sess, at, rules={YELLOW["key"], RED["key"]}) == {YELLOW["key"]: 8, RED["key"]: 1}
        sess.flush()
        shapes.append(_shape(sess))
    _reset(sess)
    return shapes[0], shapes[1]


def _reset(sess) -> None:
    from foundation.models import AlertAssignee, AlertCase, AlertEvent, InboxItem, Message

    alert = sa.select(Message.id).where(Message.type_key.like("alert.%"))
    sess.execute(sa.delete(InboxItem).where(InboxItem.message_id.in_(alert)))
    sess.execute(sa.delete(Message).where(Message.type_key.like("alert.%")))
    for model in (AlertEvent, AlertAssignee):
        sess.execute(sa.delete(model))
    sess.execute(sa.update(AlertCase).values(parent_case_id=None))
    sess.execute(sa.delete(AlertCase))
    sess.commit()


def test_the_district_batch_writes_what_school_by_school_writes(sys_sess, k0, k1, monkeypatch, caplog):
    from foundation.alerts import schedule, unregister_rule

    try:
        district = _run(sys_sess, k0, k1)
        assert not [r for r in caplog.records if "district batch failed" in r.getMessage()]  # no fallback
        seen = []

        def broken(*args, **kwargs):
            seen.append(args[2])
            raise RuntimeError("the district batch is off: school by school")

        monkeypatch.setattr(schedule, "trigger_district", broken)
        one_by_one = _run(sys_sess, k0, k1)
    finally:
        unregister_rule(YELLOW["key"])
        unregister_rule(RED["key"])
    assert sorted(seen[0]) == sorted([k0.school_id, k1.school_id])  # the fallback really ran
    opened, again = district
    assert opened == one_by_one[0] and again == one_by_one[1]
    fight = [c for c in opened["cases"] if c[0][0] == RED["key"]]
    joined = [c for c in opened["cases"] if c[1] == (RED["key"], k0.students[1])]
    attached = [c for c in opened["cases"] if c[1] == ("test.manual_red", k0.students[0])]
    assert len(fight) == 1 and [c[0][0] for c in joined] == [CONDUCT["key"]]  # the open yellow joined red
    assert [c[0] for c in attached] == [(YELLOW["key"], k0.students[0])]  # new yellow work joined open red
    assert {c[0][0]: c[6] for c in again["cases"]}[YELLOW["key"]] == 2  # found again the next day: count 2
    assert len(opened["messages"]) >= 3 and any(m[0] == "alert.case.digest" for m in opened["messages"])


def test_one_schools_bad_hits_cost_that_school_only(sys_sess, k0, k1):
    from foundation.alerts import register_rule, run_scans, unregister_rule
    from foundation.models import AlertCase

    stray = k1.students[5]  # a student of the other school, named by school 0's scan
    hits = {k0.school_id: [k0.students[0], stray], k1.school_id: [k1.students[0]]}
    register_rule({**YELLOW, "scan": lambda s, school: [{"student_id": x} for x in hits.get(school, [])]})
    try:
        assert run_scans(sys_sess, MONDAY, rules={YELLOW["key"]}) == {YELLOW["key"]: 1}
    finally:
        unregister_rule(YELLOW["key"])
    written = sys_sess.execute(sa.select(AlertCase.school_id, AlertCase.student_id)
                               .where(AlertCase.rule_key == YELLOW["key"])).all()
    assert written == [(k1.school_id, k1.students[0])]
