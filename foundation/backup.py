"""Backups that restore: ``jizuo backup`` and ``jizuo restore`` (docs/scale.md#backups).

PostgreSQL: ``pg_dump -Fc`` inside a snapshot this module exports (``pg_export_snapshot``), so the manifest's
row counts and checksums describe exactly what the dump holds while the app keeps running; ``pg_restore`` in
one transaction. SQLite: the online backup API (``sqlite3.Connection.backup``), safe while the app runs.

Beside each dump lies ``<dump>.manifest.json``: the format, Jizuo's version, the Alembic revisions, the time,
the dump's size and sha256, a fingerprint of the key (one-way; never the key) and every table with its row
count and an md5 over its rows in primary-key order (foundation/backup_digest.py, computed the same way on
both dialects). The key material never enters a dump: :func:`write_key_file` writes it to a file of its own (0600).
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import re
import shlex
import shutil
import sqlite3
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from foundation.backup_digest import KeyCheck, Progress, _quiet, compare, digests, key_check, list_tables
from foundation.version import __version__

FORMAT = "jizuo-backup/1"


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why and what to do."""


def _revisions(conn: sa.Connection, tables: list[str]) -> list[str]:
    if "alembic_version" not in tables:
        return []
    return sorted(conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars())


# ---- the key: a fingerprint in the manifest, the material in a file of its own ---------------------------
def key_fingerprint(secret: str) -> str:
    """A one-way fingerprint of the secret key: tells whether two keys are the same, reveals nothing."""
    raw = HKDF(algorithm=hashes.SHA256(), length=12, salt=b"jizuo-backup", info=b"key-fingerprint-v1").derive(
        secret.encode())
    return base64.b32encode(raw).decode().rstrip("=").lower()


def write_key_file(path: Path, secret: str, old_secrets: list[str]) -> None:
    """The key material as an environment file, created with mode 0600; an existing file is never replaced."""
    body = ("# Jizuo key material: ID numbers, phones, sign-in secrets and signing keys are encrypted under it.\n"
            "# Keep it apart from the database backups (docs/scale.md#backups). Fingerprint "
            f"{key_fingerprint(secret)}, written {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC.\n"
            f"JIZUO_SECRET_KEY={shlex.quote(secret)}\n")  # quoted only if it must be, for `. FILE` and systemd
    if old_secrets:
        body += f"JIZUO_DATA_KEYS_OLD={shlex.quote(','.join(old_secrets))}\n"
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as err:
        raise BackupError(f"{path} exists; the key file is never overwritten: choose a new name") from err
    except OSError as err:
        raise BackupError(f"cannot write the key file {path}: {err.strerror}") from err
    with os.fdopen(fd, "w") as fh:
        fh.write(body)


# ---- where: URLs, libpq, files ---------------------------------------------------------------------------
def dialect(url: str) -> str:
    try:
        name = sa.make_url(url).get_backend_name()
    except sa.exc.ArgumentError as err:
        raise BackupError(f"not a database URL: {url!r} (JIZUO_DATABASE_URL)") from err
    if name not in ("postgresql", "sqlite"):
        raise BackupError(f"backups know PostgreSQL and SQLite, not {name}")
    return name


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection string without the password (that goes in PGPASSWORD, out of ``ps``)."""
    u = sa.make_url(url)
    env = dict(os.environ)
    if u.password:
        env["PGPASSWORD"] = str(u.password)
    parts = {"host": u.host, "port": u.port, "user": u.username, "dbname": u.database, **u.query}
    conninfo = " ".join(f"{k}='{str(v).replace(chr(92), chr(92) * 2).replace(chr(39), chr(92) + chr(39))}'"
                        for k, v in parts.items() if v is not None)
    return conninfo, env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        raise BackupError(f"{name} not found: install the PostgreSQL client tools (Debian/Ubuntu: apt-get install "
                          f"postgresql-client), of the server's major version or newer")
    return path


def _sqlite_path(url: str) -> Path:
    db = sa.make_url(url).database
    if not db or db == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return Path(db)


@contextmanager
def _connected(url: str, **options: Any) -> Iterator[sa.Connection]:
    """The one raw connection of backups (they read and write every school's rows, as the operator's command),
    on an engine of its own, disposed after; a clear error when the server cannot be reached."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool, **options)
    try:
        try:
            conn = engine.connect()
        except sa.exc.OperationalError as err:
            reason = str(err.orig).strip().splitlines()[0] if err.orig else str(err)
            raise BackupError(f"cannot connect to {sa.make_url(url).render_as_string()}: {reason}") from err
        with conn:
            yield conn
    finally:
        engine.dispose()


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def manifest_path(dump: Path) -> Path:
    return dump.with_name(dump.name + ".manifest.json")


def default_name(kind: str, now: dt.datetime | None = None) -> str:
    now = now or dt.datetime.now(dt.UTC)
    return f"jizuo-{now:%Y%m%dT%H%M%SZ}.{'pgdump' if kind == 'postgresql' else 'sqlite3'}"


# ---- backup ----------------------------------------------------------------------------------------------
def backup(url: str, dump: Path, secret: str, progress: Progress = _quiet) -> dict:
    """Write ``dump`` and its manifest; return the manifest. Refuses to replace an existing file."""
    kind, started = dialect(url), dt.datetime.now(dt.UTC)
    dump.parent.mkdir(parents=True, exist_ok=True)
    try:  # the dump holds personal data: only its owner reads it
        os.close(os.open(dump, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError as err:
        raise BackupError(f"{dump} exists; a backup never overwrites one") from err
    try:
        if kind == "postgresql":
            tables, revisions, server, entries = _backup_pg(url, dump, progress)
        else:
            (tables, revisions, server), entries = _backup_sqlite(url, dump, progress), None
    except BaseException:
        dump.unlink(missing_ok=True)
        raise
    manifest = {
        "format": FORMAT, "jizuo_version": __version__, "dialect": kind, "server_version": server,
        "alembic_revisions": revisions, "created_at": started.isoformat(timespec="seconds"),
        "dump": {"file": dump.name, "bytes": dump.stat().st_size, "sha256": _sha256(dump), "data_entries": entries},
        "key_fingerprint": key_fingerprint(secret),
        "tables": tables,
    }
    fd = os.open(manifest_path(dump), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(manifest, fh, indent=1, sort_keys=True)
        fh.write("\n")
    return manifest


_DUMPING = re.compile(r'dumping contents of table "(?:[^"]+\.)?([^"]+)"')
_RESTORING = re.compile(r'processing data for table "(?:[^"]+\.)?([^"]+)"')


def _run(cmd: list[str], env: dict[str, str], pattern: re.Pattern, stage: str, total: int,
         progress: Progress) -> None:
    """Run pg_dump / pg_restore --verbose: a progress step per table it names; its errors into the exception."""
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    done, problems = 0, []
    for line in proc.stderr:
        if pattern.search(line):
            done += 1
            progress(stage, min(done, total), total)
        elif re.search(r"error|fatal|FATAL|ERROR|could not|mismatch", line):
            problems.append(line.strip())
    if proc.wait() != 0:
        raise BackupError(f"{Path(cmd[0]).name} failed (exit {proc.returncode}): " +
                          (" | ".join(problems[-5:]) or "no message"))
    if done < total:
        progress(stage, total, total)


def _backup_pg(url: str, dump: Path, progress: Progress) -> tuple[dict, list[str], str, int]:
    pg_dump = _tool("pg_dump")
    conninfo, env = _libpq(url)
    with _connected(url, isolation_level="REPEATABLE READ") as conn:
        conn.execution_options(postgresql_readonly=True)
        with conn.begin():  # the snapshot pg_dump reads is the one this transaction checksums
            snapshot = conn.execute(sa.text("SELECT pg_export_snapshot()")).scalar_one()
            tables, entries = list_tables(conn), _data_entries(conn)
            _run([pg_dump, "-Fc", "--verbose", f"--snapshot={snapshot}", "-f", str(dump), "-d", conninfo],
                 env, _DUMPING, "dump", entries, progress)
            server = conn.execute(sa.text("SHOW server_version")).scalar_one()
            return digests(conn, progress), _revisions(conn, tables), f"PostgreSQL {server}", entries


def _data_entries(conn: sa.Connection) -> int:
    """How many tables pg_dump writes data for: plain tables and each partition (not partitioned parents)."""
    return conn.execute(sa.text("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                                "WHERE n.nspname = current_schema() AND c.relkind = 'r'")).scalar_one()


def _backup_sqlite(url: str, dump: Path, progress: Progress) -> tuple[dict, list[str], str]:
    source = _sqlite_path(url)
    if not source.is_file():
        raise BackupError(f"no SQLite database at {source}")
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(dump)
    try:
        # one step under one read snapshot: with WAL the app's writers go on meanwhile; a stepwise copy would
        # start over whenever they write, and might never finish on a busy database
        src.backup(dst, pages=-1, progress=lambda _s, remaining, total: progress("copy", total - remaining, total))
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    finally:
        dst.close()
        src.close()
    with _connected(f"sqlite:///{dump}") as conn:
        tables = list_tables(conn)
        return digests(conn, progress), _revisions(conn, tables), f"SQLite {sqlite3.sqlite_version}"


# ---- restore ---------------------------------------------------------------------------------------------
def read_manifest(dump: Path) -> dict:
    """The dump's manifest, after checking that the dump is whole (size and sha256) and of a known kind."""
    if not dump.is_file():
        raise BackupError(f"no backup file at {dump}")
    mpath = manifest_path(dump)
    try:
        manifest = json.loads(mpath.read_text())
    except FileNotFoundError as err:
        raise BackupError(f"no manifest beside the backup: {mpath} is missing") from err
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise BackupError(f"{mpath} is not a backup manifest (not JSON: {err})") from err
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{mpath} is not a {FORMAT} manifest")
    if manifest.get("dialect") not in ("postgresql", "sqlite") or not isinstance(manifest.get("tables"), dict):
        raise BackupError(f"{mpath}: dialect or tables missing")
    want = manifest.get("dump", {})
    if dump.stat().st_size != want.get("bytes") or _sha256(dump) != want.get("sha256"):
        raise BackupError(f"{dump} does not match its manifest (size or sha256): the file is damaged or not "
                          "the one this manifest describes")
    magic = dump.open("rb").read(16)
    if not magic.startswith(b"PGDMP" if manifest["dialect"] == "postgresql" else b"SQLite format 3\0"):
        raise BackupError(f"{dump} is not a {manifest['dialect']} backup file")
    return manifest


def is_empty(url: str) -> bool:
    if dialect(url) == "sqlite" and not _sqlite_path(url).exists():
        return True
    with _connected(url) as conn:
        return not list_tables(conn)


@dataclass
class Report:
    """What a restore (or a --verify) found: tables that differ from the manifest, tables it does not know."""

    tables: int = 0
    rows: int = 0
    differ: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    key: KeyCheck | None = None

    @property
    def ok(self) -> bool:
        return not self.differ


def restore(url: str, dump: Path, *, force: bool = False, secret: str | None = None,
            progress: Progress = _quiet) -> Report:
    """Restore ``dump`` into the database ``url`` (empty, or overwritten with ``force``), then check every
    table against the manifest and, given ``secret``, whether it decrypts the restored ID numbers."""
    manifest = read_manifest(dump)
    kind = dialect(url)
    if manifest["dialect"] != kind:
        raise BackupError(f"{dump} is a {manifest['dialect']} backup; JIZUO_DATABASE_URL is {kind}")
    if not force and not is_empty(url):
        raise BackupError("the target database is not empty: restore into an empty database, or add --force to "
                          "overwrite it (its tables are dropped and replaced by the backup's)")
    tables = manifest["tables"]
    if kind == "postgresql":
        _restore_pg(url, dump, force, manifest["dump"].get("data_entries") or len(tables), progress)
    else:
        target = _sqlite_path(url)
        target.parent.mkdir(parents=True, exist_ok=True)
        src = sqlite3.connect(f"file:{dump}?mode=ro", uri=True)
        dst = sqlite3.connect(target, timeout=30)
        try:
            src.backup(dst, pages=4096, progress=lambda _s, remaining, total: progress(
                "restore", total - remaining, total))
        finally:
            dst.close()
            src.close()
    return check(url, manifest, secret, progress)


# what --force drops first, in the restore's own transaction: the current schema's objects (not an extension's)
_DROPS = """
SELECT format('DROP TABLE IF EXISTS %I.%I CASCADE', n.nspname, c.relname), 1 FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
UNION ALL
SELECT format('DROP %s IF EXISTS %I.%I CASCADE', CASE c.relkind WHEN 'v' THEN 'VIEW'
              WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'SEQUENCE' END, n.nspname, c.relname), 2 FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = current_schema() AND c.relkind IN ('v', 'm', 'S')
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
UNION ALL
SELECT format('DROP ROUTINE IF EXISTS %s CASCADE', p.oid::regprocedure), 3 FROM pg_proc p
 WHERE p.pronamespace = current_schema()::regnamespace
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
UNION ALL
SELECT format('DROP TYPE IF EXISTS %I.%I CASCADE', n.nspname, t.typname), 4 FROM pg_type t
  JOIN pg_namespace n ON n.oid = t.typnamespace
 WHERE n.nspname = current_schema() AND t.typtype IN ('e', 'd', 'r')
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = t.oid AND d.deptype = 'e')
ORDER BY 2
"""


def _restore_pg(url: str, dump: Path, force: bool, total: int, progress: Progress) -> None:
    """pg_restore's script piped into one psql transaction: under ``force`` the target's objects are dropped
    first in the same transaction (``pg_restore --clean`` cannot drop a partition's inherited constraints), so
    a failed restore leaves the target as it was."""
    conninfo, env = _libpq(url)
    with _connected(url) as conn:  # a clear error for a wrong URL before anything runs
        drops = list(conn.execute(sa.text(_DROPS)).scalars()) if force else []
    pg_restore, psql = _tool("pg_restore"), _tool("psql")
    with tempfile.NamedTemporaryFile("w", suffix=".sql") as pre, tempfile.TemporaryFile("w+") as errors:
        pre.write("".join(f"{d};\n" for d in drops))
        pre.flush()
        dumper = subprocess.Popen([pg_restore, "--verbose", "--no-owner", "--no-acl", "-f", "-", str(dump)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        loader = subprocess.Popen([psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction", "-d", conninfo,
                                   "-f", pre.name, "-f", "-"], stdin=dumper.stdout, stdout=subprocess.DEVNULL,
                                  stderr=errors, env=env)
        dumper.stdout.close()  # psql holds the pipe now; pg_restore stops if psql does
        done, problems = 0, []
        for raw in dumper.stderr:
            line = raw.decode(errors="replace")
            if _RESTORING.search(line):
                done += 1
                progress("restore", min(done, total), total)
            elif "error" in line.lower():
                problems.append(line.strip())
        dumper.wait()
        loader.wait()
        errors.seek(0)
        problems += [ln.strip() for ln in errors if ln.strip()]
        if dumper.returncode or loader.returncode:
            raise BackupError(f"restore failed, the target database is unchanged (pg_restore exit {dumper.returncode}, "
                              f"psql exit {loader.returncode}): " + (" | ".join(problems[-5:]) or "no message"))
    if done < total:
        progress("restore", total, total)


def check(url: str, manifest: dict, secret: str | None, progress: Progress = _quiet) -> Report:
    """Compare the database ``url`` with the manifest, table by table; try the key on a sample."""
    with _connected(url) as conn:
        found = digests(conn, progress)
        report = Report(tables=len(found), rows=sum(t["rows"] for t in found.values()),
                        differ=compare(manifest, found), extra=sorted(set(found) - set(manifest["tables"])))
        if secret is not None:
            report.key = key_check(conn, secret)
    return report


def verify(url: str, dump: Path, progress: Progress = _quiet) -> Report:
    """Restore ``dump`` into a scratch database beside ``url`` (a new PostgreSQL database on the same server,
    or a SQLite file beside the dump), compare it with the manifest, and drop the scratch copy."""
    manifest = read_manifest(dump)
    if manifest["dialect"] == "sqlite":
        scratch = dump.with_name(f".verify-{uuid.uuid4().hex[:8]}.sqlite3")
        try:
            return restore(f"sqlite:///{scratch}", dump, progress=progress)
        finally:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{scratch}{suffix}").unlink(missing_ok=True)
    name = f"jizuo_verify_{uuid.uuid4().hex[:8]}"
    try:
        with _connected(url, isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.DBAPIError as err:
        raise BackupError(f"--verify restores into a scratch database and could not create one ({err.orig}); "
                          "grant CREATEDB, or restore into an empty database of your own with jizuo restore") from err
    try:
        return restore(sa.make_url(url).set(database=name).render_as_string(hide_password=False), dump,
                       progress=progress)
    finally:
        with _connected(url, isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def prune(directory: Path, keep_days: int, now: dt.datetime | None = None) -> list[Path]:
    """Delete the backups (dump and manifest) in ``directory`` older than ``keep_days`` by their manifest's
    time; files without a readable manifest are left alone. Returns the dumps deleted."""
    now = now or dt.datetime.now(dt.UTC)
    gone = []
    for mpath in sorted(directory.glob("*.manifest.json")):
        try:
            manifest = json.loads(mpath.read_text())
            created = dt.datetime.fromisoformat(manifest["created_at"])
            dump = directory / manifest["dump"]["file"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if manifest.get("format") == FORMAT and now - created > dt.timedelta(days=keep_days):
            dump.unlink(missing_ok=True)
            mpath.unlink()
            gone.append(dump)
    return gone
