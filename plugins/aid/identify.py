"""Monthly indicators and the identification of possible difficulty (潜在困难), set-wise: a few SQL aggregates
over the school's card and canteen records (``records(NAME).aggregate``: grouped by student, on the month's
school days only), then one pass over the school's students — never a pass over the records.

Per student and month, over the school days of the month (the school calendar: holidays do not count) less
the days the student was away (leave in the attendance records, internship weeks the aid officer entered):
days with canteen spending, meals per school day, mean spend per transaction, spend per school day against
the average of the student's grade and boarding kind in the school (canteen prices differ by school, and a
day student eats one meal where a boarder eats three), and the share of meals at the lowest price.

Not everyone who spends little is poor: a student away too much of the month, who joined mid-month, whose
card was replaced, or who eats elsewhere (a day student at home, a boarder off campus: canteen on too few
days) comes out ``insufficient`` with the reason, never ``candidate``."""
from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.plugin_api import (
    OrgUnit,
    Student,
    bulk_insert,
    plugin_config,
    records,
    school_calendar,
    school_days,
    utcnow,
)
from plugins.aid.caps import NAME
from plugins.aid.models import away, indicators, steps

DEFAULTS = {"spend_below_pct": 30, "cheap_share_pct": 50, "low_meals_pct": 85, "min_canteen_day_pct": 60,
            "max_away_pct": 30, "min_school_days": 8, "fall_pct": 50, "fall_days": 14, "baseline_days": 28,
            "min_baseline_per_day": 8, "dismiss_months": 3}


def settings(school_id: int) -> dict[str, Any]:
    return DEFAULTS | (plugin_config(NAME, school_id) or {})


def month_of(day: date) -> str:
    return f"{day:%Y-%m}"


def month_days(month: str) -> tuple[date, date]:
    first = date(int(month[:4]), int(month[5:7]), 1)
    nxt = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return first, nxt - timedelta(days=1)


class Window:
    """A span of local days on a school's clock: its school days, the UTC bounds and the zone offset."""

    def __init__(self, clock, first: date, last: date) -> None:
        self.first, self.last = first, last
        self.days = school_days(clock, first, last)
        start = datetime.combine(first, time(0), tzinfo=clock.tz)
        self.offset = int(start.utcoffset().total_seconds() // 3600)
        self.since = start.astimezone(UTC).replace(tzinfo=None)
        self.until = datetime.combine(last + timedelta(days=1), time(0), tzinfo=clock.tz) \
            .astimezone(UTC).replace(tzinfo=None)

    def agg(self, sess: so.Session, library: str, measures: dict, **kw) -> dict[int, dict]:
        if not self.days:
            return {}
        rows = records(NAME).aggregate(sess, library, measures=measures, since=self.since, until=self.until,
                                       days=self.days, utc_offset_hours=self.offset, **kw)
        return {r["student"]: r for r in rows}


def away_days(sess: so.Session, win: Window, students: dict[int, dict]) -> dict[int, set[date]]:
    """Per student, the school days of the window they were away: on leave (attendance) or on an internship
    or other time away the school entered for them or their class."""
    out: dict[int, set[date]] = defaultdict(set)
    if not win.days:
        return out
    for r in records(NAME).aggregate(sess, "attendance", by=("student", "day"), measures={"n": "count"},
                                     where={"status": "leave"}, since=win.since, until=win.until, days=win.days,
                                     utc_offset_hours=win.offset):
        out[r["student"]].add(date.fromisoformat(r["day"]))
    by_class: dict[int, list[int]] = defaultdict(list)
    for sid, s in students.items():
        by_class[s["class_id"]].append(sid)
    school = set(win.days)
    for row in sess.execute(sa.select(away).where(away.c.first_day <= win.last, away.c.last_day >= win.first)):
        span = {d for d in school if row.first_day <= d <= row.last_day}
        for sid in ([row.student_id] if row.student_id else by_class.get(row.class_id, [])):
            out[sid] |= span
    return out


def roster(sess: so.Session) -> dict[int, dict]:
    """The school's students in school (the session acts for one school): class, grade, boarding."""
    st, ou = Student.__table__.c, OrgUnit.__table__.c
    rows = sess.execute(sa.select(st.id, st.class_id, st.boarding, ou.parent_id)
                        .select_from(Student.__table__.outerjoin(OrgUnit.__table__, ou.id == st.class_id))
                        .where(st.status_code == "01"))
    return {r.id: {"class_id": r.class_id, "grade": r.parent_id, "boarding": bool(r.boarding)} for r in rows}


def measure(sess: so.Session, win: Window, students: dict[int, dict]) -> dict[int, dict]:
    """The raw monthly figures per student: three grouped aggregates, nothing per record."""
    meals = win.agg(sess, "canteen_meal", {"meals": "count", "days": ("days",), "cheap": ("count_if", "is_cheapest", True)})
    card = win.agg(sess, "card_transaction", {"n": "count", "spend": ("sum", "amount"), "cards": ("distinct", "card_no"),
                                              "first": ("first",)})
    gone = away_days(sess, win, students)
    out = {}
    for sid in students:
        m, c = meals.get(sid, {}), card.get(sid, {})
        out[sid] = {"meals": m.get("meals") or 0, "canteen_days": m.get("days") or 0, "cheap": m.get("cheap") or 0,
                    "transactions": c.get("n") or 0, "spend": round(c.get("spend") or 0.0, 2),
                    "cards": c.get("cards") or 0, "first": c.get("first"), "away_days": len(gone.get(sid, ()))}
    return out


def _local(at: Any, offset: int) -> date | None:
    if at is None:
        return None
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    return (at + timedelta(hours=offset)).date()


def typical_start(raw: dict[int, dict], win: Window) -> date | None:
    """Three school days after the day most of the school started paying this month: later than that, a
    student joined mid-month (a holiday the calendar does not know delays everyone, not one student)."""
    firsts = sorted(d for d in (_local(f["first"], win.offset) for f in raw.values()) if d is not None)
    if not firsts:
        return None
    usual = firsts[len(firsts) // 2]
    later = [d for d in win.days if d >= usual]
    return later[min(3, len(later) - 1)] if later else usual


def exclusion(f: dict, s: dict, win: Window, cfg: dict, typical: date | None = None) -> str | None:
    """Why these figures cannot say anything about money, or None."""
    total = len(win.days)
    if total < cfg["min_school_days"]:
        return "few_school_days"
    if f["away_days"] * 100 > cfg["max_away_pct"] * total:
        return "away"
    if f["cards"] > 1:
        return "card_replaced"
    if f["transactions"] == 0 and f["meals"] == 0:
        return "no_records"
    first = _local(f["first"], win.offset)
    if first is not None and typical is not None and first > typical:
        since = sum(1 for d in win.days if d >= first)  # a regular since then: joined; else eats elsewhere
        if f["canteen_days"] * 100 >= cfg["min_canteen_day_pct"] * max(1, since):
            return "joined_mid_month"
    effective = max(1, total - f["away_days"])
    if f["canteen_days"] * 100 < cfg["min_canteen_day_pct"] * effective:
        return "eats_at_home" if not s["boarding"] else "eats_off_campus"
    return None


def figures_of(f: dict, win: Window) -> dict:
    effective = max(1, len(win.days) - f["away_days"])
    return {**{k: v for k, v in f.items() if k != "first"}, "school_days": len(win.days), "effective_days": effective,
            "spend_per_day": round(f["spend"] / effective, 2), "meals_per_day": round(f["meals"] / effective, 2),
            "mean_per_transaction": round(f["spend"] / f["transactions"], 2) if f["transactions"] else None,
            "cheap_pct": round(100 * f["cheap"] / f["meals"]) if f["meals"] else None}


def group_averages(figs: dict[int, dict], students: dict[int, dict], usable: set[int]) -> dict[int, dict]:
    """The comparison group of each student: their grade and boarding kind in the school (at least five
    students with enough data), else their grade, else the school."""
    pools: dict[tuple, list[int]] = defaultdict(list)
    for sid in usable:
        s = students[sid]
        for key in (("gb", s["grade"], s["boarding"]), ("g", s["grade"]), ("s",)):
            pools[key].append(sid)

    def avg(ids: list[int]) -> dict:
        return {"spend_per_day": sum(figs[i]["spend_per_day"] for i in ids) / len(ids),
                "meals_per_day": sum(figs[i]["meals_per_day"] for i in ids) / len(ids), "n": len(ids)}

    means = {k: avg(v) for k, v in pools.items() if len(v) >= 5}
    out = {}
    for sid in usable:
        s = students[sid]
        for key in (("gb", s["grade"], s["boarding"]), ("g", s["grade"]), ("s",)):
            if key in means:
                out[sid] = {**means[key], "group": key[0]}
                break
    return out


def judge(fig: dict, mean: dict | None, cfg: dict) -> tuple[str, int, list[dict]]:
    """The outcome for one student with enough data: status, score 0–100 and the reasons with figures."""
    if mean is None or mean["spend_per_day"] <= 0 or mean["meals_per_day"] <= 0:
        return "insufficient", 0, [{"code": "no_comparison"}]
    below = round(100 * (1 - fig["spend_per_day"] / mean["spend_per_day"]))
    freq = round(100 * fig["meals_per_day"] / mean["meals_per_day"])
    cheap = fig["cheap_pct"] or 0
    reasons = []
    if below >= cfg["spend_below_pct"]:
        reasons.append({"code": "spend_below", "pct": below, "spend_per_day": fig["spend_per_day"],
                        "average": round(mean["spend_per_day"], 2)})
    if cheap >= cfg["cheap_share_pct"]:
        reasons.append({"code": "cheap_meals", "pct": cheap})
    if freq <= cfg["low_meals_pct"]:
        reasons.append({"code": "low_frequency", "meals_per_day": fig["meals_per_day"],
                        "average": round(mean["meals_per_day"], 2)})
    reasons.append({"code": "days", "days": fig["canteen_days"], "of": fig["effective_days"]})
    score = round(0.5 * min(100, max(0, below)) + 0.3 * cheap + 0.2 * min(100, max(0, 100 - freq)))
    # the practice rule: spend well below the group and frequent lowest-price meals; low frequency (fewer meals
    # a day than the group) adds to the score and the reasons — a day student eats one meal whatever their means
    codes = {r["code"] for r in reasons}
    status = "candidate" if {"spend_below", "cheap_meals"} <= codes else "normal"
    return status, score, reasons


def identify(sess: so.Session, school_id: int, month: str | None = None, now: datetime | None = None) -> dict:
    """Compute and store the month's indicators for the school the session acts for (replacing the month's
    earlier rows); the current month counts its school days up to today. Returns counts per status."""
    cfg = settings(school_id)
    clock = school_calendar(sess, school_id)
    now = now or utcnow()
    today = clock.local_date(now)
    month = month or month_of(today)
    first, last = month_days(month)
    win = Window(clock, first, min(last, today))
    students = roster(sess)
    raw = measure(sess, win, students)
    figs, status_of = {}, {}
    typical = typical_start(raw, win)
    for sid, f in raw.items():
        figs[sid] = figures_of(f, win)
        why = exclusion(f, students[sid], win, cfg, typical)
        if why:
            status_of[sid] = ("insufficient", 0, [{"code": why}])
    usable = {sid for sid in raw if sid not in status_of}
    means = group_averages(figs, students, usable)
    for sid in usable:
        status_of[sid] = judge(figs[sid], means.get(sid), cfg)
    dismissed = _dismissed(sess, first, cfg)
    stamp = utcnow()
    rows = [{"school_id": school_id, "student_id": sid, "class_id": students[sid]["class_id"], "month": month,
             "status": st, "score": score, "reasons": reasons, "dismissed_before": sid in dismissed and st == "candidate",
             "figures": {**figs[sid], "group_spend_per_day": round(means[sid]["spend_per_day"], 2) if sid in means else None,
                         "group_meals_per_day": round(means[sid]["meals_per_day"], 2) if sid in means else None},
             "computed_at": stamp} for sid, (st, score, reasons) in status_of.items()]
    sess.execute(sa.delete(indicators).where(indicators.c.month == month))
    bulk_insert(sess, indicators, rows)
    counts: dict[str, int] = defaultdict(int)
    for r in rows:
        counts[r["status"]] += 1
    return {"month": month, "school_days": len(win.days), **counts}


def _dismissed(sess: so.Session, first: date, cfg: dict) -> set[int]:
    """Students a reviewer dismissed within the school's memory (three months by default): they still show,
    marked, below the new candidates — the reviewer decides again only if something changed."""
    since = datetime.combine(first - timedelta(days=31 * cfg["dismiss_months"]), time(0))
    last = sa.select(steps.c.student_id, sa.func.max(steps.c.at).label("at")).where(
        steps.c.kind.in_(("confirm", "dismiss")), steps.c.at >= since).group_by(steps.c.student_id).subquery()
    return set(sess.scalars(sa.select(steps.c.student_id).join(
        last, sa.and_(last.c.student_id == steps.c.student_id, last.c.at == steps.c.at)).where(steps.c.kind == "dismiss")))
