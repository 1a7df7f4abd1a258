"""Demo data (``jizuo_demo_data``): one PHQ-9 screening per school, open this week for every class, answered
by most students with a realistic spread (most minimal or mild, about one in ten moderate or worse, a few
item-9 answers), the under-14s' guardians asked and most consenting first, so the demo psychology teacher
opens with red and yellow cases on the alert engine. A few students also show behaviour signals in the
standard records (missed activities, unexcused absences, late dorm returns for boarders), which the signal
scan turns into yellow cases. Deterministic per seed; one batch per school."""
from __future__ import annotations

import random
from datetime import UTC, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.plugin_api import Student, demo_records, raise_alerts, school_calendar, utcnow
from plugins.wellbeing import consent, screening
from plugins.wellbeing.models import Screening

# (share of students, answer weights for items 1–8): minimal, mild, moderate, moderately severe, severe
PROFILES = ((0.58, (70, 25, 4, 1)), (0.24, (35, 45, 15, 5)), (0.10, (15, 40, 35, 10)), (0.05, (8, 30, 40, 22)),
            (0.03, (3, 17, 40, 40)))
ITEM9 = {0: (99, 1, 0, 0), 1: (97, 3, 0, 0), 2: (85, 12, 3, 0), 3: (70, 22, 6, 2), 4: (55, 30, 10, 5)}
ANSWERED = 0.88


def _answers(rng: random.Random) -> list[int]:
    draw = rng.random()
    for i, (share, weights) in enumerate(PROFILES):
        draw -= share
        if draw <= 0 or i == len(PROFILES) - 1:
            items = [rng.choices(range(4), weights)[0] for _ in range(8)]
            return items + [rng.choices(range(4), ITEM9[i])[0]]
    raise AssertionError


def _old_enough(sess: so.Session, today) -> list[int]:
    """Classes whose students are mostly 11 or older: PHQ-9 is a scale for adolescents, so a primary school
    screens its top grades (with their guardians' consent; its oldest classes if none is 11 yet), a secondary
    school every class."""
    from foundation.plugin_api import Student

    st = Student.__table__.c
    ages: dict[int, list[int]] = {}
    for cid, born in sess.execute(sa.select(st.class_id, st.birth_date).where(st.class_id.is_not(None))):
        if born is not None:
            ages.setdefault(cid, []).append(today.year - born.year)
    median = {c: sorted(a)[len(a) // 2] for c, a in ages.items()}
    oldest = max(median.values(), default=None)
    return sorted(c for c, m in median.items() if m >= min(11, oldest or 0)) if median else []


def fill(sess: so.Session, school_id: int, seed: int) -> None:
    rng = random.Random(f"wellbeing-{seed}-{school_id}")
    today = screening.today(sess, school_id)
    classes = _old_enough(sess, today)
    if not classes:
        return
    row = Screening(school_id=school_id, instrument="phq9", title="2026 年秋季心理健康筛查（PHQ-9）",
                    class_ids=classes, opens_on=today - timedelta(days=2), closes_on=today + timedelta(days=5),
                    extra_questions=[], created_by=None, created_by_name="心理教师", created_at=utcnow())
    sess.add(row)
    sess.flush()
    kids = screening.targets(sess, row)
    young = [k for k in kids if consent.under_age(k["birth_date"], row.opens_on)]
    consent.ask(sess, school_id, young, row.title)
    for k in young:
        if rng.random() < 0.8:
            consent.answer(sess, k["id"], school_id, True, None, "家长")
    states = consent.states(sess, [k["id"] for k in young])
    items = [{"student_id": k["id"], "answers": _answers(rng)} for k in kids
             if rng.random() < ANSWERED and (k["id"] not in states or states[k["id"]] == "granted")]
    if items:
        screening.submit(sess, row, items, None)
    signal_patterns(sess, school_id, rng)


def signal_patterns(sess: so.Session, school_id: int, rng: random.Random, n: int = 3) -> list[int]:
    """``n`` students who withdraw: their last three collective activities missed, three unexcused absences
    in the last two weeks, and (boarders) four returns to the dorm after curfew this week. Returns their ids."""
    st = Student.__table__.c
    kids = sess.execute(sa.select(st.id, st.boarding).where(st.status_code == "01").order_by(st.id)).all()
    if not kids:
        return []
    picked = rng.sample(kids, min(n, len(kids)))
    tz, now = school_calendar(sess, school_id).tz, utcnow()
    local = now.replace(tzinfo=UTC).astimezone(tz)
    rows: dict[str, list[dict]] = {"activity": [], "attendance": [], "dorm_access": []}

    def at(days: int, hour: int, minute: int = 0):
        day = (local - timedelta(days=days)).replace(hour=hour, minute=minute, second=0, microsecond=0)
        return day.astimezone(UTC).replace(tzinfo=None)

    for kid in picked:
        for i, days in enumerate((9, 5, 2)):
            rows["activity"].append({"student_id": kid.id, "occurred_at": at(days, 16, 30), "source_id":
                                     f"wb-demo-act-{kid.id}-{i}", "data": {"activity_type": "collective",
                                                                           "activity_name": "班会", "attended": False}})
        for i, days in enumerate((8, 4, 1)):
            rows["attendance"].append({"student_id": kid.id, "occurred_at": at(days, 8), "source_id":
                                       f"wb-demo-att-{kid.id}-{i}", "data": {"status": "absent"}})
        if kid.boarding:
            for i, days in enumerate((6, 4, 3, 1)):
                rows["dorm_access"].append({"student_id": kid.id, "occurred_at": at(days, 23, 20 + i), "source_id":
                                            f"wb-demo-dorm-{kid.id}-{i}", "data": {"direction": "in", "gate": "宿舍楼门禁"}})
    for library, batch in rows.items():
        if batch:
            demo_records(sess, library, batch)
    from plugins.wellbeing.signals import evaluate

    hits = evaluate(sess, school_id, {})  # one pass of the scheduled scan, so the demo opens with them
    if hits:
        raise_alerts(sess, "wellbeing.signals", school_id, hits, source="wellbeing")
    return [k.id for k in picked]
