"""Ingesting records into a business library: validate against the standard, resolve the envelope,
idempotent on (source, source_id), non-authoritative changes become conflicts, the change feed and
domain events follow. One call handles a batch; ``atomic`` makes it all or nothing."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation import events
from foundation.db import utcnow
from foundation.ingest.validate import Compiled, Invalid, parse_datetime
from foundation.models import Change, OrgUnit, Record, Staff, Student
from foundation.services.authority import authorities, split_update

SYSTEM = {"jizuo_all_schools": True}
ENVELOPE = ("source_id", "school", "student", "staff", "class", "occurred_at")
BASE_INGESTIBLE = {"student"}  # base libraries a source system may push (学籍系统 → students)


@dataclass
class Report:
    library: str
    version: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    conflicts: int = 0
    rejected: list[dict] = field(default_factory=list)
    atomic_failed: bool = False
    ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"library": self.library, "version": self.version, "created": self.created, "updated": self.updated,
                "unchanged": self.unchanged, "conflicts": self.conflicts, "rejected": self.rejected,
                "written": not self.atomic_failed}


class UnknownLibrary(LookupError):
    pass


@lru_cache(maxsize=64)
def compiled(library_id: str) -> Compiled:
    from foundation.standards import catalog

    cat = catalog()
    lib = cat.libraries.get(library_id)
    if lib is None or (lib.get("kind") != "business" and library_id not in BASE_INGESTIBLE):
        raise UnknownLibrary(library_id)
    return Compiled(lib, cat.dictionaries)


@dataclass
class Context:
    """Where the records may land: the schools the writer reaches, and the default school."""

    school_ids: set[int]
    default_school_id: int | None = None


def _school_codes(sess: so.Session, ids: set[int]) -> dict[str, int]:
    rows = sess.execute(sa.select(OrgUnit.code, OrgUnit.id).where(OrgUnit.kind == "school", OrgUnit.id.in_(ids)),
                        execution_options=SYSTEM)
    return {code: i for code, i in rows}


def _subjects(sess: so.Session, kind: str, keys: set[tuple[int, str]]) -> dict[tuple[int, str], int]:
    if not keys:
        return {}
    schools = {s for s, _ in keys}
    if kind == "student":
        col, model = Student.student_no, Student
    elif kind == "staff":
        col, model = Staff.staff_no, Staff
    else:
        col, model = OrgUnit.code, OrgUnit
    stmt = sa.select(model.school_id, col, model.id).where(model.school_id.in_(schools), col.in_({k for _, k in keys}))
    if model is OrgUnit:
        stmt = stmt.where(OrgUnit.kind == "class")
    return {(s, k): i for s, k, i in sess.execute(stmt, execution_options=SYSTEM)}


def _events_for(lib: dict, data: dict) -> list[str]:
    out = []
    for ev in lib.get("events", []):
        cond = ev.get("when")
        if cond is None or data.get(cond["element"]) == cond.get("equals"):
            out.append(ev["event"])
    return out


def ingest(sess: so.Session, library_id: str, raw_records: Iterable[Any], *, source: str, ctx: Context,
           atomic: bool = False, chunk: int = 5000, progress: Callable[[int], None] | None = None) -> Report:
    lib = compiled(library_id)
    report = Report(lib.id, lib.version)
    codes = _school_codes(sess, ctx.school_ids)
    authority = authorities(sess)
    held: list[dict] = []  # atomic: everything is checked before anything is written
    batch: list[tuple[int, Any]] = []

    def flush_batch() -> None:
        good = _check_batch(sess, lib, batch, ctx, codes, report)
        if atomic:
            held.extend(good)
        else:
            _store(sess, lib, good, source, authority, report)
        if progress:
            progress(len(batch))

    for index, raw in enumerate(raw_records):
        batch.append((index, raw))
        if len(batch) >= chunk:
            flush_batch()
            batch = []
    if batch:
        flush_batch()
    if atomic:
        if report.rejected:
            report.atomic_failed = True
        else:
            _store(sess, lib, held, source, authority, report)
    return report


def _prepare(lib: Compiled, index: int, raw: Any, ctx: Context, codes: dict[str, int]):
    if not isinstance(raw, dict):
        return None, {"_record": "ingest.not_object"}
    data, errors = lib.validate(raw)
    for key in raw:
        if key not in lib.names and key not in ENVELOPE:
            errors[key] = "ingest.unknown_element"
    source_id = raw.get("source_id")
    if lib.library["kind"] == "base" and source_id is None:
        source_id = data.get("student_no")
    if not isinstance(source_id, str | int) or isinstance(source_id, bool) or not str(source_id).strip() \
            or len(str(source_id)) > 128:
        errors["source_id"] = "ingest.required"
    school = raw.get("school")
    school_id = codes.get(str(school).strip()) if school not in (None, "") else ctx.default_school_id
    if school_id is None:
        errors["school"] = "ingest.school_unknown"  # the same for another district's school and a typo
    subject_kind = lib.library.get("subject")
    subject_key = None
    if lib.library["kind"] == "base":
        subject_kind = None  # the record is the subject itself, keyed by its own number
    if subject_kind in ("student", "staff", "class"):
        value = raw.get(subject_kind)
        if value in (None, ""):
            errors[subject_kind] = "ingest.required"
        else:
            subject_key = str(value).strip()
    occurred = data.get("occurred_at") if "occurred_at" in lib.names else raw.get("occurred_at")
    occurred_at = None
    if "occurred_at" not in lib.names:
        try:
            occurred_at = parse_datetime(occurred) if occurred not in (None, "") else None
        except Invalid as err:
            errors["occurred_at"] = err.key
    elif occurred:
        occurred_at = parse_datetime(occurred)
    return {"index": index, "source_id": str(source_id).strip() if "source_id" not in errors else None,
            "school_id": school_id, "subject_kind": subject_kind, "subject_key": subject_key,
            "occurred_at": occurred_at, "data": data}, errors


def _check_batch(sess, lib: Compiled, batch, ctx, codes, report: Report) -> list[dict]:
    prepared = []
    for index, raw in batch:
        item, errors = _prepare(lib, index, raw, ctx, codes)
        if errors:
            report.rejected.append({"index": index, "source_id": raw.get("source_id") if isinstance(raw, dict) else None,
                                    "fields": errors})
        else:
            prepared.append(item)
    # resolve subjects and other references within each record's school, in one query per kind
    ref_kinds = {p["subject_kind"] for p in prepared if p["subject_key"]} | set(lib.refs.values())
    resolved = {kind: _subjects(sess, kind, {(p["school_id"], p["subject_key"]) for p in prepared
                                             if p["subject_kind"] == kind and p["subject_key"]}
                                | {(p["school_id"], p["data"][name]) for p in prepared
                                   for name, k in lib.refs.items() if k == kind and name in p["data"]})
                for kind in ref_kinds}
    good = []
    for p in prepared:
        errors = {}
        if p["subject_key"]:
            p["subject_id"] = resolved[p["subject_kind"]].get((p["school_id"], p["subject_key"]))
            if p["subject_id"] is None:
                errors[p["subject_kind"]] = f"ingest.{p['subject_kind']}_unknown"
        else:
            p["subject_id"] = None
        for name, kind in lib.refs.items():
            if name in p["data"] and (p["school_id"], p["data"][name]) not in resolved[kind]:
                errors[name] = f"ingest.{kind}_unknown"
        if errors:
            report.rejected.append({"index": p["index"], "source_id": p["source_id"], "fields": errors})
        else:
            good.append(p)
    return good


def _store(sess: so.Session, lib: Compiled, good: list[dict], source: str, authority, report: Report) -> None:
    if not good:
        return
    if lib.id == "student":
        from foundation.ingest.base import store_students

        store_students(sess, lib, good, source, authority, report)
        return
    by_sid = {p["source_id"]: p for p in good}  # a repeated source_id in one batch: the last one wins
    existing = {sid: (rid, data, school) for rid, sid, data, school in sess.execute(
        sa.select(Record.id, Record.source_id, Record.data, Record.school_id).where(
            Record.library == lib.id, Record.source == source, Record.source_id.in_(list(by_sid))),
        execution_options=SYSTEM)}
    now = utcnow()
    new_rows, changes, fired = [], [], {}
    for sid, p in by_sid.items():
        if sid in existing:
            rid, data, school = existing[sid]
            if data == p["data"]:
                report.unchanged += 1
                continue
            allowed = split_update(sess, library=lib.id, entity="record", entity_id=rid, school_id=school,
                                   current=data, proposed=p["data"], source=source, authority=authority)
            merged = {**data, **allowed}
            if merged == data:
                report.conflicts += 1
                continue
            sess.execute(sa.update(Record).where(Record.id == rid).values(data=merged, updated_at=now,
                                                                        library_version=lib.version),
                         execution_options=SYSTEM)
            report.updated += 1
            changes.append({"library": lib.id, "entity_id": rid, "op": "update", "school_id": school, "at": now})
            continue
        new_rows.append({"library": lib.id, "library_version": lib.version, "source": source, "source_id": sid,
                         "school_id": p["school_id"], "subject_kind": p["subject_kind"], "subject_id": p["subject_id"],
                         "occurred_at": p["occurred_at"], "data": p["data"], "created_at": now})
    if new_rows:
        ids = _insert(sess, new_rows)
        report.created += len(ids)
        report.ids.extend(ids.values())
        for row in new_rows:
            rid = ids.get(row["source_id"])
            if rid is None:
                continue  # inserted concurrently by another writer: theirs stands
            changes.append({"library": lib.id, "entity_id": rid, "op": "create", "school_id": row["school_id"],
                            "at": now})
            for name in _events_for(lib.library, row["data"]):
                fired.setdefault(name, []).append({"id": rid, "library": lib.id, "school_id": row["school_id"],
                                                   "subject_id": row["subject_id"], "occurred_at": row["occurred_at"],
                                                   "data": row["data"]})
    if changes:
        sess.execute(sa.insert(Change), changes, execution_options=SYSTEM)
    for name, payloads in fired.items():
        events.publish(name, payloads)


def _insert(sess: so.Session, rows: list[dict]) -> dict[str, int]:
    """Insert, skipping rows another writer inserted meanwhile; returns source_id → new id."""
    dialect = sess.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(Record).on_conflict_do_nothing(index_elements=["library", "source", "source_id"]) \
        .returning(Record.source_id, Record.id)
    out: dict[str, int] = {}
    for start in range(0, len(rows), 2000):
        out.update({sid: rid for sid, rid in sess.execute(stmt, rows[start:start + 2000], execution_options=SYSTEM)})
    return out
