"""Backups that restore (docs/scale.md#backups): ``jizuo backup`` of the demo district, ``jizuo restore`` into a
fresh database, every table's row count and checksum compared, the ID numbers readable with the key and only
with it; a damaged dump, a non-empty target and a key file beside the dumps are refused. SQLite and PostgreSQL
(the ``template`` fixture gives both)."""
from __future__ import annotations

import json
import os
import re
import stat
import threading
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from cryptography.fernet import InvalidToken

from foundation import backup as bk
from foundation import create_app
from foundation.db import make_engine
from foundation.security.fields import FieldCipher, id_number_problem
from tests.conftest import CLI, PASSWORD, SECRET, AuthActions, _pg_exec, _pg_url, login_of


def _empty_db(template, tmp_path) -> str:
    if template.backend == "sqlite":
        return f"sqlite:///{tmp_path / f'restored_{uuid.uuid4().hex[:6]}.db'}"
    name = f"jizuo_restore_{uuid.uuid4().hex[:8]}"
    _pg_exec(f'CREATE DATABASE "{name}"')
    return _pg_url(name)


def _app(url: str, tmp_path, secret: str = SECRET):
    return create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": secret, "PASSWORD_HASH_FAST": True,
                       "INSTANCE_PATH": str(tmp_path / "instance2"), "REDIS_URL": None})


def _digests(url: str, only: list[str] | None = None) -> dict:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return bk.digests(conn, only=only)
    finally:
        engine.dispose()


def _backup(runner: CLI, tmp_path):
    dump = tmp_path / "dumps" / "district.bak"
    result = runner.invoke(["backup", str(dump), "--quiet"])
    assert result.exit_code == 0, result.output
    assert "backup written" in result.output and "NOT in the backup" in result.output
    return dump


def test_round_trip_keeps_every_table_and_the_id_numbers(app, runner, template, demo, tmp_path):
    source = app.config["DATABASE_URL"]
    dump = _backup(runner, tmp_path)
    manifest = json.loads(bk.manifest_path(dump).read_text())
    assert manifest["dialect"] == template.backend and manifest["alembic_revisions"]
    assert manifest["tables"]["students"]["rows"] == demo["counts"]["students"]
    assert stat.S_IMODE(dump.stat().st_mode) == 0o600  # personal data: its owner only
    assert SECRET.encode() not in dump.read_bytes()

    target = _empty_db(template, tmp_path)
    restored = _app(target, tmp_path)
    try:
        result = CLI(restored).invoke(["restore", str(dump), "--quiet"])
        assert result.exit_code == 0, result.output
        assert "restore check OK" in result.output and "key OK" in result.output
        # the manifest the restore was checked against is the source's content, computed again here
        assert _digests(source) == manifest["tables"] and manifest["tables"]["students"]["rows"] > 0
        engine = sa.create_engine(target, poolclass=sa.pool.NullPool)
        with engine.connect() as conn:
            tokens = conn.execute(sa.text("SELECT id_number_enc FROM students WHERE id_number_enc IS NOT NULL "
                                          "ORDER BY id LIMIT 20")).scalars().all()
        engine.dispose()
        assert len(tokens) == 20
        assert all(id_number_problem(FieldCipher(SECRET).decrypt(t)) is None for t in tokens)
        with pytest.raises(InvalidToken):  # without the key they are ciphertext and nothing more
            FieldCipher("another-key-entirely").decrypt(tokens[0])

        # into a database that is no longer empty: refused without --force
        again = CLI(restored).invoke(["restore", str(dump), "--quiet"])
        assert again.exit_code == 1 and "not empty" in again.output and "--force" in again.output
        # a changed row is named by the check (the checksum sees content, not just counts)
        engine = sa.create_engine(target, poolclass=sa.pool.NullPool)
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE students SET name = name || '改' WHERE id = (SELECT min(id) FROM students)"))
        engine.dispose()
        found = _digests(target, only=["students", "staff"])
        differ = bk.compare({"tables": {t: manifest["tables"][t] for t in found}}, found)
        assert len(differ) == 1 and differ[0].startswith(f"students: same {demo['counts']['students']} rows but"), differ
        # a school admin signs in on the restored platform and sees the masked ID numbers (decrypted there)
        auth = AuthActions(restored.test_client())
        assert auth.login(login_of(demo, "school_admin"), PASSWORD).status_code == 302
        items = auth.get("/api/v1/students?per_page=5").get_json()["items"]
        assert items and all(re.fullmatch(r"\d{4}\*{10}[\dX]{4}", s["id_number_masked"]) for s in items)
    finally:
        restored.extensions["jizuo.engine"].dispose()

    wrong = _app(target, tmp_path, secret="not-the-key-of-this-backup")
    try:  # --force restores over it; the environment's key does not decrypt: a clear warning, exit 3
        result = CLI(wrong).invoke(["restore", str(dump), "--quiet", "--force"])
        assert result.exit_code == 3, result.output
        assert "restore check OK" in result.output
        assert "WARNING" in result.output and "does not decrypt the restored ID numbers" in result.output
        assert manifest["key_fingerprint"] in result.output
    finally:
        wrong.extensions["jizuo.engine"].dispose()
        template.drop_copy(target)


def test_damaged_dumps_and_misplaced_keys_are_refused(app, runner, template, tmp_path):
    dump = _backup(runner, tmp_path)
    key = tmp_path / "keys" / "jizuo.key"
    result = runner.invoke(["backup-key", str(key)])
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and f"JIZUO_SECRET_KEY={SECRET}\n" in key.read_text()
    assert runner.invoke(["backup-key", str(key)]).exit_code == 1  # never overwritten
    beside = runner.invoke(["backup", str(tmp_path / "dumps" / "b2.bak"), "--key-out", str(tmp_path / "dumps" / "k")])
    assert beside.exit_code == 2 and "--key-out" in beside.output

    target = _empty_db(template, tmp_path)
    restored = _app(target, tmp_path)
    try:
        cli = CLI(restored)
        damaged = tmp_path / "dumps" / "damaged.bak"
        data = bytearray(dump.read_bytes())
        data[len(data) // 2] ^= 0xFF
        damaged.write_bytes(bytes(data))
        bk.manifest_path(damaged).write_text(bk.manifest_path(dump).read_text())
        result = cli.invoke(["restore", str(damaged)])
        assert result.exit_code == 1 and "does not match its manifest" in result.output
        bk.manifest_path(damaged).write_text("{not json")
        assert "not JSON" in cli.invoke(["restore", str(damaged)]).output
        assert "no backup file" in cli.invoke(["restore", str(tmp_path / "nothing.bak")]).output
    finally:
        restored.extensions["jizuo.engine"].dispose()
        template.drop_copy(target)


def test_missing_tools_and_wrong_urls_are_named(tmp_path, monkeypatch):
    with pytest.raises(bk.BackupError, match="cannot connect to postgresql"):
        bk.backup("postgresql+psycopg://jizuo@127.0.0.1:1/jizuo", tmp_path / "a.pgdump", SECRET)
    assert not (tmp_path / "a.pgdump").exists()  # nothing half-written is left behind
    with pytest.raises(bk.BackupError, match="not a database URL"):
        bk.backup("no-such-thing", tmp_path / "b.pgdump", SECRET)
    with pytest.raises(bk.BackupError, match="know PostgreSQL and SQLite, not mysql"):
        bk.dialect("mysql://x@y/z")
    with pytest.raises(bk.BackupError, match="no SQLite database at"):
        bk.backup(f"sqlite:///{tmp_path / 'absent.db'}", tmp_path / "c.sqlite3", SECRET)
    monkeypatch.setenv("PATH", str(tmp_path))  # a server without the PostgreSQL client tools
    with pytest.raises(bk.BackupError, match="pg_dump not found: install the PostgreSQL client tools"):
        bk.backup("postgresql+psycopg://jizuo@127.0.0.1:1/jizuo", tmp_path / "d.pgdump", SECRET)


def test_a_backup_taken_while_the_school_writes_matches_its_manifest(app, runner, template, tmp_path):
    """Writers commit all through the backup; the dump and its manifest are still the same snapshot, which
    --verify proves by restoring the dump into a scratch database and comparing every table."""
    url = app.config["DATABASE_URL"]
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE backup_probe (id INTEGER PRIMARY KEY, note VARCHAR(20))"))
    stop, commits = threading.Event(), []

    def write() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            with engine.begin() as conn:
                conn.execute(sa.text("INSERT INTO backup_probe (id, note) VALUES (:n, 'during')"), {"n": n})
                conn.execute(sa.text("UPDATE students SET name = name WHERE id = (SELECT min(id) FROM students)"))
            commits.append(time.perf_counter())
            time.sleep(0.02)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        while len(commits) < 5:
            time.sleep(0.01)
        start = time.perf_counter()
        result = runner.invoke(["backup", str(tmp_path / "live.bak"), "--verify", "--quiet"])
        end = time.perf_counter()
    finally:
        stop.set()
        writer.join()
        engine.dispose()
    assert result.exit_code == 0 and "verify OK" in result.output, result.output
    assert any(start < t < end for t in commits), "no commit happened during the backup"
    manifest = json.loads(bk.manifest_path(tmp_path / "live.bak").read_text())
    assert 5 <= manifest["tables"]["backup_probe"]["rows"] < len(commits)


@pytest.mark.skipif(not os.environ.get("JIZUO_TEST_DATABASE_URL"), reason="compares SQLite with PostgreSQL")
def test_the_checksum_is_the_same_on_both_dialects(tmp_path):
    """The same rows give the same checksum on SQLite and PostgreSQL, whatever their types."""
    meta = sa.MetaData()
    table = sa.Table("mixed", meta, sa.Column("id", sa.Integer, primary_key=True), sa.Column("code", sa.String(8)),
                     sa.Column("ok", sa.Boolean), sa.Column("at", sa.DateTime), sa.Column("day", sa.Date),
                     sa.Column("amount", sa.Numeric(10, 2)), sa.Column("ratio", sa.Float), sa.Column("data", sa.JSON),
                     sa.Column("name", sa.Text))
    rows = [dict(id=2, code="b", ok=True, at=datetime(2026, 9, 1, 7, 30, 5, 120000), day=date(2026, 9, 1),
                 amount=Decimal("12.50"), ratio=0.25, data={"z": [1, 2], "a": "张"}, name="王芳"),
            dict(id=1, code="A", ok=False, at=None, day=None, amount=None, ratio=None, data=None, name=None)]
    name = f"jizuo_mixed_{uuid.uuid4().hex[:8]}"
    _pg_exec(f'CREATE DATABASE "{name}"')
    found = []
    try:
        for url in (f"sqlite:///{tmp_path / 'mixed.db'}", _pg_url(name)):
            engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
            with engine.begin() as conn:
                meta.create_all(conn)
                conn.execute(table.insert(), rows)
            found.append(_digests(url))
            engine.dispose()
    finally:
        _pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    assert found[0] == found[1] and found[0]["mixed"]["rows"] == 2


def test_keep_days_prunes_only_old_backups_with_their_manifests(tmp_path):
    now = datetime(2026, 12, 6, 2, 0)
    for name, age in (("old.pgdump", 15), ("new.pgdump", 13)):
        (tmp_path / name).write_bytes(b"PGDMP")
        created = (now - timedelta(days=age)).replace(tzinfo=UTC).isoformat()
        bk.manifest_path(tmp_path / name).write_text(json.dumps(
            {"format": bk.FORMAT, "created_at": created, "dump": {"file": name}}))
    (tmp_path / "notes.pgdump").write_bytes(b"PGDMP")  # no manifest: not ours to delete
    gone = bk.prune(tmp_path, 14, now=now.replace(tzinfo=UTC))
    assert gone == [tmp_path / "old.pgdump"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.pgdump", "new.pgdump.manifest.json", "notes.pgdump"]
