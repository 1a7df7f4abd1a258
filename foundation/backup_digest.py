"""What a database holds, in a form two databases can be compared by: every table with its row count and a
checksum of its content (the same computation on SQLite and PostgreSQL), and whether a key decrypts the stored
ID numbers. ``jizuo backup`` writes these into a dump's manifest, ``jizuo restore`` checks them after restoring
(foundation/backup.py, docs/scale.md#backups)."""
from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from cryptography.fernet import InvalidToken

Progress = Callable[[str, int, int], None]


def _quiet(stage: str, done: int, total: int) -> None:
    pass


def list_tables(conn: sa.Connection) -> list[str]:
    """The tables a backup holds: on PostgreSQL those of the current schema, a partitioned table once
    (its partitions are part of it); on SQLite every table but SQLite's own."""
    if conn.dialect.name == "postgresql":
        sql = ("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
               "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition")
    else:
        sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    return sorted(conn.execute(sa.text(sql)).scalars())


def _canon(value: Any) -> Any:
    """One value as the same JSON-able form whichever dialect read it."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, decimal.Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def _stamp(value: Any) -> Any:
    return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else _canon(value)


def _converter(kind: sa.types.TypeEngine) -> Callable[[Any], Any] | None:
    """How a column's values become canonical: None when they already are (integers, strings, booleans)."""
    if isinstance(kind, sa.Integer | sa.String | sa.Boolean) and not isinstance(kind, sa.Enum):
        return None
    return _stamp if isinstance(kind, sa.DateTime) else _canon


def table_digest(conn: sa.Connection, table: sa.Table) -> tuple[int, str]:
    """(row count, md5) of one (reflected) table: each row is the JSON list of its values (columns by name,
    values in a canonical form) plus a newline, rows in primary-key order (text keys in "C" collation)."""
    cols = sorted(table.columns, key=lambda c: c.name)
    # no primary key (a partitioned table keeps its id unique through the sequence): id first, then the rest
    keys = list(table.primary_key.columns) or sorted(cols, key=lambda c: c.name != "id")
    pg = conn.dialect.name == "postgresql"
    order = [sa.cast(k, sa.Text) if isinstance(k.type, sa.JSON) else
             k.collate("C") if pg and isinstance(k.type, sa.String) else k for k in keys]
    md5, rows = hashlib.md5(usedforsecurity=False), 0
    result = conn.execution_options(stream_results=True, yield_per=5000).execute(
        sa.select(*cols).order_by(*order))
    convert = [(i, f) for i, f in enumerate(_converter(c.type) for c in cols) if f is not None]
    encode = json.JSONEncoder(ensure_ascii=False).encode
    for row in result:
        values = list(row)
        for i, f in convert:
            values[i] = f(values[i])
        md5.update(encode(values).encode() + b"\n")
        rows += 1
    return rows, md5.hexdigest()


def digests(conn: sa.Connection, progress: Progress = _quiet, only: list[str] | None = None) -> dict[str, dict]:
    """Every table's ``{"rows": n, "md5": …}`` (or those in ``only`` that exist)."""
    names = list_tables(conn)
    if only is not None:
        names = [n for n in names if n in set(only)]
    meta = sa.MetaData()
    meta.reflect(conn, only=names)
    out: dict[str, dict] = {}
    for i, name in enumerate(names):
        rows, md5 = table_digest(conn, meta.tables[name])
        out[name] = {"rows": rows, "md5": md5}
        progress("checksum", i + 1, len(names))
    return out


def compare(manifest: dict, found: dict[str, dict]) -> list[str]:
    """One line per table whose rows or checksum differ from the manifest's, or that is missing."""
    out = []
    for name, want in sorted(manifest["tables"].items()):
        got = found.get(name)
        if got is None:
            out.append(f"{name}: missing")
        elif got["rows"] != want["rows"]:
            out.append(f"{name}: {got['rows']} rows, the backup has {want['rows']}")
        elif got["md5"] != want["md5"]:
            out.append(f"{name}: same {got['rows']} rows but different content (md5 {got['md5'][:12]}…, "
                       f"the backup has {want['md5'][:12]}…)")
    return out


@dataclass
class KeyCheck:
    ok: bool | None  # None: nothing encrypted to try
    tried: int = 0
    what: str = ""


def key_check(conn: sa.Connection, secret: str) -> KeyCheck:
    """Does ``secret`` (with ``JIZUO_DATA_KEYS_OLD``) decrypt a sample of the stored ID numbers (else phones)?"""
    from foundation.security.fields import cipher_for

    tables = set(list_tables(conn))
    for table, column, what in (("students", "id_number_enc", "ID numbers"), ("guardians", "phone_enc", "phones")):
        if table not in tables:
            continue
        sample = conn.execute(sa.text(f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL "  # noqa: S608
                                      "ORDER BY id LIMIT 5")).scalars().all()
        if not sample:
            continue
        try:
            for token in sample:
                cipher_for(secret).decrypt(token)
        except InvalidToken:
            return KeyCheck(False, len(sample), what)
        return KeyCheck(True, len(sample), what)
    return KeyCheck(None)
