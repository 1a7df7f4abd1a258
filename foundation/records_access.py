"""The standard records of the business libraries (card transactions, canteen meals, attendance, dorm
access, assessments, activities…) for capabilities: by library, students and time range, as SQL aggregates
or as streamed rows in batches, never one row per query.

- Scoped like everything else: only the schools the session reaches, and only students in its reach (a
  homeroom teacher's page sees their classes' records; a plugin's job, acting for a school, the school's).
- A plugin reads only the libraries its manifest lists in ``reads`` (what the district reviewed before
  publishing it). A highly sensitive library (psychological screening) is read on a person's behalf only
  when that person holds a role the library names in ``readable_by``.
- Reads of sensitive libraries are audited, once per call, with what was asked.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import g, has_request_context

from foundation.models import Record, Student
from foundation.tenancy import acting_for

CHUNK = 900  # ids per IN (...) list (SQLite's variable limit)
BUCKETS = ("day", "month")


class RecordAccessError(PermissionError):
    """A plugin asked for a library it did not declare, or for one its caller may not read."""


def _library(library: str) -> dict:
    from foundation.ingest.service import UnknownLibrary, compiled

    try:
        lib = compiled(library).library
    except UnknownLibrary:
        raise RecordAccessError(f"no library {library!r}") from None
    if lib.get("kind") != "business":
        raise RecordAccessError(f"{library!r} is a base library: read it through the people helpers")
    return lib


def _bucket(sess: so.Session, name: str, offset_hours: int = 0) -> sa.ColumnElement:
    """The record's day or month as text, in UTC shifted by ``offset_hours`` (the school's local day)."""
    col = Record.occurred_at
    if sess.get_bind().dialect.name == "postgresql":
        if offset_hours:
            col = col + sa.text(f"interval '{int(offset_hours)} hours'")
        return sa.func.to_char(col, "YYYY-MM-DD" if name == "day" else "YYYY-MM")
    fmt = "%Y-%m-%d" if name == "day" else "%Y-%m"
    return sa.func.strftime(fmt, col, f"{int(offset_hours):+d} hours") if offset_hours else sa.func.strftime(fmt, col)


def _local_day(sess: so.Session, offset_hours: int = 0) -> sa.ColumnElement:
    """The record's local day as a date (cheaper than text for filtering and counting distinct days)."""
    col = Record.occurred_at
    if sess.get_bind().dialect.name == "postgresql":
        if offset_hours:
            col = col + sa.text(f"interval '{int(offset_hours)} hours'")
        return sa.cast(col, sa.Date)
    return sa.func.date(col, f"{int(offset_hours):+d} hours")


def _element(name: str, lib: dict, numeric: bool = False) -> sa.ColumnElement:
    if name not in lib["elements"]:
        raise RecordAccessError(f"library {lib['id']} has no element {name!r}")
    value = Record.data[name]
    if numeric:
        return sa.cast(value.as_string(), sa.Numeric(14, 2))
    return value.as_string() if lib["elements"][name].get("type") != "boolean" else value.as_boolean()


@dataclass(frozen=True)
class RecordReader:
    """Reads for one plugin (``None``: the platform itself)."""

    plugin: str | None = None

    def _check(self, sess: so.Session, lib: dict) -> None:
        if self.plugin is not None:
            from foundation.plugin_runtime import host

            loaded = host().loaded.get(self.plugin)
            if loaded is None or lib["id"] not in (loaded.manifest.get("reads") or []):
                raise RecordAccessError(f"plugin {self.plugin} does not declare library {lib['id']} in its "
                                        f"manifest's reads")
        if lib.get("sensitivity") != "highly_sensitive" or acting_for(sess) is not None:
            return  # the platform acting for a school (a job, a scan, an event) reads what the manifest lists
        p = g.get("principal") if has_request_context() else None
        if p is not None and not p.machine:
            roles = {gr.role for gr in p.grants}
            if not roles & set(lib.get("readable_by") or []):
                raise RecordAccessError(f"library {lib['id']} is highly sensitive: not readable by {sorted(roles)}")

    def _audit(self, lib: dict, kind: str, **detail: Any) -> None:
        if lib.get("sensitivity") in ("sensitive", "highly_sensitive"):
            from foundation.audit import record

            record("records.read", "library", lib["id"],
                   detail={"plugin": self.plugin, "kind": kind, **{k: v for k, v in detail.items() if v is not None}})

    def _base(self, lib: dict, students: Iterable[int] | None, since: datetime | None,
              until: datetime | None) -> list[sa.ColumnElement]:
        where = [Record.library == lib["id"], Record.deleted_at.is_(None), Record.subject_kind == "student",
                 # students in the session's reach (the tenancy layer scopes this subquery too)
                 Record.subject_id.in_(sa.select(Student.id))]
        if since is not None:
            where.append(Record.occurred_at >= since)
        if until is not None:
            where.append(Record.occurred_at < until)
        return where

    def aggregate(self, sess: so.Session, library: str, *, by: tuple[str, ...] = ("student",),
                  measures: dict[str, str | tuple] | None = None, students: Iterable[int] | None = None,
                  since: datetime | None = None, until: datetime | None = None,
                  where: dict[str, Any] | None = None, days: Iterable[date] | None = None,
                  utc_offset_hours: int = 0) -> list[dict[str, Any]]:
        """One row per group. ``by``: ``"student"``, ``"day"``, ``"month"`` or elements of the library;
        ``measures``: name → ``"count"`` | ``("sum"|"avg"|"min"|"max", element)`` | ``("days",)`` (distinct
        days with a record) | ``("count_if", element, value)`` | ``("distinct", element)`` (distinct values)
        | ``("first",)`` / ``("last",)`` (earliest, latest ``occurred_at``). ``where``: element → value
        equality. ``days``: only records on these days (e.g. the school days of a month). Days and months
        (in ``by``, ``days`` and the ``days`` measure) are local at ``utc_offset_hours`` (8 for China)."""
        lib = _library(library)
        self._check(sess, lib)
        measures = measures or {"n": "count"}
        groups: list[tuple[str, sa.ColumnElement]] = []
        for key in by:
            col = Record.subject_id if key == "student" else _bucket(sess, key, utc_offset_hours) \
                if key in BUCKETS else _element(key, lib)
            groups.append((key, col.label(f"g_{key}")))
        cols = [c for _, c in groups]
        for name, spec in measures.items():
            cols.append(_measure(sess, spec, lib, utc_offset_hours).label(f"m_{name}"))
        conditions = self._base(lib, None, since, until)
        for element, value in (where or {}).items():
            conditions.append(_element(element, lib) == value)
        if days is not None:
            wanted = sorted(set(days))
            conditions.append(_local_day(sess, utc_offset_hours).in_(
                wanted if sess.get_bind().dialect.name == "postgresql" else [d.isoformat() for d in wanted]))
        ids = sorted(set(students)) if students is not None else None
        self._audit(lib, "aggregate", by=list(by), students=len(ids) if ids is not None else "all",
                    since=since.isoformat() if since else None, until=until.isoformat() if until else None)
        out: list[dict[str, Any]] = []
        for part in ([ids[i:i + CHUNK] for i in range(0, len(ids), CHUNK)] if ids is not None else [None]):
            if part is not None and not part:
                continue
            stmt = sa.select(*cols).where(*conditions)
            if part is not None:
                stmt = stmt.where(Record.subject_id.in_(part))
            if groups:
                stmt = stmt.group_by(*[c for _, c in groups])
            for row in sess.execute(stmt):
                m = row._mapping
                out.append({**{k: m[f"g_{k}"] for k, _ in groups},
                            **{n: _plain(m[f"m_{n}"]) for n in measures}})
        return out

    def stream(self, sess: so.Session, library: str, *, students: Iterable[int] | None = None,
               since: datetime | None = None, until: datetime | None = None,
               elements: Iterable[str] | None = None, batch: int = 2000) -> Iterator[dict[str, Any]]:
        """The records themselves, in id order, ``batch`` rows per query: ``{"id", "student_id",
        "occurred_at", **elements}`` (all elements, or the ones named)."""
        lib = _library(library)
        self._check(sess, lib)
        names = list(elements) if elements is not None else list(lib["elements"])
        for n in names:
            _element(n, lib)
        ids = sorted(set(students)) if students is not None else None
        self._audit(lib, "rows", students=len(ids) if ids is not None else "all", elements=names,
                    since=since.isoformat() if since else None, until=until.isoformat() if until else None)
        conditions = self._base(lib, None, since, until)
        for part in ([ids[i:i + CHUNK] for i in range(0, len(ids), CHUNK)] if ids is not None else [None]):
            after = 0
            while True:
                stmt = sa.select(Record.id, Record.subject_id, Record.occurred_at, Record.data) \
                    .where(*conditions, Record.id > after).order_by(Record.id).limit(batch)
                if part is not None:
                    stmt = stmt.where(Record.subject_id.in_(part))
                rows = sess.execute(stmt).all()
                for r in rows:
                    yield {"id": r.id, "student_id": r.subject_id, "occurred_at": r.occurred_at,
                           **{n: (r.data or {}).get(n) for n in names}}
                if len(rows) < batch:
                    break
                after = rows[-1].id


def _measure(sess: so.Session, spec: str | tuple, lib: dict, offset_hours: int = 0) -> sa.ColumnElement:
    if spec == "count" or spec == ("count",):
        return sa.func.count()
    if not isinstance(spec, tuple) or not spec:
        raise RecordAccessError(f"measure {spec!r}")
    op = spec[0]
    if op == "days":
        return sa.func.count(sa.distinct(_local_day(sess, offset_hours)))
    if op in ("first", "last") and len(spec) == 1:
        return (sa.func.min if op == "first" else sa.func.max)(Record.occurred_at)
    if op == "distinct" and len(spec) == 2:
        return sa.func.count(sa.distinct(_element(spec[1], lib)))
    if op in ("sum", "avg", "min", "max") and len(spec) == 2:
        return getattr(sa.func, op)(_element(spec[1], lib, numeric=True))
    if op == "count_if" and len(spec) == 3:
        return sa.func.count().filter(_element(spec[1], lib) == spec[2])
    raise RecordAccessError(f"measure {spec!r}")


def _plain(value: Any) -> Any:
    from decimal import Decimal

    return float(value) if isinstance(value, Decimal) else value


def records(plugin: str | None = None) -> RecordReader:
    """The record reader of ``plugin`` (its manifest's ``reads`` are checked on every call)."""
    return RecordReader(plugin)
