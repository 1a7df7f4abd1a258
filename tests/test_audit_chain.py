"""The audit log as a hash chain: ``jizuo audit verify`` passes on what the platform wrote and names the first
edited, inserted or deleted row; concurrent writers keep one unbroken chain; ``jizuo audit prune`` keeps the
chain verifiable from a signed checkpoint; a retention under 180 days is refused."""
from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from foundation import create_app, db
from foundation.audit import record
from foundation.cli import main
from foundation.models.audit import AuditChain, AuditCheckpoint, AuditEntry, row_hash
from foundation.pluginhost import PluginHost
from tests.conftest import SECRET


def _write(app, n: int, days_ago: int = 0, per_commit: int = 1) -> None:
    """``n`` audit rows written as the platform writes them (``record`` then commit), ``days_ago`` old."""
    with app.app_context():
        for i in range(n):
            entry = record("people.student.read", "student", 1000 + i, school_id=None,
                           detail={"reason": "家长会前查看", "n": i})
            entry.at -= timedelta(days=days_ago)
            if (i + 1) % per_commit == 0 or i == n - 1:
                db.session().commit()


def _rows(db_session) -> list[AuditEntry]:
    db_session.expire_all()
    return list(db_session.scalars(sa.select(AuditEntry).order_by(AuditEntry.seq)))


def _verify(runner):
    result = runner.invoke(["audit", "verify", "--quiet"])
    return result.exit_code, result.output


@pytest.fixture
def chain(app, users, db_session):
    """A chain written by real requests (a teacher's roster and record, the admin reading the log) and by a
    command writing two rows in one commit: returns its rows in chain order."""
    teacher, admin = users("homeroom_teacher", 0), users("school_admin", 0)
    students = teacher.get("/api/v1/students").get_json()["items"]
    assert teacher.get(f"/api/v1/students/{students[0]['id']}").status_code == 200
    assert admin.get("/api/v1/audit").status_code == 200
    _write(app, 4, per_commit=2)
    rows = _rows(db_session)
    assert len(rows) >= 7
    return rows


def test_verify_passes_on_what_the_platform_wrote_and_prints_count_and_head(chain, runner, db_session):
    code, out = _verify(runner)
    assert code == 0, out
    assert f"audit chain OK: {len(chain)} rows from the first row" in out
    head = db_session.get(AuditChain, 1)
    assert f"head hash {chain[-1].hash}" in out and head.hash == chain[-1].hash
    assert [r.seq for r in chain] == list(range(1, len(chain) + 1))
    assert all(r.prev_hash == p.hash for p, r in zip(chain, chain[1:], strict=False))


def test_an_edited_row_is_named_the_first_of_two(chain, runner, db_session):
    first, later = chain[3], chain[6]
    for row, name in ((later, "someone.else"), (first, "not.me")):
        db_session.execute(sa.update(AuditEntry).where(AuditEntry.id == row.id).values(username=name))
    db_session.commit()
    code, out = _verify(runner)
    assert code == 1
    assert f"EDITED: row id {first.id} (seq {first.seq}, at {first.at:%Y-%m-%d %H:%M:%S} UTC)" in out
    assert "content no longer matches" in out and f"after {first.seq - 1} good rows" in out


def test_a_deleted_row_is_named_in_the_middle_and_at_the_end(chain, runner, db_session):
    gone, after = chain[4], chain[5]
    db_session.execute(sa.delete(AuditEntry).where(AuditEntry.id == gone.id))
    db_session.commit()
    code, out = _verify(runner)
    assert code == 1 and f"DELETED: row id {after.id} (seq {after.seq}" in out and f"(seq {gone.seq})" in out, out
    db_session.execute(sa.delete(AuditEntry).where(AuditEntry.seq >= gone.seq))  # cut the tail instead
    db_session.commit()
    code, out = _verify(runner)
    assert code == 1 and f"DELETED: the last row(s) of the chain are missing (seq {gone.seq}–{chain[-1].seq})" in out


def test_an_inserted_row_is_named_naive_or_forged_with_a_valid_hash(chain, runner, db_session):
    # a forger who knows the algorithm: a row slipped in after seq k with a correct hash, later rows renumbered
    k = chain[2]
    later = sa.update(AuditEntry).where(AuditEntry.seq > k.seq)
    db_session.execute(later.values(seq=-(AuditEntry.seq + 1)))  # two steps: the unique seq holds throughout
    db_session.execute(sa.update(AuditEntry).where(AuditEntry.seq < 0).values(seq=-AuditEntry.seq))
    forged = AuditEntry(at=k.at, action="people.student.read", resource_type="student", resource_id="1",
                        username=k.username, endpoint=k.endpoint, seq=k.seq + 1, prev_hash=k.hash)
    forged.hash = row_hash(forged, k.hash)
    db_session.add(forged)
    db_session.execute(sa.update(AuditChain).values(seq=AuditChain.seq + 1))
    db_session.commit()
    code, out = _verify(runner)
    assert code == 1 and f"INSERTED: row id {forged.id} (seq {k.seq + 1}" in out, out
    assert f"links past it, to seq {k.seq}" in out
    db_session.delete(forged)  # undo, and insert the way a plain INSERT does: no place in the chain
    db_session.execute(sa.update(AuditEntry).where(AuditEntry.seq > k.seq).values(seq=-(AuditEntry.seq - 1)))
    db_session.execute(sa.update(AuditEntry).where(AuditEntry.seq < 0).values(seq=-AuditEntry.seq))
    db_session.execute(sa.update(AuditChain).values(seq=AuditChain.seq - 1))
    db_session.commit()
    assert _verify(runner)[0] == 0
    plain = db_session.execute(sa.insert(AuditEntry).values(at=k.at, action="account.login", username="intruder")
                               .returning(AuditEntry.id)).scalar()
    db_session.commit()
    code, out = _verify(runner)
    assert code == 1 and f"INSERTED: row id {plain} (no seq, at " in out and "no place in the chain" in out


def test_concurrent_writers_append_one_unbroken_chain(app, runner, db_session):
    before = len(_rows(db_session))
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            _write(app, 12, per_commit=3)
        except BaseException as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    rows = _rows(db_session)
    assert [r.seq for r in rows] == list(range(1, before + 49))
    code, out = _verify(runner)
    assert code == 0 and f"{before + 48} rows" in out, out


def test_prune_deletes_old_rows_and_verify_starts_from_the_signed_checkpoint(app, runner, db_session):
    _write(app, 5, days_ago=200)
    _write(app, 3)
    last_old = [(r.seq, r.hash) for r in _rows(db_session) if r.action == "people.student.read"][4]
    result = runner.invoke(["audit", "prune", "--quiet"])
    assert result.exit_code == 0, result.output
    assert "pruned 5 rows older than" in result.output and f"checkpoint at seq {last_old[0]}" in result.output
    rows = _rows(db_session)
    assert len(rows) == 4 and rows[0].prev_hash == last_old[1]
    assert rows[-1].action == "audit.prune" and rows[-1].detail == {"rows": 5, "checkpoint_seq": last_old[0],
                                                                    "keep_days": 180}
    code, out = _verify(runner)
    assert code == 0 and f"audit chain OK: 4 rows from the signed checkpoint at seq {last_old[0]}" in out, out
    assert "nothing to prune" in runner.invoke(["audit", "prune", "--quiet"]).output
    # the checkpoint is signed: changing what it says, or removing it, is found
    cp = db_session.scalar(sa.select(AuditCheckpoint))
    db_session.execute(sa.update(AuditCheckpoint).values(hash=rows[0].hash))
    db_session.commit()
    code, out = _verify(runner)
    assert code == 1 and "CHECKPOINT: the checkpoint at seq" in out and "was changed" in out, out
    db_session.execute(sa.delete(AuditCheckpoint).where(AuditCheckpoint.id == cp.id))
    db_session.commit()
    code, out = _verify(runner)
    assert code == 1 and f"DELETED: row id {rows[0].id}" in out and f"(seq 1–{last_old[0]})" in out, out


def test_prune_refuses_a_broken_chain_and_deletes_nothing(app, runner, db_session):
    _write(app, 3, days_ago=200)
    rows = _rows(db_session)
    db_session.execute(sa.update(AuditEntry).where(AuditEntry.id == rows[-1].id).values(ip="10.0.0.9"))
    db_session.commit()
    result = runner.invoke(["audit", "prune", "--quiet"])
    assert result.exit_code == 1 and "nothing pruned" in result.output and f"row id {rows[-1].id}" in result.output
    assert len(_rows(db_session)) == len(rows) and db_session.scalar(sa.select(AuditCheckpoint)) is None


def test_retention_under_180_days_is_refused(runner, tmp_path, monkeypatch):
    result = runner.invoke(["audit", "prune", "--keep-days", "90"])
    assert result.exit_code != 0 and "at least 180 days" in result.output
    with pytest.raises(ValueError, match=r"JIZUO_AUDIT_RETENTION_DAYS=179: audit rows are kept at least 180"):
        create_app({"TESTING": True, "SECRET_KEY": SECRET, "INSTANCE_PATH": str(tmp_path), "AUDIT_RETENTION_DAYS": 179,
                    "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"})
    monkeypatch.setenv("JIZUO_AUDIT_RETENTION_DAYS", "half a year")
    with pytest.raises(ValueError, match="a whole number of days"):
        create_app({"TESTING": True, "SECRET_KEY": SECRET, "INSTANCE_PATH": str(tmp_path),
                    "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"})
    monkeypatch.setenv("JIZUO_AUDIT_RETENTION_DAYS", "365")
    app = create_app({"TESTING": True, "SECRET_KEY": SECRET, "INSTANCE_PATH": str(tmp_path),
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"})
    assert app.config["AUDIT_RETENTION_DAYS"] == 365


def test_the_migration_chains_the_rows_already_there(template, tmp_path):
    """A database with audit rows from before the chain: the migration hashes them in id order."""
    from foundation.migrate import upgrade
    from tests.conftest import _pg_exec, _pg_url

    if template.backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
    else:
        name = f"jizuo_t_{tmp_path.name[-20:].lower()}"
        name = re.sub(r"[^a-z0-9_]", "_", name)
        _pg_exec(f'DROP DATABASE IF EXISTS "{name}"')
        _pg_exec(f'CREATE DATABASE "{name}"')
        url = _pg_url(name)
    try:
        upgrade(url, "0015_notice_acks", plugin_dirs=[])
        engine = sa.create_engine(url)
        log = sa.table("audit_log", sa.column("at"), sa.column("action"), sa.column("username"),
                       sa.column("detail", sa.JSON))
        with engine.begin() as conn:
            conn.execute(log.insert(), [{"at": db.utcnow(), "action": "people.student.read", "username": f"u{i}",
                                         "detail": {"reason": "查看", "i": i}} for i in range(3)])
        engine.dispose()
        upgrade(url, "heads", plugin_dirs=[])
        app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": SECRET, "REDIS_URL": None,
                          "INSTANCE_PATH": str(tmp_path / "inst"), "PLUGIN_HOST": PluginHost()})
        result = app.test_cli_runner().invoke(main, args=["audit", "verify", "--quiet"])
        assert result.exit_code == 0 and "audit chain OK: 3 rows" in result.output, result.output
        app.extensions["jizuo.engine"].dispose()
    finally:
        if template.backend != "sqlite":
            _pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
