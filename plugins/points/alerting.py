"""The yellow alert (德育积分周降): a student's score fell by the school's threshold (50 by default) or more
within seven days, or fell far more than the student's own recent baseline. Raised through the platform's
alert engine, assigned to the homeroom teacher; the rule's ``evaluate`` checks, after the agreed period,
whether the score recovered."""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation import plugin_api
from plugins.points import standing
from plugins.points.models import entries

log = logging.getLogger("jizuo.plugins.points")
RULE = "points.weekly_drop"
DEFAULTS = {"drop_threshold": 50, "drop_days": 7, "baseline_weeks": 4, "baseline_factor": 3,
            "baseline_min_drop": 30, "show_band": True}


def settings(school_id: int) -> dict[str, Any]:
    return DEFAULTS | (plugin_api.plugin_config("points", school_id) or {})


def rule_spec() -> dict[str, Any]:
    return {"key": RULE, "title": {"zh": "德育积分周降预警", "en": "Conduct score weekly drop"}, "level": "yellow",
            "category": "conduct", "assign": ["homeroom_teacher"], "sensitive": False, "evaluation_days": 30,
            "evaluate": evaluate, "scan": scan}


def scan(sess: so.Session, school_id: int) -> list[dict]:
    """The scheduled check (``jizuo alerts run``, the worker, ``jizuo demo``): every student of the school
    whose fall over the window is alarming — also falls recorded in bulk, which no event announced. A fall
    already raised (same week, same depth) is not raised again."""
    cfg = settings(school_id)
    now = plugin_api.utcnow()
    since = now - timedelta(days=cfg["drop_days"])
    bar = min(cfg["drop_threshold"], cfg["baseline_min_drop"])
    fell = sess.execute(sa.select(entries.c.student_id).where(  # the platform runs the scan for this school only
        entries.c.occurred_at >= since).group_by(entries.c.student_id)
        .having(sa.func.sum(entries.c.points) <= -bar)).scalars().all()
    hits = []
    for student_id in fell:
        detail = assess(sess, school_id, student_id, cfg, now=now)
        if detail is not None:
            detail.pop("new")
            hits.append({"student_id": student_id, "value": detail["drop"], "detail": detail,
                         "occurrence": occurrence(detail, now)})
    return hits


def occurrence(detail: dict, now=None) -> str:
    """The same fall, seen by an entry's check and by the scan, is one occurrence: the ISO week and how
    many thresholds deep it is (a deeper fall the same week is a new one)."""
    year, week, _ = (now or plugin_api.utcnow()).isocalendar()
    return f"{year}-W{week:02d}:{detail['drop'] // max(1, detail['threshold'])}"


def _net(sess: so.Session, student_id: int, since, until=None) -> int:
    cond = [entries.c.student_id == student_id, entries.c.occurred_at >= since]
    if until is not None:
        cond.append(entries.c.occurred_at < until)
    return int(sess.scalar(sa.select(sa.func.coalesce(sa.func.sum(entries.c.points), 0)).where(*cond)) or 0)


def _judge(drop: int, baseline: float, cfg: dict) -> str | None:
    if drop >= cfg["drop_threshold"]:
        return "threshold"
    if drop >= cfg["baseline_min_drop"] and drop >= cfg["baseline_factor"] * max(baseline, 5):
        return "baseline"
    return None


def assess(sess: so.Session, school_id: int, student_id: int, cfg: dict | None = None, now=None,
           batch: int = 0) -> dict | None:
    """The alert's detail when the student's recent fall is alarming, else None. ``batch`` is the net of
    the entries just written (inside the window): ``new`` says whether they made the fall alarming, or
    deepened it by another full threshold — only then is the teacher told (again)."""
    cfg = cfg or settings(school_id)
    now = now or plugin_api.utcnow()
    window = now - timedelta(days=cfg["drop_days"])
    drop = -_net(sess, student_id, window)
    if drop <= 0:
        return None
    weeks = max(1, cfg["baseline_weeks"])
    baseline = max(0, -_net(sess, student_id, window - timedelta(days=7 * weeks), window)) / weeks
    reason = _judge(drop, baseline, cfg)
    if reason is None:
        return None
    before = drop + min(0, batch)
    step = cfg["drop_threshold"]
    new = _judge(before, baseline, cfg) is None or drop // step > before // step

    score = standing.score_of(sess, school_id, student_id)
    return {"drop": drop, "days": cfg["drop_days"], "threshold": cfg["drop_threshold"],
            "baseline_weekly_drop": round(baseline, 1), "reason": reason, "score": score,
            "score_before": score + drop, "new": new}


def after_entries(sess: so.Session, school_id: int, rows: list[dict]) -> list[dict]:
    """Check the students who just lost points; raise the yellow alert for those whose fall just became
    alarming (or deepened by another threshold). One open case per student: the engine raises its count."""
    fell = sorted({r["student_id"] for r in rows if r["points"] < 0})
    if not fell:
        return []
    cfg = settings(school_id)

    # one grouped query for the batch; only students who fell at least the smaller bar are assessed in full
    bar = min(cfg["drop_threshold"], cfg["baseline_min_drop"])
    change = standing.recent_change(sess, fell, days=cfg["drop_days"])
    fell = [s for s in fell if -change.get(s, 0) >= bar]
    since = plugin_api.utcnow() - timedelta(days=cfg["drop_days"])
    batch: dict[int, int] = {}
    for r in rows:
        if r["occurred_at"] >= since:
            batch[r["student_id"]] = batch.get(r["student_id"], 0) + r["points"]
    raised = []
    trigger = getattr(plugin_api, "raise_alert", None)
    for student_id in fell:
        detail = assess(sess, school_id, student_id, cfg, batch=batch.get(student_id, 0))
        if detail is None or not detail.pop("new"):
            continue
        raised.append({"student_id": student_id, **detail})
        if trigger is None:
            log.warning("alert engine not available: weekly drop of student %s not raised", student_id)
            continue
        try:
            with sess.begin_nested():  # the alert engine's failure must not lose the entries that were written
                trigger(sess, RULE, student_id=student_id, school_id=school_id, level="yellow", value=detail["drop"],
                        detail=detail, source="points", occurrence=occurrence(detail))
        except Exception:  # noqa: BLE001 - logged; the ledger stands, the teacher still sees the fall on the board
            log.exception("weekly-drop alert for student %s could not be raised", student_id)
    return raised


def evaluate(sess: so.Session, case: Any) -> bool | None:
    """Recovered when the fall has stopped (no alarming drop in the last window) and the score is back at or
    above where it stood when the case opened. None when the student is no longer in the school."""
    student_id, school_id = getattr(case, "student_id", None), getattr(case, "school_id", None)
    if student_id is None or school_id is None:
        return None

    if not standing.students_of(sess, [student_id]):
        return None
    detail = getattr(case, "detail", None) or {}
    at_open = detail.get("score")
    now_score = standing.score_of(sess, school_id, student_id)
    if assess(sess, school_id, student_id) is not None:
        return False
    return at_open is None or now_score >= at_open
