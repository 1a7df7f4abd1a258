"""Demo data (``jizuo_demo_data``): a term of realistic conduct history for every student of the given
schools — late arrivals and early leaves from check-in, classroom-order and training-room deductions,
weekly hygiene scores, volunteering, competition awards — and a few students per school whose score falls
by 50+ in the last week, so the weekly-drop alert has cases to show. Deterministic per seed; bulk inserts
(2 × 100 students take well under a second)."""
from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.plugin_api import Student, bulk_insert, utcnow
from plugins.points import rulebook as rb
from plugins.points import standing
from plugins.points.models import entries

# rule code → (weekly rate for an average student, source, recorded by)
RATES = {"late": (0.30, "attendance", "课堂考勤（自动）"), "early_leave": (0.05, "attendance", "课堂考勤（自动）"),
         "absent": (0.02, "attendance", "课堂考勤（自动）"), "class_order": (0.07, "manual", "班主任"),
         "training_room": (0.03, "training", "实训记录（自动）"), "volunteer": (0.15, "activity", "活动记录（自动）"),
         "good_deed": (0.05, "manual", "班主任"), "competition": (0.02, "activity", "活动记录（自动）")}
LEVEL_WEIGHTS = (("school", 50), ("district", 25), ("municipal", 15), ("provincial", 8), ("national", 2))
FALL = [("class_order", 6), ("late", 5), ("absent", 3)]  # −30 −10 −15 = −55 within the last six days


def fill(sess: so.Session, school: int, seed: int, now: datetime | None = None) -> int:
    """Write the demo history of one school (giving it the default rulebook if it has none) and its live
    scores; returns how many entries were written. ``sess`` acts for that school."""
    now = now or utcnow()
    book = rb.current(sess, school)
    if book is None:
        rb.save(sess, school, rb.default_body(now.date()), account_id=None, name="系统", note="默认细则")
        book = rb.current(sess, school)
    rows = _history(sess, school, book, random.Random(seed * 7919 + school), now)
    bulk_insert(sess, entries, rows)  # COPY on PostgreSQL: a district's term is millions of rows
    standing.rebuild(sess, school, rb.term_start(book["body"]), book["body"]["starting_score"])
    standing.refresh(sess, school)
    return len(rows)


def _history(sess: so.Session, school: int, book: dict, rng: random.Random, now: datetime) -> list[dict[str, Any]]:
    body = book["body"]
    term = rb.term_start(body)
    begin = datetime(term.year, term.month, term.day, 7, 30)
    weeks = max(0.0, (now - begin).total_seconds() / (7 * 86400))
    if weeks <= 0:
        return []
    st = Student.__table__.c
    kids = sess.execute(sa.select(st.id, st.class_id).order_by(st.id)).all()  # the session acts for this school
    items = {i["code"]: i for i in body["items"] if i.get("active", True)}
    caps = body.get("caps", {})
    fallers = set(rng.sample([k.id for k in kids], min(len(kids) // 50, 4))) if len(kids) >= 50 else set()
    rows: list[dict[str, Any]] = []
    now_s = (now - begin).total_seconds()

    def add(kid, code: str, raw: int, when: datetime, source: str, by: str, totals: dict, reason=None) -> None:
        rule = items[code]
        cap = caps.get(rule["dimension"], {})
        have = totals.get(rule["dimension"], 0)
        applied = max(cap.get("min", -10**6), min(cap.get("max", 10**6), have + raw)) - have
        totals[rule["dimension"]] = have + applied
        rows.append({"school_id": school, "student_id": kid.id, "class_id": kid.class_id, "term_start": term,
                     "rulebook_version": book["version"], "rule_code": code, "dimension": rule["dimension"],
                     "raw_points": raw, "points": applied, "reason": reason, "evidence": None, "source": source,
                     "source_ref": None, "recorded_by": None, "recorded_by_name": by, "occurred_at": when,
                     "created_at": when, "reverses_id": None})

    for kid in kids:
        lean = rng.lognormvariate(0, 0.6)  # how often this student slips (a few slip a lot)
        totals: dict[str, int] = {}
        events = []
        for code, (rate, source, by) in RATES.items():
            if code not in items:
                continue
            scale = lean if items[code].get("points", 0) < 0 else 1 / lean
            n = _poisson(rng, rate * scale * weeks)
            events += [(rng.uniform(0, now_s - 3600), code, source, by) for _ in range(n)]
        if "hygiene" in items:
            events += [(7 * 86400 * w + rng.uniform(0, 5 * 86400), "hygiene", "hygiene_form", "卫生委员")
                       for w in range(int(weeks)) if rng.random() < 0.5]
        if kid.id in fallers:
            events += [(now_s - rng.uniform(3600, 6 * 86400), code, RATES[code][1], RATES[code][2])
                       for code, n in FALL if code in items for _ in range(n)]
        for offset, code, source, by in sorted(events):
            when = begin + timedelta(seconds=offset)
            rule = items[code]
            if rule["kind"] == "scored":
                raw = rb.points_for(rule, score=min(10, max(0, round(rng.gauss(8.3, 1.2)))))
            elif rule["kind"] == "by_level":
                level = rng.choices([lv for lv, _ in LEVEL_WEIGHTS], [w for _, w in LEVEL_WEIGHTS])[0]
                raw = rb.points_for(rule, level=level)
            else:
                raw = rule["points"]
            if raw:
                add(kid, code, raw, when.replace(microsecond=0), source, by, totals)
    return rows


def _poisson(rng: random.Random, lam: float) -> int:
    """Knuth's method (small λ) or a rounded normal (large λ)."""
    if lam > 30:
        return max(0, round(rng.gauss(lam, lam ** 0.5)))
    limit, k, p = pow(2.718281828459045, -lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1
