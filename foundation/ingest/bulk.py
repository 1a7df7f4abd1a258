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
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import timedelta
from functools import lru_cache
from typing import Any

import sqlalchemy.orm as so

from foundation.db import utcnow
from foundation.ingest import sqlcheck
from foundation.ingest.validate import Compiled

ENVELOPE = ("source_id", "school", "student", "staff", "class", "occurred_at")
SUBJECT_TABLES = {"student": ("students", "student_no", ""), "staff": ("staff", "staff_no", ""),
                  "class": ("org_units", "code", " AND sj.kind = 'class'")}
STAGE = ("CREATE TEMP TABLE IF NOT EXISTS ingest_raw (idx int, doc jsonb) ON COMMIT DELETE ROWS",
         "CREATE TEMP TABLE IF NOT EXISTS ingest_ok (idx int, ok boolean, source_id text, school_id int,"
         " subject_id int, occurred_at timestamp, data jsonb) ON COMMIT DELETE ROWS",
         "TRUNCATE ingest_raw, ingest_ok")
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
        texts = [f"r.doc->>{sqlcheck.lit(n)} AS t{i}, jsonb_typeof(r.doc->{sqlcheck.lit(n)}) AS y{i}"
                 for i, n in enumerate(self.names)]
        matches = [f"regexp_match(r.doc->>{sqlcheck.lit(e.name)}, {sqlcheck.lit(sqlcheck.DATETIME)}) AS m{i}"
                   for i, e in enumerate(els) if e.ts is not None]
        oks, values = [], []
        for i, e in enumerate(els):
            t = f"v.t{i}"
            absent = f"coalesce({t}, '') = ''"
            if e.ok is None:
                oks.append(absent)  # present: Python decides
            else:
                oks.append(f"({e.ok})" if e.required else f"({absent} OR {e.ok})")
                values.append(f"{sqlcheck.lit(e.name)}, CASE WHEN {absent} THEN NULL WHEN {e.ok} THEN {e.value} END")
        occ = next((e for e in els if e.name == "occurred_at"), None)
        if occ is not None and occ.ts is not None:
            occurred = occ.ts  # NULL when absent
        else:  # the envelope's time, no future check
            ok, ts, _ = sqlcheck.datetime_sql("v.t_occ", "v.m_occ", False)
            texts.append("r.doc->>'occurred_at' AS t_occ, jsonb_typeof(r.doc->'occurred_at') AS y_occ")
            matches.append(f"regexp_match(r.doc->>'occurred_at', {sqlcheck.lit(sqlcheck.DATETIME)}) AS m_occ")
            if occ is None:
                oks.append(f"(coalesce(v.t_occ, '') = '' OR (v.y_occ = 'string' AND {ok}))")
            occurred = f"CASE WHEN NOT (coalesce(v.t_occ, '') = '') THEN {ts} END"
        ws = sqlcheck.lit(sqlcheck.EDGE_WS)
        sid_ok = (f"((jsonb_typeof(r.doc->'source_id') = 'string' AND length(v.sid) BETWEEN 1 AND 128 "
                  f"AND v.sid !~ {ws}) OR (jsonb_typeof(r.doc->'source_id') = 'number' AND v.sid ~ '^[0-9]{{1,18}}$'))")
        school = "CASE WHEN coalesce(v.school, '') = '' THEN %(default)s::int ELSE sc.id END"
        oks += [sid_ok, f"({school}) IS NOT NULL"]
        texts += ["r.doc->>'source_id' AS sid", "r.doc->>'school' AS school"]
        join_subject, subject_id = "", "NULL::int"
        if self.subject:
            table, col, extra = SUBJECT_TABLES[self.subject]
            texts.append(f"r.doc->>{sqlcheck.lit(self.subject)} AS subj")
            join_subject = (f" LEFT JOIN {table} sj ON sj.school_id = ({school}) AND sj.{col} = v.subj{extra}"
                            f" AND jsonb_typeof(r.doc->{sqlcheck.lit(self.subject)}) = 'string'")
            subject_id = "sj.id"
            oks.append("sj.id IS NOT NULL")
        select = ", ".join(texts)
        ok_all = " AND ".join(oks)
        data = f"jsonb_strip_nulls(jsonb_build_object({', '.join(values)}))" if values else "'{}'::jsonb"
        self.check_sql = (
            "INSERT INTO ingest_ok (idx, ok, source_id, school_id, subject_id, occurred_at, data) "
            f"SELECT idx, ok, CASE WHEN ok THEN sid END, CASE WHEN ok THEN sch END, subj_id, "
            f"CASE WHEN ok THEN occ END, CASE WHEN ok THEN data END FROM ("
            f"SELECT r.idx, coalesce({ok_all}, false) AS ok, v.sid, ({school}) AS sch, {subject_id} AS subj_id, "
            f"{occurred} AS occ, {data} AS data "
            f"FROM ingest_raw r CROSS JOIN LATERAL (SELECT {select}) v0 "  # the texts, then their matches
            f"CROSS JOIN LATERAL (SELECT v0.*{''.join(', ' + m for m in matches)}) v "
            f"LEFT JOIN unnest(%(codes)s::text[], %(ids)s::int[]) sc(code, id) ON sc.code = v.school"
            f"{join_subject}) q")

    def check(self, codes: dict[str, int], default: int | None, not_after) -> tuple[str, dict]:
        sql = self.check_sql.replace(sqlcheck.NOT_AFTER, f"'{not_after.isoformat(sep=' ')}'::timestamp")
        return sql, {"codes": list(codes), "ids": list(codes.values()), "default": default}


@lru_cache(maxsize=64)
def plan(library_id: str) -> Plan:
    from foundation.ingest.service import compiled
    from foundation.standards import catalog

    return Plan(compiled(library_id), catalog().dictionaries)


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


def _stage(cur, records: Iterable[Any], p: Plan, kept: list, slow: list[int], chunk: int,
           progress: Callable[[int], None] | None) -> None:
    """COPY every record Python can hand to SQL into ``ingest_raw``; the others' indexes go to ``slow``."""
    allowed = p.allowed
    with cur.copy("COPY ingest_raw (idx, doc) FROM STDIN") as copy:
        lines: list[str] = []
        seen = 0
        for idx, raw in enumerate(records):
            kept.append(raw)
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


MOVE = """WITH ex AS (
    SELECT o.idx, r.data::jsonb = o.data AS same FROM ingest_ok o
    JOIN records r ON r.library = %(lib)s AND r.source = %(src)s AND r.source_id = o.source_id WHERE o.ok),
  ins AS (
    INSERT INTO records (library, library_version, source, source_id, school_id, subject_kind, subject_id,
                         occurred_at, data, created_at)
    SELECT %(lib)s, %(ver)s, %(src)s, o.source_id, o.school_id, %(kind)s, o.subject_id, o.occurred_at,
           o.data::json, %(now)s FROM ingest_ok o
    WHERE o.ok AND NOT EXISTS (SELECT 1 FROM records r WHERE r.library = %(lib)s AND r.source = %(src)s
                                 AND r.source_id = o.source_id)
    RETURNING id, school_id, created_at, data),
  fed AS (INSERT INTO changes (library, entity_id, op, school_id, at)
          SELECT %(lib)s, id, 'create', school_id, created_at FROM ins)
SELECT (SELECT count(*) FROM ex WHERE same), (SELECT coalesce(array_agg(idx), '{}') FROM ex WHERE NOT same),
       (SELECT coalesce(array_agg(id ORDER BY id), '{}') FROM ins){events}"""


def load(sess: so.Session, lib: Compiled, records: Iterable[Any], *, source: str, codes: dict[str, int],
         default_school: int | None, atomic: bool, chunk: int, progress, report, python_path) -> None:
    """Load ``records`` set-wise. ``python_path(pairs, write)`` validates (index, raw) pairs in Python,
    reporting errors, and — when ``write`` — stores the good ones; it returns whether all were good."""
    p = plan(lib.id)
    raw = sess.connection().connection.driver_connection
    kept: list[Any] = []
    slow: list[int] = []
    not_after = utcnow() + timedelta(minutes=5)
    with raw.cursor() as cur:
        saved = cur.execute("SELECT current_setting('work_mem')").fetchone()[0]
        cur.execute("SELECT set_config('work_mem', '64MB', true)")
        for stmt in STAGE:
            cur.execute(stmt)
        _stage(cur, records, p, kept, slow, chunk, progress)
        cur.execute("ANALYZE ingest_raw")
        sql, params = p.check(codes, default_school, not_after)
        cur.execute(sql, params)
        slow += [i for (i,) in cur.execute("SELECT idx FROM ingest_ok WHERE NOT ok")]
        twice = [i for (i,) in cur.execute(
            "UPDATE ingest_ok SET ok = false WHERE ok AND source_id IN (SELECT source_id FROM ingest_ok WHERE ok "
            "GROUP BY source_id HAVING count(*) > 1) RETURNING idx")]
        slow += twice  # sent twice in one batch: the Python path keeps the last, as before
        cur.execute("ANALYZE ingest_ok")
        slow.sort()
        pairs = [(i, kept[i]) for i in slow]
        if atomic:  # check the rest first: nothing is written unless everything is good
            if not python_path(pairs, False):
                report.atomic_failed = True
                cur.execute("SELECT set_config('work_mem', %s, true)", (saved,))
                return
        events = "".join(f", (SELECT coalesce(array_agg(id ORDER BY id), '{{}}') FROM ins WHERE {_event_filter(ev)})"
                         for ev in p.events)
        now = utcnow()
        cur.execute(MOVE.replace("{events}", events),
                    {"lib": lib.id, "ver": lib.version, "src": source, "kind": p.subject or lib.library.get("subject"),
                     "now": now})
        same, changed, ids, *fired = cur.fetchone()
        cur.execute("SELECT set_config('work_mem', %s, true)", (saved,))
    report.unchanged += same
    report.created += len(ids)
    report.ids.extend(ids)
    if changed:  # the authority rules decide, record by record
        pairs = sorted(pairs + [(i, kept[i]) for i in changed])
    if pairs:
        python_path(pairs, True)
    from foundation import events as bus

    for ev, got in zip(p.events, fired, strict=True):
        if got:
            bus.publish(ev["event"], Payloads(sess, lib.id, got))
