"""The district-scale ingest path (issue 20): on PostgreSQL records are partitioned by month and bulk loads go
COPY → staging → set-wise SQL; on SQLite the simple path. Either way a user sees the same thing: bad records
named by index and field, re-sends store nothing, the change feed and the events follow, deletions leave
tombstones, and a record with a stray date is kept, not lost."""
from __future__ import annotations

import importlib.util
from datetime import date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from foundation import db, events
from foundation.ingest import bulk, partitions
from foundation.ingest.service import Context, ingest
from foundation.models import Change, OrgUnit, Record, Student
from foundation.tenancy import unscoped

N = 20_000
MONTHS = ("2026-08", "2026-09", "2026-10")


def _tx(n: int, school: str, student: str, when: str, **extra) -> dict:
    return {"source_id": f"p-{n:06d}", "school": school, "student": student, "occurred_at": when,
            "card_no": f"C{student}", "amount": f"{3 + n % 12}.50", "merchant_type": "canteen",
            "terminal": f"POS-{n % 40:02d}", **extra}


def _batch(code: str, kids: list[str]) -> list[dict]:
    out = [_tx(n, code, kids[n % len(kids)], f"{MONTHS[n % 3]}-{1 + n % 28:02d}T12:{n % 60:02d}:05+08:00")
           for n in range(N)]
    out[7]["amount"] = "12.5元"  # a bad value: rejected, field named
    out[11]["card_no"] = "  C-padded  "  # surrounding spaces: SQL is not sure, Python strips and accepts
    out[13]["occurred_at"] = "1999-01-01T08:00:00+08:00"  # a stray date: the default partition keeps it
    out[17]["student"] = "no-such-student"
    out[19] = dict(out[18], amount="99.00")  # the same source id twice in a batch: the last one wins
    return out


def _load(app, records=None, **kw):
    """Load through the service, as the API and the CLI do; returns (school, records, report, event sizes)."""
    with app.app_context():
        sess = unscoped("test: loading a district's card transactions").mark(db.session())
        school = sess.scalar(sa.select(OrgUnit).where(OrgUnit.kind == "school").order_by(OrgUnit.id))
        if records is None:
            kids = list(sess.scalars(sa.select(Student.student_no).where(Student.school_id == school.id).limit(200)))
            records = _batch(school.code, kids)
        seen: list[int] = []
        stop = events.subscribe("card.transaction", lambda name, batch: seen.append(len(batch)))
        try:
            report = ingest(sess, "card_transaction", records, source="card_system", ctx=Context({school.id}),
                            chunk=5000, **kw)
            sess.commit()
        finally:
            stop()
        return school.id, records, report, seen


def test_bulk_load_reports_like_before_and_resend_writes_nothing(app, db_session, template, login, monkeypatch):
    monkeypatch.setattr(bulk, "SLICE", 7000)  # a big load goes in slices: three here
    school, records, report, seen = _load(app)
    sess = db_session
    assert report.created == N - 3, report.as_dict()  # two rejected, one source id twice
    assert [(r["index"], r["fields"]) for r in report.rejected] == [
        (7, {"amount": "ingest.type_decimal"}), (17, {"student": "ingest.student_unknown"})]
    assert sum(seen) == report.created  # one event batch for the load
    fed = sess.scalar(sa.select(sa.func.count()).select_from(Change).where(Change.library == "card_transaction"))
    assert fed == report.created
    twice = sess.execute(sa.select(Record.data).where(Record.source_id == "p-000018")).scalars().all()
    assert [d["amount"] for d in twice] == ["99.00"]
    padded = sess.scalar(sa.select(Record.data).where(Record.source_id == "p-000011"))
    assert padded["card_no"] == "C-padded" and padded["amount"] == "14.50"
    one = sess.execute(sa.select(Record.id, Record.data, Record.occurred_at).where(Record.source_id == "p-000001")).one()
    assert one.data["occurred_at"] == "2026-09-02T04:01:05Z" and one.occurred_at == datetime(2026, 9, 2, 4, 1, 5)
    sess.rollback()

    _, _, again, seen = _load(app, records)
    assert (again.created, again.updated, again.unchanged, sum(seen)) == (0, 0, N - 3, 0)
    assert sess.scalar(sa.select(sa.func.count()).select_from(Change)
                       .where(Change.library == "card_transaction")) == fed
    sess.rollback()

    admin = login("school_admin", 0)
    gone = admin.delete(f"/api/v1/records/card_transaction/{one.id}")
    assert gone.status_code == 204, gone.get_json()
    last = sess.execute(sa.select(Change.op, Change.entity_id).where(Change.library == "card_transaction")
                        .order_by(Change.seq.desc()).limit(1)).one()
    assert tuple(last) == ("delete", one.id)  # the tombstone

    if template.backend != "postgresql":
        return
    sess.rollback()  # past months have no partition yet: the default holds them until the job makes theirs
    moved = partitions.ensure_committed(app.extensions["jizuo.engine"], now=datetime(2026, 12, 6))
    assert {"records_p202608", "records_p202609", "records_p202610"} <= set(moved["created"])
    where = dict(sess.execute(sa.text(
        "SELECT tableoid::regclass::text, count(*) FROM records WHERE source = 'card_system' GROUP BY 1")).all())
    assert {k: v > 6000 for k, v in where.items() if k != "records_default"} == {
        "records_p202608": True, "records_p202609": True, "records_p202610": True}
    assert where["records_default"] == 1  # the stray 1999 record, kept


def test_atomic_load_writes_nothing_when_one_record_is_bad(app, db_session):
    with app.app_context():
        sess = unscoped("test: an atomic load").mark(db.session())
        school = sess.scalar(sa.select(OrgUnit).where(OrgUnit.kind == "school").order_by(OrgUnit.id))
        kids = list(sess.scalars(sa.select(Student.student_no).where(Student.school_id == school.id).limit(20)))
    records = [_tx(n, school.code, kids[n % 20], "2026-10-05T12:00:00+08:00") for n in range(300)]
    records[250]["merchant_type"] = "casino"
    before = db_session.scalar(sa.select(sa.func.count()).select_from(Record))
    _, _, report, seen = _load(app, records, atomic=True)
    assert report.atomic_failed and not seen and report.rejected == [
        {"index": 250, "source_id": "p-000250", "fields": {"merchant_type": "code.unknown:merchant_type"}}]
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Record)) == before


def test_partitions_ahead_stray_months_and_the_migration_both_ways(app, template):
    if template.backend != "postgresql":
        pytest.skip("partitions are PostgreSQL's")
    engine = app.extensions["jizuo.engine"]
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO records (library, library_version, source, source_id, school_id, occurred_at, data,"
            " created_at) VALUES ('card_transaction', '1.0.0', 't', 'june', NULL, '2026-06-15', '{}', now()),"
            " ('card_transaction', '1.0.0', 't', 'never', NULL, NULL, '{}', now())"))
        assert conn.scalar(sa.text("SELECT tableoid::regclass::text FROM records WHERE source_id = 'june'")) \
            == "records_default"
        done = partitions.ensure(conn, ahead=2, now=datetime(2026, 12, 6))
    assert "records_p202606" in done["created"] and done["moved"] >= 1
    with engine.connect() as conn:
        assert {date(2026, 12, 1), date(2027, 1, 1), date(2027, 2, 1)} <= partitions.existing(conn)
    with engine.begin() as conn:
        where = dict(conn.execute(sa.text("SELECT source_id, tableoid::regclass::text FROM records WHERE source = 't'")).all())
        assert where == {"june": "records_p202606", "never": "records_default"}
        assert partitions.ensure(conn, ahead=2, now=datetime(2026, 12, 6))["created"] == []  # idempotent
        count = conn.scalar(sa.text("SELECT count(*) FROM records"))

    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    path = Path(__file__).parents[1] / "foundation/migrations/versions/0022_ingest_partitions.py"
    spec = importlib.util.spec_from_file_location("m0022", path)
    mig = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mig)
    for step, kind in ((mig.downgrade, "r"), (mig.upgrade, "p")):
        with engine.begin() as conn, Operations.context(MigrationContext.configure(conn)):
            step()
        with engine.connect() as conn:
            assert conn.scalar(sa.text("SELECT relkind FROM pg_class WHERE oid = 'records'::regclass")) == kind
            assert conn.scalar(sa.text("SELECT count(*) FROM records")) == count


TRICKY = [  # (element, raw value): values where a set-wise check could disagree with the Python checker
    ("card_no", " C1"), ("card_no", "C1\u3000"), ("card_no", "C1\u00a0"), ("card_no", "\x01C1"), ("card_no", 12345),
    ("card_no", "卡1"), ("card_no", "x" * 33), ("card_no", "引号\"与\\反斜杠"),
    ("amount", 12.5), ("amount", 7), ("amount", "12.345"), ("amount", "1e2"), ("amount", "007.5"), ("amount", "-0"),
    ("amount", True), ("amount", "10000.01"), ("amount", " 3"),
    ("merchant_type", "canteen "), ("merchant_type", 1), ("merchant_type", "supermarket"),
    ("occurred_at", "2026-02-29T08:00:00"), ("occurred_at", "2024-02-29T08:00:00"), ("occurred_at", "2026-10-05T24:00:00"),
    ("occurred_at", "2026-10-05 23:59:59.5+23:59"), ("occurred_at", "2026-10-05T12:00:00Z"),
    ("occurred_at", "2026-10-05T12:00:00.000000-05:30"), ("occurred_at", "2026-10-05T12:00"), ("occurred_at", "2999-01-01T00:00:00"),
    ("occurred_at", 20261005), ("source_id", 42), ("source_id", " s"), ("school", None), ("student", 1),
]


def test_sql_and_python_checks_agree_value_by_value(app, db_session):
    """Every tricky value gives, on PostgreSQL's set-wise path, what the Python checker gives on SQLite: the
    same clean data or the same error for the same field."""
    from foundation.ingest.service import compiled

    with app.app_context():
        sess = unscoped("test: tricky values").mark(db.session())
        school = sess.scalar(sa.select(OrgUnit).where(OrgUnit.kind == "school").order_by(OrgUnit.id))
        kid = sess.scalar(sa.select(Student.student_no).where(Student.school_id == school.id).limit(1))
    base = _tx(0, school.code, kid, "2026-10-05T12:00:00+08:00", balance="5")
    records = []
    for n, (name, value) in enumerate(TRICKY):
        raw = dict(base, source_id=f"t-{n}")
        raw[name] = value
        records.append(raw)
    _, _, report, _ = _load(app, records)
    lib = compiled("card_transaction")
    rejected = {r["index"]: r["fields"] for r in report.rejected}
    stored = dict(db_session.execute(sa.select(Record.source_id, Record.data).where(Record.source == "card_system")).all())
    for n, raw in enumerate(records):
        clean, errors = lib.validate(raw)
        if n in rejected:
            assert errors or set(rejected[n]) & {"source_id", "school", "student"}, (TRICKY[n], rejected[n])
            assert {k: v for k, v in rejected[n].items() if k in errors} == errors, TRICKY[n]
        else:
            assert not errors, (TRICKY[n], errors)
            sid = str(raw["source_id"]).strip()
            assert stored[sid] == clean, (TRICKY[n], stored[sid], clean)
