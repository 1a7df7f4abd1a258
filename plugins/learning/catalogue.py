"""The knowledge map, the Q-matrix and the resource library: the district's map and resources (maps/district.json)
seeded into a school when it installs the plugin, what the school adds, and CSV imports of each — checked
whole first (422 naming the line and the field), then written, never half."""
from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.plugin_api import ValidationFailed, utcnow
from plugins.learning.models import Item, Point, Resource

MAPS = Path(__file__).parent / "maps"
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
SUBJECTS = ("chinese", "math", "english", "physics", "chemistry", "biology", "history", "geography")
KINDS = ("micro_lesson", "question_set")


def _rows(text: str) -> list[dict[str, str]]:
    try:
        return [{(k or "").strip(): (v or "").strip() for k, v in r.items()} for r in csv.DictReader(io.StringIO(text))]
    except csv.Error:
        raise ValidationFailed({"file": ["learning.csv.unreadable"]}) from None


def points(sess: so.Session, subject: str | None = None) -> list[Point]:
    q = sa.select(Point).order_by(Point.subject, Point.seq, Point.code)
    return list(sess.scalars(q.where(Point.subject == subject) if subject else q))


def groups(sess: so.Session) -> dict[str, Point]:
    """Knowledge point code → its top-level group (the radar's axis)."""
    by_code = {p.code: p for p in points(sess)}
    out = {}
    for code, p in by_code.items():
        top, seen = p, set()
        while top.parent_code and top.parent_code in by_code and top.code not in seen:
            seen.add(top.code)
            top = by_code[top.parent_code]
        out[code] = top
    return out


def check_point(row: dict[str, Any], known: set[str], where: str = "") -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    code, name = str(row.get("code") or "").strip(), str(row.get("name") or "").strip()
    subject, parent = str(row.get("subject") or "").strip(), str(row.get("parent_code") or "").strip() or None
    if not CODE.match(code):
        errors[f"{where}code"] = ["learning.point.bad_code"]
    if not name or len(name) > 120:
        errors[f"{where}name"] = ["field.required" if not name else "field.length:120"]
    if subject not in SUBJECTS:
        errors[f"{where}subject"] = ["learning.point.bad_subject"]
    if parent and parent not in known:
        errors[f"{where}parent_code"] = ["learning.point.no_parent"]
    grade = str(row.get("grade") or "").strip()
    if grade and not (grade.isdigit() and 1 <= int(grade) <= 12):
        errors[f"{where}grade"] = ["learning.point.bad_grade"]
    if errors:
        raise ValidationFailed(errors)
    name_en = str(row.get("name_en") or "").strip()[:120] or None
    return {"code": code, "name": name, "name_en": name_en, "subject": subject, "parent_code": parent,
            "grade": int(grade) if grade else None}


def add_points(sess: so.Session, school_id: int, rows: list[dict[str, Any]], origin: str = "school") -> int:
    """Adds (or renames) points; a row's parent may be an earlier row of the same batch."""
    existing = {p.code: p for p in points(sess)}
    known, checked = set(existing), []
    for i, row in enumerate(rows):
        p = check_point(row, known, f"rows.{i + 1}." if len(rows) > 1 else "")
        known.add(p["code"])
        checked.append(p)
    for seq, p in enumerate(checked, start=len(existing)):
        if p["code"] in existing:
            old = existing[p["code"]]
            old.name, old.name_en, old.parent_code, old.grade = p["name"], p["name_en"], p["parent_code"], p["grade"]
        else:
            sess.add(Point(school_id=school_id, origin=origin, seq=seq, **p))
    sess.flush()
    return len(checked)


def import_items(sess: so.Session, school_id: int, text: str) -> int:
    """The Q-matrix from CSV: ``item_id,subject,knowledge_points`` (codes separated by ``;``)."""
    known = {p.code for p in points(sess)}
    rows, errors, out = _rows(text), {}, []
    for i, r in enumerate(rows, start=1):
        codes = [c.strip() for c in re.split(r"[;；]", r.get("knowledge_points", "")) if c.strip()]
        if not CODE.match(r.get("item_id", "")):
            errors[f"rows.{i}.item_id"] = ["learning.point.bad_code"]
        if r.get("subject") not in SUBJECTS:
            errors[f"rows.{i}.subject"] = ["learning.point.bad_subject"]
        if not codes or any(c not in known for c in codes):
            errors[f"rows.{i}.knowledge_points"] = ["learning.item.unknown_point"]
        out.append((r.get("item_id"), r.get("subject"), codes))
    if not rows:
        errors["file"] = ["learning.csv.empty"]
    if errors:
        raise ValidationFailed(errors)
    have = {i.item_id: i for i in sess.scalars(sa.select(Item))}
    for item_id, subject, codes in out:
        if item_id in have:
            have[item_id].points, have[item_id].subject = codes, subject
        else:
            sess.add(Item(school_id=school_id, item_id=item_id, subject=subject, points=codes))
    sess.flush()
    return len(out)


def check_resource(row: dict[str, Any], known: set[str]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    title, url = str(row.get("title") or "").strip(), str(row.get("url") or "").strip()
    codes = row.get("points")
    codes = [c.strip() for c in (re.split(r"[;；]", codes) if isinstance(codes, str) else codes or [])
             if isinstance(c, str) and c.strip()]
    if not title or len(title) > 200:
        errors["title"] = ["field.required" if not title else "field.length:200"]
    if not re.match(r"^https?://[^\s]{3,490}$", url):
        errors["url"] = ["learning.resource.bad_url"]
    if row.get("kind") not in KINDS:
        errors["kind"] = ["learning.resource.bad_kind"]
    if row.get("subject") not in SUBJECTS:
        errors["subject"] = ["learning.point.bad_subject"]
    if not codes or any(c not in known for c in codes):
        errors["points"] = ["learning.item.unknown_point"]
    minutes = str(row.get("minutes") or "").strip()
    if minutes and not (minutes.isdigit() and 1 <= int(minutes) <= 600):
        errors["minutes"] = ["learning.resource.bad_minutes"]
    grade = str(row.get("grade") or "").strip()
    if grade and not (grade.isdigit() and 1 <= int(grade) <= 12):
        errors["grade"] = ["learning.point.bad_grade"]
    if errors:
        raise ValidationFailed(errors)
    return {"title": title, "url": url, "kind": row["kind"], "subject": row["subject"], "points": codes,
            "minutes": int(minutes) if minutes else None, "grade": int(grade) if grade else None}


def add_resource(sess: so.Session, school_id: int, row: dict[str, Any], by: str | None, origin: str = "school"):
    r = Resource(school_id=school_id, origin=origin, created_by_name=by, created_at=utcnow(),
                 **check_resource(row, {p.code for p in points(sess)}))
    sess.add(r)
    sess.flush()
    return r


def seed(sess: so.Session, school_id: int) -> None:
    """The district's knowledge map and resource library, into a school that has none yet."""
    if sess.scalar(sa.select(sa.func.count()).select_from(Point)):
        return
    district = json.loads((MAPS / "district.json").read_text("utf-8"))
    add_points(sess, school_id, district["points"], origin="district")
    for row in district["resources"]:
        add_resource(sess, school_id, row, "区教研室", origin="district")


def resource_view(r: Resource) -> dict[str, Any]:
    return {"id": r.id, "kind": r.kind, "title": r.title, "url": r.url, "subject": r.subject, "grade": r.grade,
            "minutes": r.minutes, "points": r.points, "origin": r.origin, "by": r.created_by_name}


def point_view(p: Point) -> dict[str, Any]:
    return {"code": p.code, "name": p.name, "name_en": p.name_en, "subject": p.subject, "grade": p.grade,
            "parent_code": p.parent_code, "origin": p.origin}
