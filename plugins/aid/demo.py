"""Demo data (``jizuo_demo_data``): two months or more of card and canteen records up to yesterday, with a known
truth, so a demo aid officer opens with candidates and one red case:

- most students eat as students do (boarders three meals, day students lunch; a dish above the cheapest most
  of the time, a drink or a snack now and then);
- about one in sixteen is in difficulty: fewer meals, mostly the cheapest dish, hardly any extras;
- some day students eat at home, some boarders eat off campus (canteen on few days);
- one class was away last month (entered as time away): two weeks of work placement in a vocational school,
  a week of social practice elsewhere; one student joined last month, one replaced their card last month, a few declared their situation;
- one student's spending halved over the last two weeks, with no declaration: the red alert;
- the National Day week (1–7 October) has no records;
- the month before last was reviewed: most of its candidates confirmed (most of those granted aid), the rest
  dismissed — what the cockpit's coverage figure shows.

Deterministic per seed; bulk inserts (the records through ``demo_records``)."""
from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.plugin_api import OrgUnit, bulk_insert, demo_records, encrypt, school_calendar, utcnow
from plugins.aid.identify import identify, month_of, roster
from plugins.aid.models import awards, away, declarations, indicators, steps

DAYS_OFF = {(10, d) for d in range(1, 8)}
MEALS = {"breakfast": (7 * 60, 3.0), "lunch": (11 * 60 + 50, 8.0), "dinner": (17 * 60 + 30, 7.0)}
# kind → (chance of each meal for a boarder, chance a dish is the cheapest, chance of an extra a day)
HABITS = {"normal": ((0.9, 0.97, 0.9), 0.2, 0.35), "difficulty": ((0.45, 0.95, 0.6), 0.8, 0.03),
          "off_campus": ((0.15, 0.2, 0.15), 0.2, 0.3)}


def cohort(students: dict[int, dict], rng: random.Random) -> dict[int, str]:
    """The known truth per student: normal, difficulty, off_campus (boarders), at_home (day students)."""
    out = {}
    for sid in sorted(students):
        r = rng.random()
        if r < 0.065:
            out[sid] = "difficulty"
        elif r < 0.11:
            out[sid] = "off_campus" if students[sid]["boarding"] else "at_home"
        else:
            out[sid] = "normal"
    return out


def day_rows(sid: int, kind: str, boarding: bool, day: date, rng: random.Random, tz, card: str, price_k: float,
             scale: float = 1.0) -> tuple[list[dict], list[dict]]:
    """One student's canteen meals and card payments of one local day."""
    chances, cheap_p, extra_p = HABITS["normal" if kind == "at_home" else kind]
    meals, pays = [], []
    for i, (meal, (minute, base)) in enumerate(MEALS.items()):
        p = chances[i] if boarding else (0.95 if meal == "lunch" else 0.0)
        if kind == "at_home":
            p = 0.12 if meal == "lunch" else 0.0
        if rng.random() >= p * scale:
            continue
        cheap = rng.random() < cheap_p
        price = round(base * price_k * (1.0 if cheap else 1.4 + 0.6 * rng.random()), 1)
        at = datetime.combine(day, time(0), tzinfo=tz) + timedelta(minutes=minute + rng.randint(0, 40))
        at = at.astimezone(UTC).replace(tzinfo=None)
        ref = f"{sid}-{day:%Y%m%d}-{meal}"
        meals.append({"student_id": sid, "occurred_at": at, "source_id": f"m-{ref}",
                      "data": {"meal_type": meal, "price": price, "is_cheapest": cheap, "card_no": card,
                               "window": f"{1 + i}号窗口", "dish": "基本套餐" if cheap else "风味套餐"}})
        pays.append({"student_id": sid, "occurred_at": at, "source_id": f"c-{ref}",
                     "data": {"card_no": card, "amount": price, "merchant_type": "canteen", "merchant": "学生食堂"}})
    if rng.random() < extra_p * scale:
        at = (datetime.combine(day, time(0), tzinfo=tz) + timedelta(minutes=15 * 60 + rng.randint(0, 120)))
        pays.append({"student_id": sid, "occurred_at": at.astimezone(UTC).replace(tzinfo=None),
                     "source_id": f"c-{sid}-{day:%Y%m%d}-shop",
                     "data": {"card_no": card, "amount": round(3 + 9 * rng.random(), 1), "merchant_type": "supermarket",
                              "merchant": "校内超市"}})
    return meals, pays


def fill(sess: so.Session, school_id: int, seed: int, now: datetime | None = None) -> dict[str, Any]:
    rng = random.Random(seed * 7919 + school_id)
    clock = school_calendar(sess, school_id)
    now = now or utcnow()
    today = clock.local_date(now)
    students = roster(sess)
    if not students:
        return {}
    truth = cohort(students, rng)
    price_k = 0.8 + 0.4 * rng.random()  # canteen prices differ by school
    # from the first of the month before last (the first of last month after mid-month) to yesterday
    back = 2 if today.day < 15 else 1
    start = date(today.year - (today.month <= back), (today.month - back - 1) % 12 + 1, 1)
    days = [d for d in (start + timedelta(days=i) for i in range((today - start).days))
            if clock.is_school_day(d) and (d.month, d.day) not in DAYS_OFF]
    previous = month_of(today.replace(day=1) - timedelta(days=1))
    last_month = [d for d in days if month_of(d) == previous]  # the last whole month: where the cases show
    normal = [s for s in sorted(students) if truth[s] == "normal"]
    rng.shuffle(normal)
    falling, joined, replaced = (normal[:1], normal[1:2], normal[2:3]) if len(normal) >= 3 else ([], [], [])
    classes = sorted({s["class_id"] for s in students.values() if s["class_id"]})
    stage = sess.scalar(sa.select(OrgUnit.stage).where(OrgUnit.id == school_id))
    # one class away last month: a vocational school's work placement (顶岗实习, two weeks), elsewhere a week of
    # social practice (社会实践) — entered as time away, so those days are not the class's school days
    vocational = stage == "vocational"
    intern_class = classes[len(classes) // 2] if classes else None
    intern_days = set(last_month[3:13] if vocational else last_month[3:8]) if intern_class else set()
    joined_on = last_month[min(7, len(last_month) - 1)] if last_month else today
    new_card_on = last_month[len(last_month) // 2] if last_month else today
    meals, pays = [], []
    for sid in sorted(students):
        s = students[sid]
        for d in days:
            if sid in joined and d < joined_on or s["class_id"] == intern_class and d in intern_days:
                continue
            card = f"{school_id:03d}{sid:07d}" + ("R" if sid in replaced and d >= new_card_on else "")
            scale = 0.3 if sid in falling and (today - d).days <= 13 else 1.0
            m, p = day_rows(sid, truth[sid], s["boarding"], d, rng, clock.tz, card, price_k, scale)
            meals += m
            pays += p
    demo_records(sess, "canteen_meal", meals)
    demo_records(sess, "card_transaction", pays)
    if intern_class and intern_days:
        bulk_insert(sess, away, [{"school_id": school_id, "class_id": intern_class, "kind": "internship",
                                  "first_day": min(intern_days), "last_day": max(intern_days),
                                  "note": "顶岗实习" if vocational else "社会实践周"}])
    declared = [s for s in sorted(students) if truth[s] == "difficulty"][:2]
    bulk_insert(sess, declarations, [{"school_id": school_id, "student_id": s, "wants_consideration": True,
                                      "situation_enc": encrypt("父母务工收入不稳定"), "declared_at": now - timedelta(days=20)}
                                     for s in declared])
    for month in sorted({month_of(d) for d in days}):
        identify(sess, school_id, month, now=now)
    reviewed(sess, school_id, rng, now)
    counts = {k: sum(1 for v in truth.values() if v == k) for k in ("normal", "difficulty", "off_campus", "at_home")}
    return {"rows": len(meals) + len(pays), **counts, "falling": falling}





def reviewed(sess: so.Session, school_id: int, rng: random.Random, now: datetime) -> None:
    """The aid officer has reviewed the month before last (the cockpit's coverage figure): most of its
    candidates confirmed, the rest dismissed, and most of those confirmed granted aid a few days later. Last
    month's candidates are left open for the demo officer."""
    months = sorted(set(sess.scalars(sa.select(indicators.c.month).distinct())))
    if len(months) < 2:
        return
    month = months[-2]
    ids = sorted(sess.scalars(sa.select(indicators.c.student_id).where(indicators.c.month == month,
                                                                        indicators.c.status == "candidate")))
    at = now - timedelta(days=12)
    rows, grants = [], []
    for sid in ids:
        confirm = rng.random() < 0.75
        rows.append({"school_id": school_id, "student_id": sid, "month": month, "kind": "confirm" if confirm else "dismiss",
                     "note": "家访核实" if confirm else "情况正常，在家就餐", "method": None, "by_account": None,
                     "by_name": "演示数据", "at": at})
        if confirm and rng.random() < 0.8:
            kind = rng.choice(("national_grant", "living_subsidy", "fee_waiver"))
            grants.append({"school_id": school_id, "student_id": sid, "kind": kind, "status": "granted",
                           "amount": 1000 if kind == "national_grant" else None, "note": None,
                           "recommended_at": at, "decided_at": at + timedelta(days=rng.randint(2, 8)),
                           "by_account": None, "by_name": "演示数据"})
    if rows:
        bulk_insert(sess, steps, rows)
    if grants:
        bulk_insert(sess, awards, grants)
