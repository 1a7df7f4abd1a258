"""Ingesting records into a business library: validate against the standard, resolve the envelope,
idempotent on (source, source_id), non-authoritative changes become conflicts, the change feed and
domain events follow. One call handles a batch; ``atomic`` makes it all or nothing."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation import events
from foundation.db import utcnow
from foundation.ingest.validate import Compiled, Invalid, parse_datetime
from foundation.models import Change, OrgUnit, Record, Staff, Student
from foundation.services.authority import authorities, split_update
from foundation.tenancy import unscoped

# the service checks which schools the caller may write before it looks anything up; keys and a source's
# record ids are then resolved with plain SQL (unnest joins, COPY on PostgreSQL)
INGEST = unscoped("ingest resolves keys and a source's record ids in the schools it has checked the caller may write")
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
                        execution_options=INGEST)
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
    if sess.get_bind().dialect.name == "postgresql":
        # join on unnest(arrays): an index lookup per key, whatever the batch size
        pairs = sorted(keys)
        table, key_col = model.__table__.name, col.key
        extra = " AND t.kind = 'class'" if model is OrgUnit else ""
        rows = sess.execute(sa.text(
            f"SELECT t.school_id, t.{key_col}, t.id FROM {table} t JOIN unnest(CAST(:sch AS int[]), "
            f"CAST(:keys AS text[])) AS k(sch, key) ON t.school_id = k.sch AND t.{key_col} = k.key{extra}"),
            {"sch": [p[0] for p in pairs], "keys": [p[1] for p in pairs]}, execution_options=INGEST)
        return {(s, k): i for s, k, i in rows}
    stmt = sa.select(model.school_id, col, model.id).where(model.school_id.in_(schools),
                                                          col.in_({k for _, k in keys}))
    if model is OrgUnit:
        stmt = stmt.where(OrgUnit.kind == "class")
    return {(s, k): i for s, k, i in sess.execute(stmt, execution_options=INGEST)}


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
    postgres = sess.get_bind().dialect.name == "postgresql"
    if postgres and lib.library["kind"] == "business":
        # one writer at a time per (library, source): what makes a record a re-send is (library, source,
        # source_id), which the partitioned table's unique key cannot hold alone (it needs occurred_at)
        sess.execute(sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"),
                     {"k": f"records:{lib.id}:{source}"}, execution_options=INGEST)
        from foundation.ingest import bulk

        if bulk.plan(lib).usable:
            _bulk(sess, lib, raw_records, source, ctx, atomic, chunk, progress, codes, authority, report)
            report.rejected.sort(key=lambda r: r["index"])
            return report
    held: list[dict] = []  # atomic: everything is checked before anything is written
    # On PostgreSQL, validating the next batch (Python) overlaps with storing this one (the server):
    # the session is used only by the one worker thread, batches are stored in order.
    pool = ThreadPoolExecutor(1, thread_name_prefix="ingest") if postgres else None
    pending = None

    lookups: dict[str, dict] = {}  # big loads: every subject of the writer's schools, read once

    def store(prepared: list[dict], size: int) -> None:
        good = _resolve(sess, lib, prepared, report, lookups, ctx.school_ids)
        if atomic:
            held.extend(good)
        else:
            _store(sess, lib, good, source, authority, report)
        if progress:
            progress(size)

    def flush_batch(batch: list[tuple[int, Any]]) -> None:
        nonlocal pending
        prepared = _prepare_batch(lib, batch, ctx, codes, report)
        if pool is None:
            store(prepared, len(batch))
            return
        if pending is not None:
            pending.result()
        pending = pool.submit(_with_app(store, sess), prepared, len(batch))

    try:
        batch: list[tuple[int, Any]] = []
        for index, raw in enumerate(raw_records):
            batch.append((index, raw))
            if len(batch) >= chunk:
                flush_batch(batch)
                batch = []
        if batch:
            flush_batch(batch)
        if pending is not None:
            pending.result()
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
    if atomic:
        if report.rejected:
            report.atomic_failed = True
        else:
            _store(sess, lib, held, source, authority, report)
    report.rejected.sort(key=lambda r: r["index"])
    return report


def _bulk(sess, lib: Compiled, raw_records, source: str, ctx: Context, atomic: bool, chunk: int, progress,
          codes: dict[str, int], authority, report: Report) -> None:
    """PostgreSQL: COPY, then set-wise SQL (foundation/ingest/bulk.py); what SQL is not certain of comes
    back here, to the Python path below."""
    from foundation.ingest import bulk

    lookups: dict[str, dict] = {}

    def python_path(pairs: list[tuple[int, Any]], write: bool) -> bool:
        before = len(report.rejected)
        for start in range(0, len(pairs), chunk):
            prepared = _prepare_batch(lib, pairs[start:start + chunk], ctx, codes, report)
            good = _resolve(sess, lib, prepared, report, lookups, ctx.school_ids)
            if write:
                _store(sess, lib, good, source, authority, report)
        return len(report.rejected) == before

    bulk.load(sess, lib, raw_records, source=source, codes=codes, default_school=ctx.default_school_id,
              atomic=atomic, chunk=chunk, progress=progress, report=report, python_path=python_path)


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
    elif occurred:  # already validated and normalised to naive UTC "…Z" by the element's checker
        occurred_at = datetime.fromisoformat(occurred[:-1])
    return {"index": index, "source_id": str(source_id).strip() if "source_id" not in errors else None,
            "school_id": school_id, "subject_kind": subject_kind, "subject_key": subject_key,
            "occurred_at": occurred_at, "data": data}, errors


def _with_app(fn, sess: so.Session):
    """Run ``fn`` in the worker inside the caller's app context, with the caller's session as the
    context's session: subscribers that write do so in the same transaction as the records."""
    from flask import current_app, g, has_app_context

    if not has_app_context():
        return fn
    app = current_app._get_current_object()

    def run(*args):
        with app.app_context():
            g.db_session = sess
            try:
                return fn(*args)
            finally:
                g.pop("db_session", None)  # the caller owns it: the worker's teardown must not close it

    return run


def _prepare_batch(lib: Compiled, batch, ctx, codes, report: Report) -> list[dict]:
    """Validation and envelope checks that need no database."""
    prepared = []
    for index, raw in batch:
        item, errors = _prepare(lib, index, raw, ctx, codes)
        if errors:
            report.rejected.append({"index": index, "source_id": raw.get("source_id") if isinstance(raw, dict) else None,
                                    "fields": errors})
        else:
            prepared.append(item)
    return prepared


PRELOAD_AT = 2000  # from this many references in one batch, reading the whole schools' lists is cheaper


def _lookup(sess, kind: str, keys: set[tuple[int, str]], cache: dict, schools: set[int]) -> dict:
    if len(keys) < PRELOAD_AT and kind not in cache:
        return _subjects(sess, kind, keys)
    if kind not in cache:
        model, col = {"student": (Student, Student.student_no), "staff": (Staff, Staff.staff_no),
                      "class": (OrgUnit, OrgUnit.code)}[kind]
        stmt = sa.select(model.school_id, col, model.id).where(model.school_id.in_(schools))
        if model is OrgUnit:
            stmt = stmt.where(OrgUnit.kind == "class")
        cache[kind] = {(s, k): i for s, k, i in sess.execute(stmt, execution_options=INGEST)}
    return cache[kind]


def _resolve(sess, lib: Compiled, prepared: list[dict], report: Report, cache: dict, schools: set[int]) -> list[dict]:
    """Subjects and references, resolved within each record's school, one query per kind."""
    ref_kinds = {p["subject_kind"] for p in prepared if p["subject_key"]} | set(lib.refs.values())
    resolved = {kind: _lookup(sess, kind, {(p["school_id"], p["subject_key"]) for p in prepared
                                            if p["subject_kind"] == kind and p["subject_key"]}
                              | {(p["school_id"], p["data"][name]) for p in prepared
                                 for name, k in lib.refs.items() if k == kind and name in p["data"]},
                              cache, schools)
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
    existing = {sid: (rid, data, school) for rid, sid, data, school in _existing(sess, lib.id, source, list(by_sid))}
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
                         execution_options=INGEST)
            report.updated += 1
            changes.append({"library": lib.id, "entity_id": rid, "op": "update", "school_id": school, "at": now})
            continue
        new_rows.append({"library": lib.id, "library_version": lib.version, "source": source, "source_id": sid,
                         "school_id": p["school_id"], "subject_kind": p["subject_kind"], "subject_id": p["subject_id"],
                         "occurred_at": p["occurred_at"], "data": p["data"], "created_at": now})
    if new_rows:
        ids, fed = _insert(sess, lib.id, new_rows)
        report.created += len(ids)
        report.ids.extend(ids.values())
        for row in new_rows:
            rid = ids.get(row["source_id"])
            if rid is None:
                continue  # inserted concurrently by another writer: theirs stands
            if not fed:
                changes.append({"library": lib.id, "entity_id": rid, "op": "create", "school_id": row["school_id"],
                                "at": now})
            for name in _events_for(lib.library, row["data"]):
                fired.setdefault(name, []).append({"id": rid, "library": lib.id, "school_id": row["school_id"],
                                                   "subject_id": row["subject_id"], "occurred_at": row["occurred_at"],
                                                   "data": row["data"]})
    if changes:
        sess.execute(sa.insert(Change), changes, execution_options=INGEST)
    for name, payloads in fired.items():
        events.publish(name, payloads)


def _existing(sess: so.Session, library: str, source: str, source_ids: list[str]):
    """(id, source_id, data, school_id) of the records these source ids already have."""
    if sess.get_bind().dialect.name == "postgresql":
        return sess.execute(sa.text(
            "SELECT r.id, r.source_id, r.data, r.school_id FROM records r JOIN unnest(CAST(:sids AS text[])) AS k(sid)"
            " ON r.library = :lib AND r.source = :src AND r.source_id = k.sid"),
            {"sids": source_ids, "lib": library, "src": source}, execution_options=INGEST).all()
    return sess.execute(sa.select(Record.id, Record.source_id, Record.data, Record.school_id).where(
        Record.library == library, Record.source == source, Record.source_id.in_(source_ids)),
        execution_options=INGEST).all()


def _insert(sess: so.Session, library: str, rows: list[dict]) -> tuple[dict[str, int], bool]:
    """Insert, skipping rows another writer inserted meanwhile; returns (source_id → new id, whether the
    change feed rows were written too)."""
    if sess.get_bind().dialect.name == "postgresql":
        return _insert_copy(sess, library, rows), True
    from sqlalchemy.dialects.sqlite import insert

    stmt = insert(Record).on_conflict_do_nothing(index_elements=["library", "source", "source_id"]) \
        .returning(Record.source_id, Record.id)
    out: dict[str, int] = {}
    for start in range(0, len(rows), 2000):
        out.update({sid: rid for sid, rid in sess.execute(stmt, rows[start:start + 2000], execution_options=INGEST)})
    return out, False


_STAGE = """CREATE TEMP TABLE IF NOT EXISTS ingest_stage (library text, library_version text, source text,
    source_id text, school_id int, subject_kind text, subject_id int, occurred_at timestamp, data text,
    created_at timestamp) ON COMMIT DELETE ROWS"""
_MOVE = """WITH ins AS (
    INSERT INTO records (library, library_version, source, source_id, school_id, subject_kind, subject_id,
                         occurred_at, data, created_at)
    SELECT library, library_version, source, source_id, school_id, subject_kind, subject_id, occurred_at,
           data::json, created_at FROM ingest_stage
    ON CONFLICT DO NOTHING
    RETURNING id, source_id, school_id, created_at),
  fed AS (INSERT INTO changes (library, entity_id, op, school_id, at)
          SELECT %s, id, 'create', school_id, created_at FROM ins ORDER BY id)
SELECT source_id, id FROM ins"""


def _insert_copy(sess: so.Session, library: str, rows: list[dict]) -> dict[str, int]:
    """PostgreSQL. The rows are known to be new (looked up just before): take their ids from the
    sequence and COPY them straight into ``records`` and ``changes``, inside a savepoint. If another
    writer inserted one of them meanwhile, the savepoint rolls back and the staging path below, which
    skips conflicts row by row, takes the batch."""
    import json

    import psycopg

    raw = sess.connection().connection.driver_connection
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    with raw.cursor() as cur:
        cur.execute("SELECT nextval(pg_get_serial_sequence('records', 'id')) FROM generate_series(1, %s)",
                    (len(rows),))
        ids = [i for (i,) in cur.fetchall()]
        try:
            with raw.transaction():
                with cur.copy("COPY records (id, library, library_version, source, source_id, school_id, "
                              "subject_kind, subject_id, occurred_at, data, created_at) FROM STDIN") as copy:
                    for rid, r in zip(ids, rows, strict=True):
                        copy.write_row((rid, r["library"], r["library_version"], r["source"], r["source_id"],
                                        r["school_id"], r["subject_kind"], r["subject_id"], r["occurred_at"],
                                        dumps(r["data"]), r["created_at"]))
                with cur.copy("COPY changes (library, entity_id, op, school_id, at) FROM STDIN") as copy:
                    for rid, r in zip(ids, rows, strict=True):
                        copy.write_row((library, rid, "create", r["school_id"], r["created_at"]))
            return {r["source_id"]: rid for rid, r in zip(ids, rows, strict=True)}
        except psycopg.errors.UniqueViolation:
            pass
    return _insert_staged(sess, library, rows)


def _insert_staged(sess: so.Session, library: str, rows: list[dict]) -> dict[str, int]:
    """COPY into a session-local staging table; one statement moves it into ``records``, skipping rows
    that exist, and writes the change feed."""
    import json

    raw = sess.connection().connection.driver_connection
    with raw.cursor() as cur:
        cur.execute(_STAGE)
        cur.execute("TRUNCATE ingest_stage")
        with cur.copy("COPY ingest_stage FROM STDIN") as copy:
            dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
            for r in rows:
                copy.write_row((r["library"], r["library_version"], r["source"], r["source_id"], r["school_id"],
                                r["subject_kind"], r["subject_id"], r["occurred_at"], dumps(r["data"]),
                                r["created_at"]))
        cur.execute(_MOVE, (library,))
        return dict(cur.fetchall())
