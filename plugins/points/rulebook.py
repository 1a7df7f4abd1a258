"""A school's rulebook: dimensions, rule items with their points, per-dimension caps, the term, the
starting score and the eligibility thresholds. Every save is a new immutable version; entries record the
version they were scored under, so a change never rewrites history."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.plugin_api import OrgUnit, utcnow
from plugins.points.models import rulebooks

DIMENSIONS = ("attendance", "discipline", "hygiene", "activities")  # the conduct_category code table
KINDS = ("fixed", "scored", "by_level")
LEVELS = ("national", "provincial", "municipal", "district", "school")  # the award_level code table
AUTO = {"attendance.late": "late", "attendance.early_leave": "early_leave", "attendance.absent": "absent"}


BOOKS = json.loads((Path(__file__).parent / "rulebooks.json").read_text("utf-8"))


def _item(code: str) -> dict[str, Any]:
    spec = BOOKS["items"][code]
    return {"code": code, "dimension": spec["dimension"], "title": dict(spec["title"]),
            "kind": spec.get("kind", "fixed"), "points": spec.get("points", 0), "active": True,
            **{k: (dict(v) if isinstance(v, dict) else v) for k, v in spec.items() if k in ("par", "factor", "levels")}}


def book_for(stage: str | None) -> str:
    """Which starting rulebook a school of ``stage`` gets: primary, middle or vocational (general if unknown)."""
    return BOOKS["stages"].get(stage or "", "general")


def default_body(today: date | None = None, stage: str | None = None) -> dict[str, Any]:
    """The rulebook a school starts from: the district's common practice for its stage (rulebooks.json; the
    training-room rules only in vocational schools), adapted in the browser."""
    today = today or utcnow().date()
    year = today.year if today.month >= 8 else today.year - 1
    first = today.month >= 8 or today.month == 1
    start, end = (date(year, 9, 1), date(year + 1, 1, 31)) if first else (date(year + 1, 2, 15), date(year + 1, 7, 10))
    name = f"{year}—{year + 1}学年第{'一' if first else '二'}学期"
    return {
        "term": {"name": name, "start": start.isoformat(), "end": end.isoformat()},
        "starting_score": 1000,
        "items": [_item(code) for code in BOOKS["books"][book_for(stage)]],
        "caps": {"attendance": {"min": -100, "max": 0}, "discipline": {"min": -200, "max": 0},
                 "hygiene": {"min": -50, "max": 30}, "activities": {"min": 0, "max": 100}},
        "eligibility": [
            {"key": "merit", "title": {"zh": "德育标兵", "en": "Conduct merit award"}, "min_score": 950,
             "no_deduction": ["discipline"]},
            {"key": "aid_conduct", "title": {"zh": "助学金德育条件", "en": "Aid conduct condition"},
             "min_score": 900, "no_deduction": []},
        ],
    }


def default_for(sess: so.Session, school_id: int, today: date | None = None) -> dict[str, Any]:
    """:func:`default_body` for the school's own stage (its org unit's ``stage``)."""
    stage = sess.scalar(sa.select(OrgUnit.stage).where(OrgUnit.id == school_id))
    return default_body(today, stage)


def _int(value: Any, lo: int, hi: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi


def _title(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(value.get(k), str) and 0 < len(value[k].strip()) <= 60
                                           for k in ("zh", "en"))


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def check(body: Any) -> dict[str, list[str]]:
    """Problems of a proposed rulebook, ``field path → [message key]`` (empty when it can be saved)."""
    if not isinstance(body, dict):
        return {"rulebook": ["body.not_json_object"]}
    out: dict[str, list[str]] = {}
    term = body.get("term")
    start, end = (_date(term.get("start")), _date(term.get("end"))) if isinstance(term, dict) else (None, None)
    if not isinstance(term, dict) or not isinstance(term.get("name"), str) or not 0 < len(term["name"]) <= 60:
        out["term.name"] = ["points.term_name"]
    if start is None or end is None or end <= start:
        out["term"] = ["points.term_dates"]
    if not _int(body.get("starting_score"), 0, 10000):
        out["starting_score"] = ["points.starting_score"]
    items = body.get("items")
    if not isinstance(items, list) or not 1 <= len(items) <= 100:
        out["items"] = ["points.items"]
        items = []
    codes: set[str] = set()
    for i, item in enumerate(items):
        out.update(_check_item(i, item, codes))
    caps = body.get("caps", {})
    if not isinstance(caps, dict) or set(caps) - set(DIMENSIONS):
        out["caps"] = ["points.caps"]
    else:
        for dim, cap in caps.items():
            if not (isinstance(cap, dict) and _int(cap.get("min"), -10000, 0) and _int(cap.get("max"), 0, 10000)):
                out[f"caps.{dim}"] = ["points.cap"]
    rules = body.get("eligibility", [])
    if not isinstance(rules, list) or len(rules) > 20:
        out["eligibility"] = ["points.eligibility"]
        rules = []
    for i, rule in enumerate(rules):
        ok = (isinstance(rule, dict) and isinstance(rule.get("key"), str) and rule["key"].isidentifier()
              and _title(rule.get("title")) and _int(rule.get("min_score"), 0, 10000)
              and isinstance(rule.get("no_deduction", []), list) and set(rule.get("no_deduction", [])) <= set(DIMENSIONS))
        if not ok:
            out[f"eligibility.{i}"] = ["points.eligibility"]
    return out


def _check_item(i: int, item: Any, codes: set[str]) -> dict[str, list[str]]:
    where = f"items.{i}"
    if not isinstance(item, dict):
        return {where: ["points.item"]}
    out: dict[str, list[str]] = {}
    code = item.get("code")
    if not (isinstance(code, str) and 0 < len(code) <= 64 and code.replace("_", "a").isalnum() and code.isascii()
            and code[0].isalpha() and code == code.lower()):
        out[f"{where}.code"] = ["points.item_code"]
    elif code in codes:
        out[f"{where}.code"] = ["points.item_code_twice"]
    codes.add(code if isinstance(code, str) else "")
    if item.get("dimension") not in DIMENSIONS:
        out[f"{where}.dimension"] = ["points.dimension"]
    if not _title(item.get("title")):
        out[f"{where}.title"] = ["points.title"]
    kind = item.get("kind", "fixed")
    if kind not in KINDS:
        out[f"{where}.kind"] = ["points.kind"]
    elif kind == "fixed" and (not _int(item.get("points"), -200, 200) or item.get("points") == 0):
        out[f"{where}.points"] = ["points.item_points"]
    elif kind == "scored" and not (_int(item.get("par"), 0, 100) and _int(item.get("factor", 1), 1, 20)):
        out[f"{where}.par"] = ["points.item_par"]
    elif kind == "by_level":
        levels = item.get("levels")
        if not (isinstance(levels, dict) and levels and set(levels) <= set(LEVELS)
                and all(_int(v, -200, 200) for v in levels.values())):
            out[f"{where}.levels"] = ["points.item_levels"]
    if not isinstance(item.get("active", True), bool):
        out[f"{where}.active"] = ["points.item_active"]
    return out


def normalise(body: dict) -> dict:
    """The stored form: only known keys, defaults filled."""
    items = []
    for item in body["items"]:
        kept = {"code": item["code"], "dimension": item["dimension"],
                "title": {"zh": item["title"]["zh"].strip(), "en": item["title"]["en"].strip()},
                "kind": item.get("kind", "fixed"), "points": item.get("points", 0) or 0,
                "active": item.get("active", True)}
        if kept["kind"] == "scored":
            kept |= {"par": item["par"], "factor": item.get("factor", 1)}
        if kept["kind"] == "by_level":
            kept["levels"] = dict(item["levels"])
        items.append(kept)
    return {"term": {k: body["term"][k] for k in ("name", "start", "end")}, "starting_score": body["starting_score"],
            "items": items, "caps": body.get("caps", {}), "eligibility": body.get("eligibility", [])}


# The session sees one school here: the platform narrows a request to the school it acts for (school_for,
# narrow_to, acting_in) and runs hooks, events and jobs for one school. ``school_id`` names it for writes.

def current(sess: so.Session, school_id: int) -> dict | None:
    """The school's rulebook in force: ``{"version", "body", "created_at", ...}`` (None before install)."""
    row = sess.execute(sa.select(rulebooks).order_by(rulebooks.c.version.desc()).limit(1)).first()
    return dict(row._mapping) if row else None


def version(sess: so.Session, school_id: int, number: int) -> dict | None:
    row = sess.execute(sa.select(rulebooks).where(rulebooks.c.version == number)).first()
    return dict(row._mapping) if row else None


def history(sess: so.Session, school_id: int) -> list[dict]:
    rows = sess.execute(sa.select(rulebooks.c.version, rulebooks.c.note, rulebooks.c.created_by_name,
                                  rulebooks.c.created_at).order_by(rulebooks.c.version.desc()))
    return [dict(r._mapping) for r in rows]


def save(sess: so.Session, school_id: int, body: dict, *, account_id: int | None, name: str | None,
         note: str | None = None) -> dict:
    """Store ``body`` (already checked) as the next version and return it."""
    last = sess.scalar(sa.select(sa.func.max(rulebooks.c.version))) or 0
    row = {"school_id": school_id, "version": last + 1, "body": normalise(body), "note": (note or "")[:200] or None,
           "created_by": account_id, "created_by_name": name, "created_at": utcnow()}
    sess.execute(sa.insert(rulebooks).values(row))
    return row


def item(body: dict, code: str) -> dict | None:
    return next((i for i in body["items"] if i["code"] == code), None)


def term_start(body: dict) -> date:
    return date.fromisoformat(body["term"]["start"])


def points_for(rule: dict, *, score: Any = None, level: Any = None) -> int | None:
    """The points an item gives: fixed, (score − par) × factor for a scored item, or by award level."""
    if rule["kind"] == "fixed":
        return rule["points"]
    if rule["kind"] == "scored":
        if not _int(score, 0, 100):
            return None
        return (score - rule["par"]) * rule.get("factor", 1)
    return rule.get("levels", {}).get(level) if isinstance(level, str) else None
