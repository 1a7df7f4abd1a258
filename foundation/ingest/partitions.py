"""The records table on PostgreSQL: partitioned by month of ``occurred_at`` (UTC), one partition per month,
``records_pYYYYMM``, and ``records_default`` for what no month holds (a record without a time, a stray date
decades away). Nothing is ever lost for want of a partition: the default takes it.

Partitions are made ahead — by migration 0022 and by :func:`ensure` (``jizuo partitions``; the worker's
pass), for this month and the next ``ahead`` months. ``ensure`` also takes out of the default partition any
recent month that has gathered rows there (a backfill of last term's data): those rows move to their own
month's partition in one short transaction. SQLite has one plain table and none of this.

A partitioned table's unique keys must hold the partition key, so the origin key is
``(library, source, source_id, occurred_at)``. What makes a re-sent record a duplicate is still
``(library, source, source_id)``: the ingest service serialises the writers of one (library, source) with a
transaction-level advisory lock and looks the source's ids up before inserting (foundation/ingest/bulk.py).
"""
from __future__ import annotations

import re
from datetime import date, datetime

import sqlalchemy as sa

from foundation.db import utcnow

DEFAULT = "records_default"
NAME = re.compile(r"^records_p(\d{4})(\d{2})$")
RECENT_MONTHS = 60  # how far back ``ensure`` splits a month out of the default partition


def month_start(d: date | datetime) -> date:
    return date(d.year, d.month, 1)


def add_months(d: date, n: int) -> date:
    y, m = divmod(d.month - 1 + n, 12)
    return date(d.year + y, m + 1, 1)


def partition_name(month: date) -> str:
    return f"records_p{month:%Y%m}"


def is_partitioned(conn: sa.Connection) -> bool:
    if conn.dialect.name != "postgresql":
        return False
    return conn.scalar(sa.text("SELECT c.relkind FROM pg_class c WHERE c.oid = to_regclass('records')")) == "p"


def existing(conn: sa.Connection) -> set[date]:
    """The months that have a partition."""
    rows = conn.scalars(sa.text(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = to_regclass('records')"))
    out = set()
    for name in rows:
        m = NAME.match(name)
        if m:
            out.add(date(int(m.group(1)), int(m.group(2)), 1))
    return out


def create_month(conn: sa.Connection, month: date) -> int:
    """Make ``month``'s partition, moving into it the rows the default partition holds for that month.
    Returns how many rows moved. The caller commits."""
    name, lo, hi = partition_name(month), month.isoformat(), add_months(month, 1).isoformat()
    conn.execute(sa.text(f"CREATE TABLE {name} (LIKE records INCLUDING DEFAULTS)"))
    moved = conn.execute(sa.text(
        f"WITH m AS (DELETE FROM {DEFAULT} WHERE occurred_at >= :lo AND occurred_at < :hi RETURNING *) "
        f"INSERT INTO {name} SELECT * FROM m"), {"lo": lo, "hi": hi}).rowcount
    # the CHECK lets ATTACH skip scanning the new partition; the default is checked by PostgreSQL
    conn.execute(sa.text(f"ALTER TABLE {name} ADD CONSTRAINT {name}_range CHECK "
                         f"(occurred_at IS NOT NULL AND occurred_at >= '{lo}' AND occurred_at < '{hi}')"))
    conn.execute(sa.text(f"ALTER TABLE records ATTACH PARTITION {name} FOR VALUES FROM ('{lo}') TO ('{hi}')"))
    conn.execute(sa.text(f"ALTER TABLE {name} DROP CONSTRAINT {name}_range"))
    return moved


def ensure(conn: sa.Connection, *, ahead: int = 3, now: datetime | None = None,
           lock_timeout_ms: int = 2000) -> dict:
    """Partitions for this month and the next ``ahead`` months, and for every recent month that has rows in
    the default partition. Runs in ``conn``'s transaction (the caller commits); a no-op off PostgreSQL or
    before migration 0022. Waits at most ``lock_timeout_ms`` for a lock: a busy table is tried again on
    the next pass, never blocked."""
    if not is_partitioned(conn):
        return {"partitioned": False, "created": [], "moved": 0}
    conn.execute(sa.text(f"SET LOCAL lock_timeout = {int(lock_timeout_ms)}"))
    have = existing(conn)
    this = month_start(now or utcnow())
    wanted = {add_months(this, n) for n in range(ahead + 1)}
    oldest = add_months(this, -RECENT_MONTHS)
    stray = conn.scalars(sa.text(
        f"SELECT DISTINCT date_trunc('month', occurred_at)::date FROM {DEFAULT} "
        "WHERE occurred_at >= :lo AND occurred_at < :hi"), {"lo": oldest, "hi": add_months(this, ahead + 1)})
    wanted |= set(stray)
    created, moved = [], 0
    for month in sorted(wanted - have):
        moved += create_month(conn, month)
        created.append(partition_name(month))
    return {"partitioned": True, "created": created, "moved": moved}


def ensure_committed(engine: sa.Engine, **kw) -> dict:
    """:func:`ensure` in a transaction of its own (the worker, the CLI)."""
    with engine.begin() as conn:
        return ensure(conn, **kw)
