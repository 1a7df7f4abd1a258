"""Behaviour signals from the standard records, each against its threshold, combined into one yellow case
with reason codes only when enough of them meet: late dorm returns (after curfew, boarders), a fall in
spending against the student's own baseline, missed collective activities, more unexcused absences."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa


def _local(days: int, hour: int, minute: int = 0) -> datetime:
    """A time ``days`` ago at a Beijing hour, as stored (naive UTC)."""
    from zoneinfo import ZoneInfo

    day = (datetime.now(UTC) - timedelta(days=days)).astimezone(ZoneInfo("Asia/Shanghai"))
    return day.replace(hour=hour, minute=minute, second=0, microsecond=0).astimezone(UTC).replace(tzinfo=None)


def test_signals_combine_into_one_yellow_case_with_reason_codes(installed, app, db_session):
    from foundation import db
    from foundation.models import AlertCase, OrgUnit, Student
    from foundation.plugin_api import demo_records, raise_alerts
    from foundation.tenancy import unscoped
    from plugins.wellbeing import signals

    school = db_session.scalar(sa.select(OrgUnit.id).where(OrgUnit.kind == "school").order_by(OrgUnit.id.desc()))
    a, b, c, d = db_session.scalars(sa.select(Student.id).where(Student.school_id == school).order_by(Student.id)
                                    .limit(4)).all()
    db_session.execute(sa.update(Student).where(Student.id.in_([a, d])).values(boarding=True))
    db_session.commit()
    rows: dict[str, list[dict]] = {"dorm_access": [], "card_transaction": [], "activity": [], "attendance": []}

    def add(lib: str, kid: int, at: datetime, **data) -> None:
        rows[lib].append({"student_id": kid, "occurred_at": at, "source_id": f"t-{lib}-{len(rows[lib])}", "data": data})

    for days in (6, 4, 3, 1):  # a: back after curfew four times this week, and spending fell
        add("dorm_access", a, _local(days, 23, 15), direction="in")
        add("dorm_access", d, _local(days, 21, 0), direction="in")  # d: before curfew, never late
    for days in range(8, 35):  # 27 days inside the 4-week baseline: 810 yuan, 202.5 a week
        add("card_transaction", a, _local(days, 12), amount="30.00", merchant_type="canteen")
    add("card_transaction", a, _local(2, 12), amount="40.00", merchant_type="canteen")  # 40 this week: -80 %
    for days in (20, 9, 5, 2):  # b and c: the last three collective activities missed (an earlier one attended)
        for kid in (b, c):
            add("activity", kid, _local(days, 16), activity_type="collective", attended=days == 20)
    for days in (10, 6, 2):  # c: three unexcused absences in two weeks, none before
        add("attendance", c, _local(days, 8), status="absent")

    with app.app_context():
        sess = unscoped("test: the scan of one school").mark(db.session())
        with unscoped("test: acting for the school").for_school(sess, school):
            for lib, batch in rows.items():
                demo_records(sess, lib, batch)
            hits = {h["student_id"]: h for h in signals.evaluate(sess, school, {})}
            one_is_enough = {h["student_id"] for h in signals.evaluate(sess, school, {"signals_needed": 1})}
            cases = raise_alerts(sess, "wellbeing.signals", school, list(hits.values()), source="wellbeing")
        sess.commit()

    assert set(hits) == {a, c}  # b has one signal only, d none
    assert {s["code"] for s in hits[a]["detail"]["signals"]} == {"late_dorm", "spending_fall"}
    fall = next(s for s in hits[a]["detail"]["signals"] if s["code"] == "spending_fall")
    assert fall["pct"] == 80 and fall["weeks"] == 4
    assert {s["code"] for s in hits[c]["detail"]["signals"]} == {"withdrawal", "attendance"}
    assert one_is_enough == {a, b, c}
    levels = db_session.scalars(sa.select(AlertCase.level).where(AlertCase.id.in_([x.id for x in cases]))).all()
    assert levels == ["yellow", "yellow"]
