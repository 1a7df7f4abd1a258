"""Audit rows written in bulk at the request boundary (foundation/audit.py): one INSERT for all of a
request's rows, the hash chain unbroken, and the reads of a failed request still written — after an error
answer, an exception, or a savepoint rolled back — while a failed change leaves no row."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import jsonify

from foundation import db
from foundation.audit import record
from foundation.audit_chain import verify
from foundation.errors import ValidationFailed
from foundation.models import AuditEntry
from tests.conftest import login_of


@pytest.fixture
def routes(app):
    """Test routes that record reads and changes, then succeed or fail in each way a request can."""

    def work(tag: str) -> None:
        record("test.student.read", "student", 1, detail={"tag": tag})
        record("test.student.list", "student", None, detail={"tag": tag})
        record("test.student.update", "student", 1, detail={"tag": tag})  # a change, in a POST: not a read

    def ok():
        work("ok")
        return jsonify({"ok": True})

    def refused():
        work("refused")
        raise ValidationFailed({"name": ["field.required"]})

    def broken():
        work("broken")
        raise RuntimeError("boom")

    def savepoint():
        sess = db.session()
        with sess.begin_nested() as nested:
            work("savepoint")
            nested.rollback()
        record("test.student.read", "student", 2, detail={"tag": "after-savepoint"})
        return jsonify({"ok": True})

    for view in (ok, refused, broken, savepoint):
        app.add_url_rule(f"/test-audit/{view.__name__}", view.__name__, view, methods=["POST"])
    return app


def _rows(db_session, tag: str) -> list[str]:
    db_session.rollback()
    return db_session.scalars(sa.select(AuditEntry.action).where(AuditEntry.detail["tag"].as_string() == tag)
                              .order_by(AuditEntry.seq)).all()


def _inserts(app, call) -> list[str]:
    seen: list[str] = []

    def note(_conn, _cur, sql, *_rest) -> None:
        if "jizuo_audit_append" in sql or ("audit_log" in sql and "INSERT" in sql):  # PostgreSQL, SQLite
            seen.append(sql)

    sa.event.listen(app.extensions["jizuo.engine"], "before_cursor_execute", note)
    try:
        call()
    finally:
        sa.event.remove(app.extensions["jizuo.engine"], "before_cursor_execute", note)
    return seen


def test_a_requests_rows_are_one_insert_and_a_failed_requests_reads_are_kept(routes, login, db_session):
    app, client = routes, login("school_admin")
    inserts = _inserts(app, lambda: client.post("/test-audit/ok"))
    assert len(inserts) == 1
    assert _rows(db_session, "ok") == ["test.student.read", "test.student.list", "test.student.update"]

    assert client.post("/test-audit/refused").status_code == 422
    assert _rows(db_session, "refused") == ["test.student.read", "test.student.list"]  # the change is gone

    assert client.post("/test-audit/broken").status_code == 500  # an exception: answered 500, rolled back
    assert _rows(db_session, "broken") == ["test.student.read", "test.student.list"]

    assert client.post("/test-audit/savepoint").status_code == 200
    assert _rows(db_session, "savepoint") == ["test.student.read", "test.student.list"]
    assert _rows(db_session, "after-savepoint") == ["test.student.read"]

    db_session.rollback()
    verdict = verify(db_session)
    assert verdict.ok, verdict.problem
    assert verdict.rows == db_session.scalar(sa.select(sa.func.count()).select_from(AuditEntry))


def test_every_roster_read_is_audited_with_its_request_and_the_chain_verifies(app, demo, login, db_session):
    auth = login("school_admin")
    before = db_session.scalar(sa.select(sa.func.count()).where(AuditEntry.action == "people.student.list"))
    for page in (1, 2, 3):
        assert auth.get(f"/api/v1/students?per_page=20&page={page}").status_code == 200
    assert auth.get("/api/v1/students?class_id=999999").status_code == 404  # out of reach: nothing was read
    db_session.rollback()
    rows = db_session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "people.student.list")
                              .order_by(AuditEntry.seq)).all()
    assert len(rows) == before + 3
    assert rows[-1].username == login_of(demo, "school_admin") and rows[-1].detail["returned"] == 20
    assert rows[-1].endpoint == "GET /api/v1/students" and rows[-1].seq == rows[-2].seq + 1
    verdict = verify(db_session)
    assert verdict.ok, verdict.problem


def test_an_exception_no_handler_answered_still_leaves_the_reads(app, db_session):
    """The request's teardown sees the exception (nothing committed, nothing rolled back yet): it rolls the
    work back and writes the reads."""
    ctx = app.test_request_context("/test-audit/escaped", method="POST")
    ctx.push()
    record("test.student.read", "student", 3, detail={"tag": "escaped"})
    record("test.student.update", "student", 3, detail={"tag": "escaped"})
    ctx.pop(RuntimeError("escaped every handler"))
    assert _rows(db_session, "escaped") == ["test.student.read"]
    assert verify(db_session).ok


def test_the_opt_in_relaxed_commit_of_read_rows_still_writes_them_in_the_chain(app, login, db_session):
    """``AUDIT_ASYNC_READ_COMMIT``: a read-only request's commit does not wait for the disk (PostgreSQL); the
    rows are the same, in the same chain."""
    app.config["AUDIT_ASYNC_READ_COMMIT"] = True
    auth = login("school_admin")
    assert auth.get("/api/v1/students?per_page=3").status_code == 200
    db_session.rollback()
    last = db_session.scalar(sa.select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1))
    assert last.action == "people.student.list" and last.detail["returned"] == 3
    assert verify(db_session).ok
