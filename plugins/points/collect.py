"""Automatic collection: events from the standards layer become ledger entries with nobody typing them.

- ``attendance.late`` / ``attendance.early_leave`` / ``attendance.absent`` (classroom check-in, library
  ``attendance``) → the rulebook's ``late`` / ``early_leave`` / ``absent`` items;
- ``conduct.recorded`` (library ``conduct_event``; practical-training systems report training-room
  violations there with ``rule_item`` e.g. ``training_room``) → the rulebook item of that code;
- ``activity.recorded`` (library ``activity``) → ``volunteer`` for volunteering, ``competition`` by award level;
- ``lowcode.submission.created`` for the plugin's hygiene form or a school's clone of it → ``hygiene``;
- ``points.ledger.changed`` (the plugin's own, after any entries) → where every score stands is refreshed.

Each source record counts once (``source_ref``); items a school switched off are skipped."""
from __future__ import annotations

import logging
from collections import defaultdict
from datetime import UTC, date, datetime
from typing import Any

from foundation import plugin_api
from plugins.points import ledger, standing
from plugins.points import rulebook as rb

log = logging.getLogger("jizuo.plugins.points")
TEMPLATE = "hygiene_score"
TEMPLATE_KEY = f"points:{TEMPLATE}"
SOURCE_NAMES = {"attendance": "课堂考勤（自动）", "training": "实训记录（自动）", "activity": "活动记录（自动）",
                "hygiene_form": "卫生评分表"}


def _when(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, 12)
    if isinstance(value, str):
        try:
            return _when(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            return None
    return None


def _by_school(payloads: list[dict]) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = defaultdict(list)
    for p in payloads:
        if p.get("school_id") is not None:
            out[p["school_id"]].append(p)
    return out


def _write(school_id: int, picked: list[tuple[dict, str, int, dict]], source: str) -> list[dict]:
    """``picked``: (payload, rule code, raw points or None for fixed, extra) → entries for one school."""
    sess = plugin_api.session()
    book = rb.current(sess, school_id)
    if book is None:
        return []
    kids = standing.students_of(sess, [p["subject_id"] for p, *_ in picked if p.get("subject_id")])
    specs = []
    for payload, code, raw, extra in picked:
        rule = rb.item(book["body"], code)
        kid = kids.get(payload.get("subject_id"))
        when = _when(payload.get("occurred_at"))
        if when is not None:
            when = min(when, plugin_api.utcnow())  # a form's date may lie ahead; it counts from now, not later
        if rule is None or not rule.get("active", True) or kid is None or when is None:
            continue
        points = rule["points"] if raw is None else raw
        if not points:
            continue
        specs.append({"student_id": kid["id"], "class_id": kid["class_id"], "rule": rule, "raw_points": points,
                      "reason": extra.get("reason"), "evidence": extra.get("evidence"), "source": source,
                      "source_ref": extra.get("ref") or f"record:{payload['id']}",
                      "recorded_by": extra.get("by"), "recorded_by_name": extra.get("by_name", SOURCE_NAMES[source]),
                      "occurred_at": when})
    return ledger.add(sess, school_id, specs, book)


def on_attendance(event: str, payloads: list[dict]) -> None:
    code = rb.AUTO.get(event)
    if code is None:
        return
    for school_id, items in _by_school(payloads).items():
        picked = []
        for p in items:
            data = p.get("data") or {}
            note = f"{data['minutes_late']} 分钟" if data.get("minutes_late") else None
            picked.append((p, code, None, {"reason": note, "evidence": [f"{p.get('library', 'attendance')}:{p['id']}"]}))
        _write(school_id, picked, "attendance")


def on_conduct(_event: str, payloads: list[dict]) -> None:
    for school_id, items in _by_school(payloads).items():
        picked = []
        for p in items:
            data = p.get("data") or {}
            code = data.get("rule_item")
            if isinstance(code, str):
                picked.append((p, code, None, {"reason": data.get("reason"),
                                                "evidence": list(data.get("evidence") or []) or None}))
        _write(school_id, picked, "training")


def on_activity(_event: str, payloads: list[dict]) -> None:
    for school_id, items in _by_school(payloads).items():
        sess = plugin_api.session()
        book = rb.current(sess, school_id)
        if book is None:
            continue
        picked = []
        for p in items:
            data = p.get("data") or {}
            if data.get("attended") is False:
                continue
            if data.get("activity_type") == "volunteer":
                picked.append((p, "volunteer", None, {"reason": data.get("activity_name")}))
            elif data.get("activity_type") == "competition" and data.get("award_level"):
                rule = rb.item(book["body"], "competition")
                pts = rb.points_for(rule, level=data["award_level"]) if rule else None
                if pts:
                    label = " ".join(x for x in (data.get("activity_name"), data.get("award")) if x)
                    picked.append((p, "competition", pts, {"reason": label or None}))
        _write(school_id, picked, "activity")


def on_submission(_event: str, payloads: list[dict]) -> None:
    """A hygiene-form submission: ``data = {"student": student_no, "date", "area", "score", "note"}``. The
    platform has checked the student against the submitter's reach and names them (``student_id``)."""
    sess = plugin_api.session()
    for school_id, items in _by_school(payloads).items():
        picked = []
        for p in items:
            data = p.get("data") or {}
            # the platform names the template a form descends from, through any chain of clones
            if p.get("template_key") != TEMPLATE_KEY:
                continue
            kid = p.get("student_id")
            book = rb.current(sess, school_id)
            rule = rb.item(book["body"], "hygiene") if book else None
            pts = rb.points_for(rule, score=data.get("score")) if rule and rule["kind"] == "scored" else None
            if kid is None or not pts:
                continue
            area = data.get("area")
            reason = "；".join(str(x) for x in (area, data.get("note")) if x) or None
            picked.append(({"id": p.get("id"), "subject_id": kid, "occurred_at": data.get("date") or p.get("created_at")},
                           "hygiene", pts, {"reason": reason, "ref": f"submission:{p.get('id')}", "by": p.get("submitted_by"),
                                            "evidence": [f"form:{p.get('form_id')}/submission:{p.get('id')}"]}))
        _write(school_id, picked, "hygiene_form")


def on_ledger_changed(_event: str, payloads: list[dict]) -> None:
    """Entries were written (by anyone, in any scope): where every score of the school stands is refreshed,
    the platform running this for the whole school."""
    for school_id in _by_school(payloads):
        standing.refresh(plugin_api.session(), school_id)


SUBSCRIPTIONS = {ledger.CHANGED: on_ledger_changed, "attendance.late": on_attendance, "attendance.early_leave": on_attendance,
                 "attendance.absent": on_attendance, "conduct.recorded": on_conduct,
                 "activity.recorded": on_activity, "lowcode.submission.created": on_submission}
