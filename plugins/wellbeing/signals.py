"""Daily behaviour signals, from the standard libraries (through ``records``, audited), each with a
per-school threshold (the plugin's configuration):

- ``late_dorm``: returns to the dorm after curfew (a boarder's ``dorm_access`` "in" after the local curfew,
  or before 05:00) at least ``late_returns`` times in ``late_days`` days;
- ``spending_fall``: spending (``card_transaction``) in the last 7 days at least ``spending_drop_pct`` % below
  the student's own weekly average over the ``baseline_weeks`` before it (a baseline of at least
  ``spending_min_baseline`` yuan a week, so a day student who rarely uses the card is never flagged);
- ``withdrawal``: the last ``missed_activities`` collective activities (``activity`` of type ``collective``)
  all missed;
- ``attendance``: unexcused absences in the last 14 days at least ``absences`` and more than the 14 before.

When ``signals_needed`` of them meet for a student, the scan returns one hit: a yellow case whose detail
lists the reason codes and figures. It names what was seen, never what it might mean."""
from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.plugin_api import Student, records, school_calendar, utcnow

NAME = "wellbeing"
DEFAULTS = {"curfew": "22:30", "late_returns": 3, "late_days": 7, "spending_drop_pct": 40, "baseline_weeks": 4,
            "spending_min_baseline": 50, "missed_activities": 3, "absences": 3, "signals_needed": 2}


def _late(at: datetime, curfew: time, tz: Any) -> bool:
    local = at.replace(tzinfo=UTC).astimezone(tz).time()
    return local >= curfew or local < time(5, 0)


def late_dorm(sess: so.Session, cfg: dict[str, Any], now: datetime, tz: Any) -> dict[int, dict[str, Any]]:
    boarders = list(sess.scalars(sa.select(Student.id).where(Student.boarding.is_(True), Student.status_code == "01")))
    if not boarders:
        return {}
    hh, mm = (int(x) for x in cfg["curfew"].split(":"))
    curfew, counts = time(hh, mm), defaultdict(int)
    for r in records(NAME).stream(sess, "dorm_access", students=boarders, since=now - timedelta(days=cfg["late_days"]),
                                  elements=["direction"]):
        if r["direction"] == "in" and _late(r["occurred_at"], curfew, tz):
            counts[r["student_id"]] += 1
    return {s: {"code": "late_dorm", "count": n, "days": cfg["late_days"]}
            for s, n in counts.items() if n >= cfg["late_returns"]}


def spending_fall(sess: so.Session, cfg: dict[str, Any], now: datetime) -> dict[int, dict[str, Any]]:
    weeks = cfg["baseline_weeks"]
    recent_from, base_from = now - timedelta(days=7), now - timedelta(days=7 * (weeks + 1))
    spend = {"total": ("sum", "amount")}
    base = {r["student"]: (r["total"] or 0) / weeks for r in records(NAME).aggregate(
        sess, "card_transaction", measures=spend, since=base_from, until=recent_from)}
    recent = {r["student"]: r["total"] or 0 for r in records(NAME).aggregate(
        sess, "card_transaction", measures=spend, since=recent_from, until=now)}
    out = {}
    for s, weekly in base.items():
        if weekly < cfg["spending_min_baseline"]:
            continue
        fall = round(100 * (weekly - recent.get(s, 0)) / weekly)
        if fall >= cfg["spending_drop_pct"]:
            out[s] = {"code": "spending_fall", "pct": fall, "weeks": weeks}
    return out


def withdrawal(sess: so.Session, cfg: dict[str, Any], now: datetime) -> dict[int, dict[str, Any]]:
    n = cfg["missed_activities"]
    last: dict[int, list[tuple[datetime, bool]]] = defaultdict(list)
    for r in records(NAME).stream(sess, "activity", since=now - timedelta(days=60),
                                  elements=["attended", "activity_type"]):
        if r["activity_type"] == "collective":  # class meetings, flag ceremonies, sports days
            last[r["student_id"]].append((r["occurred_at"], r["attended"] is not False))
    out = {}
    for s, rows in last.items():
        tail = [ok for _, ok in sorted(rows)[-n:]]
        if len(tail) == n and not any(tail):
            out[s] = {"code": "withdrawal", "count": n}
    return out


def attendance(sess: so.Session, cfg: dict[str, Any], now: datetime) -> dict[int, dict[str, Any]]:
    absent = {"n": ("count_if", "status", "absent")}
    recent = {r["student"]: r["n"] for r in records(NAME).aggregate(sess, "attendance", measures=absent,
                                                                     since=now - timedelta(days=14), until=now)}
    before = {r["student"]: r["n"] for r in records(NAME).aggregate(
        sess, "attendance", measures=absent, since=now - timedelta(days=28), until=now - timedelta(days=14))}
    return {s: {"code": "attendance", "count": n, "before": before.get(s, 0), "days": 14}
            for s, n in recent.items() if n >= cfg["absences"] and n > before.get(s, 0)}


def evaluate(sess: so.Session, school_id: int, cfg: dict[str, Any], now: datetime | None = None) -> list[dict[str, Any]]:
    """The hits of one school: ``{"student_id", "value", "detail": {"signals": [...]}}``."""
    from foundation.plugin_api import plugin_config

    cfg = {**DEFAULTS, **{k: v for k, v in (cfg or plugin_config(NAME, school_id) or {}).items() if k in DEFAULTS}}
    now = now or utcnow()
    tz = school_calendar(sess, school_id).tz
    found: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for part in (late_dorm(sess, cfg, now, tz), spending_fall(sess, cfg, now), withdrawal(sess, cfg, now),
                 attendance(sess, cfg, now)):
        for s, signal in part.items():
            found[s].append(signal)
    return [{"student_id": s, "value": len(sig), "detail": {"signals": sig}}
            for s, sig in sorted(found.items()) if len(sig) >= cfg["signals_needed"]]


def scan(sess: so.Session, school_id: int) -> list[dict[str, Any]]:
    return evaluate(sess, school_id, {})
