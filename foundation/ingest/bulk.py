"""The PostgreSQL bulk path of the ingest service, close to COPY:

1. every record goes as JSON, in one ``COPY``, into a session-local staging table (the server parses while
   Python writes: two cores busy);
2. one ``INSERT … SELECT`` checks them all against the library (foundation/ingest/sqlcheck.py), resolves the
   school and the subject with hash joins, and builds the clean ``data``;
3. one statement finds the ones the source already sent (unchanged ones are counted; changed ones go to the
   authority rules), inserts the new ones into the partitioned ``records``, writes their change feed rows, and
   gives back the new ids, per domain event;
4. records SQL was not certain of (a bad value, surrounding whitespace, a pattern, a list…), a source id sent
   twice in one batch, and changes to existing records are handled by the Python path of
   foundation/ingest/service.py, which gives the errors (index, field, reason) exactly as before.

Events are published once per event and load, with payloads read from ``records`` when a subscriber looks at
them (``len()`` costs nothing). With ``atomic`` nothing is written unless every record is good.
"""
from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import timedelta
from typing import Any

import psycopg
import sqlalchemy.orm as so

from foundation.db import utcnow
from foundation.ingest import sqlcheck
from foundation.ingest.validate import Compiled

log = logging.getLogger("jizuo.ingest")
ENVELOPE = ("source_id", "school", "student", "staff", "class", "occurred_at")
SUBJECT_TABLES = {"student": ("students", "student_no", ""), "staff": ("staff", "staff_no", ""),
                  "class": ("org_units", "code", " AND sj.kind = 'class'")}
STAGE = ("CREATE TEMP TABLE IF NOT EXISTS ingest_raw (idx int, doc jsonb) ON COMMIT DELETE ROWS",
         "CREATE INDEX IF NOT EXISTS ingest_raw_idx ON ingest_raw (idx)",
         "TRUNCATE ingest_raw")
SLICE = 100_000  # records per statement: a big load in slices, so nothing spills past work_mem
RESTORE = "SELECT set_config('work_mem', %s, true), set_config('enable_memoize', 'on', true)"
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode


class Plan:
    """A library's check as one SQL statement (placeholders: the school codes, the default school, the
    latest acceptable time)."""

    def __init__(self, lib: Compiled, dictionaries: dict) -> None:
        elements = lib.library["elements"]
        self.names = [n for n, _, _ in lib.checks]
        self.allowed = frozenset(self.names) | set(ENVELOPE)
        self.subject = lib.library.get("subject") if lib.library.get("subject") in SUBJECT_TABLES else None
        self.events = lib.library.get("events", [])
        els = [sqlcheck.element_sql(i, n, elements[n], dictionaries) for i, n in enumerate(self.names)]
        # a required element SQL cannot check would send every record to Python: not worth a plan
        self.usable = not any(e.ok is None and e.required for e in els) and lib.library["kind"] == "business"
        # v: the texts and types; w: the times; k: each element's verdict
        v = [f"r.doc->>{sqlcheck.lit(n)} AS t{i}, jsonb_typeof(r.doc->{sqlcheck.lit(n)}) AS y{i}"
             for i, n in enumerate(self.names)]
        v += ["r.doc->>'source_id' AS sid, jsonb_typeof(r.doc->'source_id') AS y_sid",
              "r.doc->>'school' AS school, jsonb_typeof(r.doc->'school') AS y_school"]
        w = [f"{e.ts} AS ts{i}" for i, e in enumerate(els) if e.ts is not None]
        k, values = [], []
        for i, e in enumerate(els):
            absent = f"coalesce(v.t{i}, '') = ''"
            if e.ok is None:
                k.append(f"({absent}) AS ok{i}")  # present: Python decides
            else:
                k.append(f"CASE WHEN {absent} THEN {'false' if e.required else 'true'} ELSE coalesce({e.ok}, false) END"
                         f" AS ok{i}")
                values.append(f"CASE WHEN NOT ({absent}) AND v.ok{i} THEN {sqlcheck.lit(json.dumps(e.name) + ':')} "
                              f"|| ({e.value})::text END")
        occ = next((i for i, e in enumerate(els) if e.name == "occurred_at" and e.ts is not None), None)
        if occ is not None:
            occurred = f"v.ts{occ}"  # NULL when absent
        else:  # the envelope's time (no future check)
            ts, ok, _ = sqlcheck.datetime_sql("v.t_occ", "v.ts_occ", False)
            v.append("r.doc->>'occurred_at' AS t_occ, jsonb_typeof(r.doc->'occurred_at') AS y_occ")
            w.append(f"{ts} AS ts_occ")
            k.append(f"(coalesce(v.t_occ, '') = '' OR (v.y_occ = 'string' AND coalesce({ok}, false))) AS ok_occ")
            occurred = "v.ts_occ"
        k.append(f"coalesce((v.y_sid = 'string' AND length(v.sid) BETWEEN 1 AND 128 AND {sqlcheck.no_edge_space('v.sid')}) "
                 f"OR (v.y_sid = 'number' AND v.sid ~ '^[0-9]{{1,18}}$'), false) AS ok_sid")
        k.append("coalesce(v.school, '') = '' AS no_school")
        school = "CASE WHEN c.no_school THEN %(default)s::int ELSE sc.id END"
        oks = [f"c.ok{i}" for i in range(len(els))] + ["c.ok_sid", f"({school}) IS NOT NULL"]
        if occ is None:
            oks.append("c.ok_occ")
        join, subject_id = "", "NULL::int"
        if self.subject:
            table, col, extra = SUBJECT_TABLES[self.subject]
            subj = sqlcheck.lit(self.subject)
            v.append(f"CASE WHEN jsonb_typeof(r.doc->{subj}) = 'string' THEN r.doc->>{subj} END AS subj")
            join = f" LEFT JOIN {table} sj ON sj.school_id = ({school}) AND sj.{col} = c.subj{extra}"
            subject_id = "sj.id"
            oks.append("sj.id IS NOT NULL")
        # the clean data as JSON text, absent elements left out: cheaper than json_build_object + strip
        data = f"('{{' || concat_ws(',', {', '.join(values)}) || '}}')::json" if values else "'{}'::json"
        # each step a derived table of its own (OFFSET 0): computed once per record, no per-row joins
        oks_el = " AND ".join(f"v.ok{i}" for i in range(len(els))) or "true"
        inner = (f"SELECT v.*, CASE WHEN {oks_el} THEN {data} END AS data, {occurred} AS occ FROM ("
                 f"SELECT v.*, {', '.join(k)} FROM ("
                 f"SELECT v.*, {', '.join(w) or 'NULL AS nothing'} FROM ("
                 f"SELECT r.idx, {', '.join(v)} FROM ingest_raw r WHERE r.idx >= %(lo)s AND r.idx < %(hi)s "
                 "OFFSET 0) v OFFSET 0) v OFFSET 0) v")
        self.check_sql = (
            "SELECT idx, ok, CASE WHEN ok THEN sid END AS sid, CASE WHEN ok THEN sch END AS sch, subj_id, "
            "CASE WHEN ok THEN occ END AS occ, CASE WHEN ok THEN data END AS data FROM ("
            f"SELECT c.idx, {' AND '.join(oks)} AS ok, c.sid, {school} AS sch, {subject_id} AS subj_id, c.occ, c.data "
            f"FROM ({inner}) c LEFT JOIN unnest(%(codes)s::text[], %(ids)s::int[]) sc(code, id) "
            f"ON sc.code = c.school AND c.y_school = 'string'{join}) q")

    def check(self, codes: dict[str, int], default: int | None, not_after) -> tuple[str, dict]:
        sql = self.check_sql.replace(sqlcheck.NOT_AFTER, f"'{not_after.isoformat(sep=' ')}'::timestamp")
        return sql, {"codes": list(codes), "ids": list(codes.values()), "default": default}


_plans: dict[tuple[str, str], Plan] = {}


def plan(lib: Compiled) -> Plan:
    """The library's plan, made once per library version."""
    key = (lib.id, lib.version)
    if key not in _plans:
        from foundation.standards import catalog

        _plans[key] = Plan(lib, catalog().dictionaries)
    return _plans[key]


class Payloads(Sequence):
    """A domain event's payloads for records just inserted, read from ``records`` on first use (in the
    loading transaction): ``{"id", "library", "school_id", "subject_id", "occurred_at", "data"}``."""

    def __init__(self, sess: so.Session, library: str, ids: list[int]) -> None:
        self._sess, self._library, self._ids, self._rows = sess, library, ids, None

    def __len__(self) -> int:
        return len(self._ids)

    def _load(self) -> list[dict]:
        if self._rows is None:
            raw = self._sess.connection().connection.driver_connection
            rows: list[dict] = []
            with raw.cursor() as cur:
                for start in range(0, len(self._ids), 20_000):
                    cur.execute("SELECT id, school_id, subject_id, occurred_at, data FROM records "
                                "WHERE library = %s AND id = ANY(%s) ORDER BY id",
                                (self._library, self._ids[start:start + 20_000]))
                    rows += [{"id": i, "library": self._library, "school_id": s, "subject_id": sj,
                              "occurred_at": at, "data": d} for i, s, sj, at, d in cur]
            self._rows = rows
        return self._rows

    def __getitem__(self, i):
        return self._load()[i]

    def __iter__(self) -> Iterator[dict]:
        return iter(self._load())


def _event_filter(ev: dict) -> str:
    cond = ev.get("when")
    if cond is None:
        return "true"
    return f"ins.data::jsonb->{sqlcheck.lit(cond['element'])} = {sqlcheck.lit(json.dumps(cond.get('equals')))}::jsonb"


def _stage(cur, records: Iterable[Any], p: Plan, kept: list, slow: list[int], twice: set[int], chunk: int,
           progress: Callable[[int], None] | None) -> None:
    """COPY every record Python can hand to SQL into ``ingest_raw``; the others' indexes go to ``slow``,
    the indexes of records whose source id comes more than once to ``twice``."""
    allowed = p.allowed
    first: dict[str, int] = {}
    with cur.copy("COPY ingest_raw (idx, doc) FROM STDIN") as copy:
        lines: list[str] = []
        seen = 0
        for idx, raw in enumerate(records):
            kept.append(raw)
            if type(raw) is dict:
                key = str(raw.get("source_id")).strip()
                was = first.setdefault(key, idx)
                if was != idx:
                    twice.update((was, idx))
            if type(raw) is dict and raw.keys() <= allowed:
                try:
                    s = _dumps(raw)
                except (TypeError, ValueError):  # not JSON (a date object, NaN…): Python decides
                    slow.append(idx)
                    continue
                if "\\u0000" in s:  # jsonb has no NUL
                    slow.append(idx)
                    continue
                lines.append(f"{idx}\t{s.replace(chr(92), chr(92) * 2)}")
            else:
                slow.append(idx)
            if idx + 1 - seen >= chunk:
                _write(copy, lines, slow)
                if progress:
                    progress(idx + 1 - seen)
                lines, seen = [], idx + 1
        _write(copy, lines, slow)
        if progress and len(kept) > seen:
            progress(len(kept) - seen)


def _write(copy, lines: list[str], slow: list[int]) -> None:
    if not lines:
        return
    try:
        copy.write(("\n".join(lines) + "\n").encode())
    except UnicodeEncodeError:  # a lone surrogate somewhere: send the others, leave it to Python
        good = []
        for line in lines:
            try:
                good.append(line.encode() + b"\n")
            except UnicodeEncodeError:
                slow.append(int(line.split("\t", 1)[0]))
        copy.write(b"".join(good))


MOVE = """WITH c AS MATERIALIZED ({check}),
  ex AS (
    SELECT c.idx, r.data::text = c.data::text OR r.data::jsonb = c.data::jsonb AS same FROM c
    JOIN records r ON r.library = %(lib)s AND r.source = %(src)s AND r.source_id = c.sid WHERE c.ok),
  ins AS (
    INSERT INTO records (library, library_version, source, source_id, school_id, subject_kind, subject_id,
                         occurred_at, data, created_at)
    SELECT %(lib)s, %(ver)s, %(src)s, c.sid, c.sch, %(kind)s, c.subj_id, c.occ, c.data, %(now)s FROM c
    WHERE c.ok AND NOT EXISTS (SELECT 1 FROM records r WHERE r.library = %(lib)s AND r.source = %(src)s
                                 AND r.source_id = c.sid)
    RETURNING id, school_id, created_at{data}),
  fed AS (INSERT INTO changes (library, entity_id, op, school_id, at)
          SELECT %(lib)s, id, 'create', school_id, created_at FROM ins)
SELECT (SELECT count(*) FROM ex WHERE same), (SELECT coalesce(array_agg(idx), '{}') FROM ex WHERE NOT same),
       (SELECT coalesce(array_agg(idx), '{}') FROM c WHERE NOT c.ok),
       (SELECT coalesce(array_agg(id ORDER BY id), '{}') FROM ins){events}"""


def load(sess: so.Session, lib: Compiled, records: Iterable[Any], *, source: str, codes: dict[str, int],
         default_school: int | None, atomic: bool, chunk: int, progress, report, python_path) -> None:
    """Load ``records`` set-wise. ``python_path(pairs, write)`` validates (index, raw) pairs in Python,
    reporting errors, and — when ``write`` — stores the good ones; it returns whether all were good."""
    p = plan(lib)
    raw = sess.connection().connection.driver_connection
    kept: list[Any] = []
    slow: list[int] = []
    not_after = utcnow() + timedelta(minutes=5)
    clock = [time.perf_counter()]

    def step(name: str) -> None:  # where a load's time goes (benchmarks/bench_ingest.py prints it)
        now = time.perf_counter()
        log.debug("ingest %s: %s %.2fs", lib.id, name, now - clock[0])
        clock[0] = now

    with raw.cursor() as cur:
        saved = cur.execute("SELECT current_setting('work_mem')").fetchone()[0]
        cur.execute("SELECT set_config('work_mem', '64MB', true), set_config('enable_memoize', 'off', true)")
        if not cur.execute("SELECT to_regclass('pg_temp.ingest_raw') IS NOT NULL").fetchone()[0]:
            try:  # room for the staging table in memory; possible only before the session's first temp table
                with raw.transaction():
                    cur.execute("SET temp_buffers = '256MB'")
            except psycopg.Error:
                pass
        for stmt in STAGE:
            cur.execute(stmt)
        twice: set[int] = set()
        _stage(cur, records, p, kept, slow, twice, chunk, progress)
        if twice:  # a source id sent twice in one batch: the Python path keeps the last, as before
            cur.execute("DELETE FROM ingest_raw WHERE idx = ANY(%s)", (sorted(twice),))
            slow = sorted(set(slow) | twice)
        cur.execute("ANALYZE ingest_raw")
        step("copy into staging")
        check, params = p.check(codes, default_school, not_after)
        events = "".join(f", (SELECT coalesce(array_agg(id ORDER BY id), '{{}}') FROM ins WHERE {_event_filter(ev)})"
                         for ev in p.events)
        sql = MOVE.replace("{check}", check).replace("{events}", events).replace(
            "{data}", ", data" if any(ev.get("when") for ev in p.events) else "")
        params |= {"lib": lib.id, "ver": lib.version, "src": source, "kind": p.subject or lib.library.get("subject"),
                   "now": utcnow()}
        same, changed, unsure, ids, fired = 0, [], [], [], [[] for _ in p.events]
        with raw.transaction():  # a savepoint: an atomic load that fails below leaves nothing behind
            for lo in range(0, max(len(kept), 1), SLICE):
                cur.execute(sql, params | {"lo": lo, "hi": lo + SLICE})
                s_same, s_changed, s_unsure, s_ids, *s_fired = cur.fetchone()
                same, changed, unsure, ids = same + s_same, changed + s_changed, unsure + s_unsure, ids + s_ids
                fired = [a + b for a, b in zip(fired, s_fired, strict=True)]
            step("check, store, feed")
            pairs = [(i, kept[i]) for i in sorted(set(slow) | set(unsure))]
            if atomic and pairs and not python_path(pairs, False):
                report.atomic_failed = True
                raise psycopg.Rollback  # back to the savepoint; psycopg swallows it
        cur.execute(RESTORE, (saved,))
    if report.atomic_failed:
        return
    report.unchanged += same
    report.created += len(ids)
    report.ids.extend(ids)
    if changed:  # the authority rules decide, record by record
        pairs = sorted(pairs + [(i, kept[i]) for i in changed])
    if pairs:
        python_path(pairs, True)
        step(f"python path ({len(pairs)})")
    from foundation import events as bus

    for ev, got in zip(p.events, fired, strict=True):
        if got:
            bus.publish(ev["event"], Payloads(sess, lib.id, got))
