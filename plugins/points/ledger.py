"""The append-only ledger. Every credit or deduction is a new row recording the rule, the rulebook version,
who, when and the evidence; a reversal is another new row pointing at the one it cancels. The live score
(``points_scores``) moves in the same transaction, and a dimension's cap for the term is applied here.
The tables are scoped by the platform: every statement sees only the students the session reaches."""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.plugin_api import publish, utcnow
from plugins.points import alerting, standing
from plugins.points import rulebook as rb
from plugins.points.models import entries, scores

CHUNK = 900  # ids per IN (...) list (SQLite's variable limit)
CHANGED = "points.ledger.changed"


def _existing_refs(sess: so.Session, refs: list[str]) -> set[str]:
    found: set[str] = set()
    for i in range(0, len(refs), CHUNK):
        found |= set(sess.scalars(sa.select(entries.c.source_ref).where(entries.c.source_ref.in_(refs[i:i + CHUNK]))))
    return found


def dimension_totals(sess: so.Session, term: date, student_ids) -> dict[tuple[int, str], int]:
    out: dict[tuple[int, str], int] = {}
    ids = sorted(set(student_ids))
    for i in range(0, len(ids), CHUNK):
        rows = sess.execute(sa.select(entries.c.student_id, entries.c.dimension, sa.func.sum(entries.c.points))
                            .where(entries.c.term_start == term, entries.c.student_id.in_(ids[i:i + CHUNK]))
                            .group_by(entries.c.student_id, entries.c.dimension))
        out.update({(s, d): int(n or 0) for s, d, n in rows})
    return out


def add(sess: so.Session, school_id: int, specs: list[dict[str, Any]], book: dict | None = None) -> list[dict]:
    """Append entries for one school under its rulebook in force and move the live scores.

    Each spec: ``student_id, class_id, rule (a rulebook item), raw_points, reason, evidence, source,
    source_ref, recorded_by, recorded_by_name, occurred_at`` (+ ``reverses_id`` and ``exempt`` for a
    reversal, which is not capped). Specs whose ``source_ref`` is already in the ledger, or that happened
    before the term began, are skipped. Returns the rows written, with their ids."""
    book = book or rb.current(sess, school_id)
    if book is None or not specs:
        return []
    body, term = book["body"], rb.term_start(book["body"])
    refs = [s["source_ref"] for s in specs if s.get("source_ref")]
    seen = _existing_refs(sess, refs) if refs else set()
    totals = dimension_totals(sess, term, [s["student_id"] for s in specs])
    now, rows = utcnow(), []
    for spec in specs:
        ref = spec.get("source_ref")
        if (ref and ref in seen) or spec["occurred_at"].date() < term:
            continue
        if ref:
            seen.add(ref)
        rule, raw = spec["rule"], spec["raw_points"]
        key = (spec["student_id"], rule["dimension"])
        have = totals.get(key, 0)
        if spec.get("exempt"):
            applied = raw
        else:
            cap = body.get("caps", {}).get(rule["dimension"], {})
            lo, hi = cap.get("min", -10**6), cap.get("max", 10**6)
            applied = max(lo, min(hi, have + raw)) - have if lo <= have <= hi else (raw if raw * (have - hi) < 0 else 0)
        totals[key] = have + applied
        rows.append({"school_id": school_id, "student_id": spec["student_id"], "class_id": spec.get("class_id"),
                     "term_start": term, "rulebook_version": book["version"], "rule_code": rule["code"],
                     "dimension": rule["dimension"], "raw_points": raw, "points": applied,
                     "reason": (spec.get("reason") or None), "evidence": spec.get("evidence") or None,
                     "source": spec["source"], "source_ref": ref, "recorded_by": spec.get("recorded_by"),
                     "recorded_by_name": spec.get("recorded_by_name"), "occurred_at": spec["occurred_at"],
                     "created_at": now, "reverses_id": spec.get("reverses_id")})
    if not rows:
        return []
    ids = sess.execute(sa.insert(entries).returning(entries.c.id, sort_by_parameter_order=True), rows).scalars().all()
    for row, new_id in zip(rows, ids, strict=True):
        row["id"] = new_id
    _move_scores(sess, school_id, term, body["starting_score"], rows, now)
    alerting.after_entries(sess, school_id, rows)
    # where every score of the school now stands (ranks, bands) is refreshed by the plugin's own subscriber,
    # which the platform runs for the whole school, whoever wrote these entries
    publish(CHANGED, [{"school_id": school_id, "students": sorted({r["student_id"] for r in rows})}])
    return rows


def _move_scores(sess: so.Session, school_id: int, term: date, start: int, rows: list[dict], now: datetime) -> None:
    delta: dict[int, int] = defaultdict(int)
    for row in rows:
        delta[row["student_id"]] += row["points"]
    have: dict[int, date] = {}
    ids = sorted(delta)
    for i in range(0, len(ids), CHUNK):
        have.update(sess.execute(sa.select(scores.c.student_id, scores.c.term_start).where(
            scores.c.student_id.in_(ids[i:i + CHUNK]))).all())
    stale = [s for s, t in have.items() if t != term]
    if stale:  # a score row left from an earlier term: rebuild those students from the ledger
        sess.execute(sa.delete(scores).where(scores.c.student_id.in_(stale)))
        standing.rebuild(sess, school_id, term, start, stale)
        for s in stale:
            delta.pop(s, None)
    update = [{"sid": s, "d": d} for s, d in delta.items() if s in have and s not in stale and d]
    if update:
        sess.execute(sa.update(scores).where(scores.c.student_id == sa.bindparam("sid"))
                     .values(score=scores.c.score + sa.bindparam("d"), updated_at=now), update)
    fresh = [s for s in delta if s not in have]
    if fresh:
        standing.rebuild(sess, school_id, term, start, fresh)


def get(sess: so.Session, entry_id: int) -> dict | None:
    """The entry, if it is about a student the session reaches."""
    row = sess.execute(sa.select(entries).where(entries.c.id == entry_id)).first() if 0 < entry_id < 2**31 else None
    return dict(row._mapping) if row else None


def reversal_of(sess: so.Session, entry_id: int) -> int | None:
    return sess.scalar(sa.select(entries.c.id).where(entries.c.reverses_id == entry_id))


def reverse(sess: so.Session, entry: dict, *, reason: str, account_id: int | None, name: str | None) -> dict | None:
    """A new entry cancelling ``entry`` (the points that counted, uncapped); None if it is already reversed."""
    if entry["reverses_id"] is not None or reversal_of(sess, entry["id"]) is not None:
        return None
    rule = {"code": entry["rule_code"], "dimension": entry["dimension"]}
    rows = add(sess, entry["school_id"], [{
        "student_id": entry["student_id"], "class_id": entry["class_id"], "rule": rule, "raw_points": -entry["points"],
        "exempt": True, "reason": reason, "source": "reversal", "source_ref": f"reverse:{entry['id']}",
        "recorded_by": account_id, "recorded_by_name": name, "occurred_at": utcnow(), "reverses_id": entry["id"]}])
    return rows[0] if rows else None
