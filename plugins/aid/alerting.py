"""The red alert (消费数据异常+无申报): a student's card spending per school day over the last two weeks fell
to half or less of their own baseline (the four weeks before), and no declaration is on file. Raised through
the platform's alert engine on its schedule, assigned to the homeroom teacher and the aid officer, with the
red deadlines (contact within 1 hour, a plan within 24 hours). Not raised for a student whose figures say
nothing (away, card replaced). ``evaluate`` checks whether spending recovered or aid started."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.plugin_api import school_calendar, utcnow
from plugins.aid import identify as ident
from plugins.aid.models import awards, declarations

RULE = "aid.spending_fall"


def rule_spec() -> dict[str, Any]:
    return {"key": RULE, "title": {"zh": "消费数据异常且无申报", "en": "Spending fell, no declaration"},
            "level": "red", "category": "aid", "assign": ["aid_officer"], "sensitive": True,
            # a missed deadline climbs to the principal, never to a grade head or psychology teacher (the
            # school's chain for conduct): only the review roles learn who may be in difficulty
            "chain": ["homeroom_teacher", "aid_officer", "principal"], "restricted": True,
            "evaluation_days": 30, "scan": scan, "evaluate": evaluate}


def windows(sess: so.Session, school_id: int, now: datetime, cfg: dict) -> tuple[ident.Window, ident.Window]:
    clock = school_calendar(sess, school_id)
    today = clock.local_date(now)
    recent_first = today - timedelta(days=cfg["fall_days"] - 1)
    recent = ident.Window(clock, recent_first, today)
    base = ident.Window(clock, recent_first - timedelta(days=cfg["baseline_days"]), recent_first - timedelta(days=1))
    return recent, base


def falls(sess: so.Session, school_id: int, now: datetime | None = None,
          students: list[int] | None = None) -> dict[int, dict]:
    """Per student whose spending fell: the figures (two grouped aggregates and the time away)."""
    cfg = ident.settings(school_id)
    recent, base = windows(sess, school_id, now or utcnow(), cfg)
    if len(recent.days) < 5 or len(base.days) < 10:
        return {}
    kw = {"students": students} if students is not None else {}
    measures = {"spend": ("sum", "amount"), "cards": ("distinct", "card_no")}
    now_, before = recent.agg(sess, "card_transaction", measures, **kw), base.agg(sess, "card_transaction", measures, **kw)
    roster = ident.roster(sess)
    gone = ident.away_days(sess, recent, roster)
    gone_before = ident.away_days(sess, base, roster)
    out = {}
    for sid, b in before.items():
        if sid not in roster or gone.get(sid) or len(gone_before.get(sid, ())) * 4 > len(base.days):
            continue  # away: the figures say nothing
        r = now_.get(sid, {"spend": 0.0, "cards": 0})
        if (b["cards"] or 0) > 1 or (r["cards"] or 0) > 1:
            continue  # a new card: the old one's spending stops, the new one's starts
        base_day = (b["spend"] or 0) / len(base.days)
        recent_day = (r["spend"] or 0) / len(recent.days)
        if base_day < cfg["min_baseline_per_day"]:
            continue
        fall = round(100 * (1 - recent_day / base_day))
        if fall >= cfg["fall_pct"]:
            out[sid] = {"recent_per_day": round(recent_day, 2), "baseline_per_day": round(base_day, 2),
                        "fall_pct": fall, "recent_days": len(recent.days), "baseline_days": len(base.days)}
    if out:  # a card replaced between the two windows: one number before, another since
        both = ident.Window(school_calendar(sess, school_id), base.first, recent.last)
        for sid, c in both.agg(sess, "card_transaction", {"cards": ("distinct", "card_no")}, students=list(out)).items():
            if (c["cards"] or 0) > 1:
                out.pop(sid, None)
    return out


def declared(sess: so.Session, student_ids: list[int], now: datetime) -> set[int]:
    """Students with a declaration on file in the last year."""
    if not student_ids:
        return set()
    return set(sess.scalars(sa.select(declarations.c.student_id).where(
        declarations.c.student_id.in_(student_ids), declarations.c.declared_at >= now - timedelta(days=366))))


def scan(sess: so.Session, school_id: int) -> list[dict]:
    now = utcnow()
    found = falls(sess, school_id, now)
    known = declared(sess, list(found), now)
    return [{"student_id": sid, "value": d["fall_pct"], "detail": {**d, "declaration": False},
             "occurrence": f"{now:%Y-%m}"} for sid, d in sorted(found.items()) if sid not in known]


def evaluate(sess: so.Session, case: Any) -> bool | None:
    """Recovered when spending per school day is back to at least 80% of the baseline the case opened
    with, or when aid was granted after the case opened."""
    sid, school_id = getattr(case, "student_id", None), getattr(case, "school_id", None)
    if sid is None or school_id is None:
        return None
    granted = sess.scalar(sa.select(sa.func.count()).select_from(awards).where(
        awards.c.student_id == sid, awards.c.status == "granted", awards.c.decided_at >= case.opened_at))
    if granted:
        return True
    cfg = ident.settings(school_id)
    recent, _ = windows(sess, school_id, utcnow(), cfg)
    got = recent.agg(sess, "card_transaction", {"spend": ("sum", "amount")}, students=[sid]).get(sid)
    baseline = (case.detail or {}).get("baseline_per_day") or 0
    if not recent.days or not baseline:
        return None
    return ((got or {}).get("spend") or 0) / len(recent.days) >= 0.8 * baseline
