"""Plugins' own tables, scoped by construction.

A plugin declares its tables as models on :class:`PluginBase` with the :class:`SchoolScoped` mixin (a row of
one school) or :class:`StudentScoped` (a row about one student of a school). Every statement on them, ORM
or Core (``Model.__table__``), is then scoped by the platform exactly like the core's own tables: staff see
their school, a parent their children's rows, a student their own; writes to another school are refused.
The plugin's migrations create the tables (``jizuo_migrations``); ``PluginBase`` keeps its own MetaData, so
the core's models-versus-migrations check leaves plugin tables to their plugins.
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation import tenancy_sql
from foundation.db import NAMING
from foundation.tenancy import TenancyError, get_scope, is_unscoped, one_of

if TYPE_CHECKING:
    from foundation.tenancy import Scope


class PluginBase(so.DeclarativeBase):
    """The declarative base of every plugin's models (one registry, one MetaData apart from the core's)."""

    metadata = sa.MetaData(naming_convention=NAMING)


tenancy_sql.register(PluginBase.registry)


class SchoolScoped:
    """A row owned by one school (``school_id``, required). Visible where the session reaches the school."""

    school_id: so.Mapped[int] = so.mapped_column(index=True)

    @classmethod
    def tenant_criteria(cls, scope: Scope) -> sa.ColumnElement[bool]:
        return one_of(cls.school_id, scope.school_ids)


class StudentScoped(SchoolScoped):
    """A row about one student (``student_id``): visible to staff who reach the student (the whole school,
    or the student's class), to the student's parents and to the student, like the student record itself."""

    student_id: so.Mapped[int] = so.mapped_column(index=True)

    @classmethod
    def tenant_criteria(cls, scope: Scope) -> sa.ColumnElement[bool]:
        from foundation.models import Student

        if not (scope.class_ids or scope.student_ids):
            return sa.and_(one_of(cls.school_id, scope.school_ids), one_of(cls.school_id, scope.full_school_ids))
        reached = sa.select(Student.id).where(Student.tenant_criteria(scope))
        return sa.and_(one_of(cls.school_id, scope.school_ids),
                       sa.or_(one_of(cls.school_id, scope.full_school_ids), cls.student_id.in_(reached)))


def in_parts(sess: so.Session, column: Any, values: Any, chunk: int = 5000) -> list[sa.ColumnElement[bool]]:
    """``column IN values`` for many values, as criteria to run one query each: on PostgreSQL a single
    ``column = ANY(:array)`` (one bound value however many ids: no statement of thousands of placeholders
    to render and parse), elsewhere IN lists of ``chunk`` values. Empty for no values."""
    values = list(dict.fromkeys(values))
    if not values:
        return []
    if sess.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY

        return [column == sa.any_(sa.bindparam(None, values, type_=ARRAY(column.type)))]
    return [column.in_(values[i:i + chunk]) for i in range(0, len(values), chunk)]


def _driver(sess: so.Session):
    """The session's own psycopg connection, in its transaction (COPY, sequence ids, temporary tables):
    PostgreSQL only, and only for rows the caller has already decided (and, for bulk_insert, checked)."""
    return sess.connection().connection.driver_connection


def bulk_insert(sess: so.Session, table: Any, rows: list[dict[str, Any]], chunk: int = 5000) -> int:
    """Insert many rows at once: ``COPY`` on PostgreSQL, chunked ``executemany`` elsewhere. ``table`` is a
    model or its table; every row's ``school_id`` must be in the session's reach (checked before anything
    is written). Returns the number of rows."""
    table = getattr(table, "__table__", table)
    if not rows:
        return 0
    if "school_id" in table.c and not is_unscoped(sess):
        allowed = get_scope(sess).school_ids
        outside = {r.get("school_id") for r in rows} - set(allowed)
        if outside:
            raise TenancyError(f"bulk insert into {table.name} for schools {sorted(outside, key=str)} "
                               f"outside scope {sorted(allowed)}")
    return write_rows(sess, table, rows, chunk)


def write_rows(sess: so.Session, table: sa.Table, rows: list[dict[str, Any]], chunk: int = 5000) -> int:
    """The writing half of :func:`bulk_insert`, with no scope check: for the platform's own fan-out tables
    (inbox, deliveries, alert timelines) whose rows the caller has already decided. Every row has the keys
    of the first."""
    if not rows:
        return 0
    if sess.get_bind().dialect.name == "postgresql":
        columns = [c.name for c in table.c if c.name in rows[0]]
        as_json = [c for c in columns if isinstance(table.c[c].type, sa.JSON)]
        if as_json:  # the same value object (a rule's title on every case) is encoded once
            seen: dict[int, tuple[Any, str]] = {}

            def text(value: Any) -> str | None:
                if value is None:
                    return None
                hit = seen.get(id(value))
                if hit is None or hit[0] is not value:
                    hit = seen[id(value)] = (value, json.dumps(value, ensure_ascii=False))
                return hit[1]

            rows = [{**row, **{c: text(row[c]) for c in as_json}} for row in rows]
        with _driver(sess).cursor() as cur, cur.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([row[c] for c in columns])
        return len(rows)
    for i in range(0, len(rows), chunk):
        sess.execute(sa.insert(table), rows[i:i + chunk])
    return len(rows)


def insert_ids(sess: so.Session, table: sa.Table, rows: list[dict[str, Any]]) -> list[int]:
    """Insert rows of a table with an integer ``id`` and return their ids in order: ids drawn from the
    sequence, then ``COPY``, on PostgreSQL; multi-row ``INSERT … RETURNING`` elsewhere. No scope check
    (as :func:`write_rows`). Sets ``row["id"]``."""
    if not rows:
        return []
    if sess.get_bind().dialect.name == "postgresql":
        with _driver(sess).cursor() as cur:
            cur.execute(f"SELECT nextval(pg_get_serial_sequence('{table.name}', 'id')) "
                        "FROM generate_series(1, %s)", (len(rows),))
            ids = [i for (i,) in cur.fetchall()]
        for rid, row in zip(ids, rows, strict=True):
            row["id"] = rid
        write_rows(sess, table, rows)
        return ids
    ids = []
    for i in range(0, len(rows), 500):
        part = rows[i:i + 500]
        ids += sess.execute(sa.insert(table).returning(table.c.id, sort_by_parameter_order=True), part).scalars()
    for rid, row in zip(ids, rows, strict=True):
        row["id"] = rid
    return ids


_TEMP: dict[tuple[str, tuple[str, ...]], sa.Table] = {}


def update_rows(sess: so.Session, table: sa.Table, rows: list[dict[str, Any]]) -> int:
    """Update many rows by ``id``, each with its own values (every row has the keys of the first): on
    PostgreSQL ``COPY`` into a temporary table and one ``UPDATE … FROM``; elsewhere an ``executemany``.
    The UPDATE is an ordinary statement, so the session's scope applies to it."""
    if not rows:
        return 0
    cols = [k for k in rows[0] if k != "id"]
    if sess.get_bind().dialect.name == "postgresql":
        name = f"tmp_update_{table.name}"
        shape = (name, tuple(c.name for c in table.c if c.name in rows[0]))
        tmp = _TEMP.get(shape)
        if tmp is None:  # built once per shape: a Table is slow to build, and a new one defeats the SQL cache
            tmp = _TEMP[shape] = sa.Table(name, sa.MetaData(), *(sa.Column(c, table.c[c].type) for c in shape[1]))
        raw = _driver(sess)
        with raw.cursor() as cur:
            cur.execute(f"CREATE TEMP TABLE {name} ON COMMIT DROP AS SELECT {', '.join(tmp.c.keys())} "
                        f"FROM {table.name} WITH NO DATA")
        write_rows(sess, tmp, rows)
        stmt = sa.update(table).where(table.c.id == tmp.c.id).values({c: tmp.c[c] for c in cols})
        done = sess.execute(stmt, execution_options={"preserve_rowcount": True}).rowcount
        with raw.cursor() as cur:
            cur.execute(f"DROP TABLE {name}")
        return done
    stmt = sa.update(table).where(table.c.id == sa.bindparam("b_id")).values(
        {c: sa.bindparam(f"b_{c}") for c in cols})
    sess.execute(stmt, [{f"b_{k}": v for k, v in row.items()} for row in rows])
    return len(rows)
