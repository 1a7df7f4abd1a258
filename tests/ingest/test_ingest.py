"""Ingestion through the open data API: validation per record, idempotency, atomic batches, the change
feed with tombstones, events, CSV in the encodings Chinese schools use, and tenancy."""
from __future__ import annotations

import io

import sqlalchemy as sa

from foundation import events
from foundation.models import Change, Record


def _tx(student_no: str, sid: str, amount="12.50", when="2026-11-20T12:01:00+08:00", **extra) -> dict:
    return {"source_id": sid, "student": student_no, "occurred_at": when, "card_no": "C" + student_no,
            "amount": amount, "merchant_type": "canteen", **extra}


def test_ingest_is_validated_idempotent_and_feeds_changes_and_events(system_client, school_ids, students_of,
                                                                   db_session):
    a, _ = school_ids
    kids = students_of(a, 3)
    api = system_client(a)
    seen: list = []
    stop = events.subscribe("card.*", lambda name, batch: seen.append((name, len(batch))))
    try:
        batch = [_tx(s.student_no, f"tx-{i}") for i, s in enumerate(kids)]
        first = api.post("/api/v1/ingest/card_transaction", json={"records": batch})
    finally:
        stop()
    body = first.get_json()
    assert first.status_code == 200 and body["created"] == 3 and body["rejected"] == []
    assert seen == [("card.transaction", 3)]
    again = api.post("/api/v1/ingest/card_transaction", json={"records": batch}).get_json()
    assert again["created"] == 0 and again["unchanged"] == 3
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Record)) == 3  # nothing stored twice
    rows = db_session.scalars(sa.select(Record).order_by(Record.id)).all()
    assert rows[0].subject_id == kids[0].id and rows[0].data["amount"] == "12.50"
    assert rows[0].library_version == "1.0.0" and rows[0].school_id == a

    changed = api.post("/api/v1/ingest/card_transaction",
                       json=[_tx(kids[0].student_no, "tx-0", amount="13.00")]).get_json()
    assert changed["updated"] == 1
    assert api.delete(f"/api/v1/records/card_transaction/{rows[1].id}").status_code == 204
    feed = api.get("/api/v1/changes?library=card_transaction").get_json()
    assert [(c["op"], c["id"]) for c in feed["items"]] == [
        ("create", rows[0].id), ("create", rows[1].id), ("create", rows[2].id),
        ("update", rows[0].id), ("delete", rows[1].id)]
    cursor = feed["items"][2]["seq"]
    after = api.get(f"/api/v1/changes?library=card_transaction&since={cursor}").get_json()
    assert [c["op"] for c in after["items"]] == ["update", "delete"] and after["next"] == str(feed["items"][-1]["seq"])
    listed = api.get("/api/v1/records/card_transaction").get_json()
    assert listed["total"] == 2  # the deleted one is gone from reads, kept as a tombstone in the feed


def test_each_bad_record_is_reported_with_field_and_reason_and_good_ones_are_kept(system_client, school_ids,
                                                                                  students_of, db_session):
    a, b = school_ids
    mine, other = students_of(a, 2), students_of(b, 1)
    api = system_client(a)
    records = [
        _tx(mine[0].student_no, "ok-1"),
        _tx(mine[1].student_no, "bad-amount", amount="十二块"),
        _tx(mine[1].student_no, "bad-code", merchant_type="casino"),
        _tx(mine[1].student_no, "future", when="2099-01-01T00:00:00+08:00"),
        _tx(other[0].student_no + "X", "no-such-student"),
        _tx(other[0].student_no, "other-school", school=db_session.scalar(
            sa.text("SELECT code FROM org_units WHERE id = :b"), {"b": b})),
        {"source_id": "missing"},
        _tx(mine[0].student_no, "extra", colour="red"),
        "not an object",
    ]
    body = api.post("/api/v1/ingest/card_transaction", json={"records": records}).get_json()
    assert body["created"] == 1
    by_index = {r["index"]: r["fields"] for r in body["rejected"]}
    assert "amount" in by_index[1] and "数字" in by_index[1]["amount"]
    assert "merchant_type" in by_index[2]
    assert "将来" in by_index[3]["occurred_at"]
    assert "student" in by_index[4]
    assert "school" in by_index[5]  # another school's student: the school is not the writer's
    assert {"student", "card_no", "amount", "merchant_type", "occurred_at"} <= set(by_index[6])
    assert "colour" in by_index[7]
    assert "_record" in by_index[8]
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Record)) == 1
    en = api.post("/api/v1/ingest/card_transaction", json=[records[1]], headers={"Accept-Language": "en"}).get_json()
    assert en["rejected"][0]["fields"]["amount"] == "Must be a number"


def test_atomic_batches_write_nothing_when_any_record_is_bad(system_client, school_ids, students_of, db_session):
    a, _ = school_ids
    kids = students_of(a, 2)
    api = system_client(a)
    resp = api.post("/api/v1/ingest/card_transaction?atomic=true",
                    json=[_tx(kids[0].student_no, "a-1"), _tx(kids[1].student_no, "a-2", amount="-5")])
    assert resp.status_code == 422
    body = resp.get_json()
    assert "records.1.amount" in body["error"]["fields"] and body["report"]["written"] is False
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Record)) == 0
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Change)) == 0


def test_csv_in_utf8_bom_and_gb18030_and_malformed_csv(system_client, school_ids, students_of, db_session):
    a, _ = school_ids
    kids = students_of(a, 2)
    api = system_client(a)
    header = "source_id,student,occurred_at,card_no,amount,merchant_type,merchant\n"
    rows = [f"csv-{i},{s.student_no},2026-11-20 12:0{i}:00,C{i},8.5,canteen,第一食堂\n" for i, s in enumerate(kids)]
    for encoding, expect in (("utf-8-sig", "utf-8-bom"), ("gb18030", "gb18030")):
        data = (header + rows[0 if encoding == "utf-8-sig" else 1]).encode(encoding)
        resp = api.post("/api/v1/ingest/card_transaction", data=data, content_type="text/csv")
        body = resp.get_json()
        assert resp.status_code == 200 and body["created"] == 1 and body["encoding"] == expect, body
    stored = {r.data["merchant"] for r in db_session.scalars(sa.select(Record))}
    assert stored == {"第一食堂"}  # the Chinese text survived both encodings
    upload = api.post("/api/v1/ingest/card_transaction", content_type="multipart/form-data",
                      data={"file": (io.BytesIO((header + rows[0]).encode()), "tx.csv")}).get_json()
    assert upload["unchanged"] == 1
    broken = api.post("/api/v1/ingest/card_transaction", content_type="text/csv",
                      data=(header + 'x,"unclosed,1,2,3,4,5\n').encode())
    assert broken.status_code == 422 and "_body" in broken.get_json()["error"]["fields"]
    extra = api.post("/api/v1/ingest/card_transaction", content_type="text/csv",
                     data=(header + "a,b,c,d,e,f,g,h,i\n").encode())
    assert "line 2" in extra.get_json()["error"]["fields"]["_body"]


def test_oversized_uploads_get_a_clear_413(app, system_client, school_ids):
    app.config["UPLOAD_MAX_CONTENT_LENGTH"] = 1024 * 1024  # ingest's own limit (JIZUO_MAX_UPLOAD_MB)
    api = system_client(school_ids[0])
    resp = api.post("/api/v1/ingest/card_transaction", data=b"x" * (2 * 1024 * 1024), content_type="text/csv")
    assert resp.status_code == 413 and resp.get_json()["error"]["code"] == "too_large"


def test_unknown_library_scope_and_tenancy(system_client, school_ids, students_of, client, db_session):
    a, b = school_ids
    api = system_client(a)
    assert api.post("/api/v1/ingest/no_such_library", json=[]).status_code == 404
    # a token for cards cannot write attendance
    assert api.post("/api/v1/ingest/attendance", json=[]).status_code in (403, 422)
    api.post("/api/v1/ingest/card_transaction", json=[_tx(students_of(a, 1)[0].student_no, "t-a")])
    other = system_client(b, source="card_system_b")
    assert other.get("/api/v1/records/card_transaction").get_json()["total"] == 0
    mine = db_session.scalar(sa.select(Record.id))
    assert other.delete(f"/api/v1/records/card_transaction/{mine}").status_code == 404
    assert other.get("/api/v1/changes?library=card_transaction").get_json()["items"] == []


def test_highly_sensitive_libraries_are_for_the_granted_roles_only(login, db_session, students_of, school_ids):
    from foundation.models import DataSource

    db_session.add(DataSource(code="psych_platform", name="心理测评平台"))
    db_session.commit()
    admin = login("school_admin", 0)
    kid = students_of(school_ids[0], 1)[0]
    resp = admin.post("/api/v1/ingest/psych_screening?source=psych_platform", json=[{
        "source_id": "s-1", "student": kid.student_no, "occurred_at": "2026-11-01T09:00:00+08:00", "scale": "PHQ-9",
        "total_score": 21, "risk_level": "high"}])
    assert resp.status_code == 200 and resp.get_json()["created"] == 1, resp.get_json()
    # the school admin may write it, but reading psychology data is for the roles the library names
    assert admin.get("/api/v1/records/psych_screening").status_code == 403
    psych = login("psychology_teacher", 0)
    assert psych.get("/api/v1/records/psych_screening").get_json()["total"] == 1
    life = login("life_instructor", 0)
    assert life.get("/api/v1/records/psych_screening").status_code == 403


def test_the_bulk_path_skips_a_row_another_writer_inserted_meanwhile(app, db_session, school_ids, students_of,
                                                                    template):
    """PostgreSQL's direct COPY falls back to the conflict-skipping staging path; other backends skip too."""
    from foundation import db
    from foundation.db import utcnow
    from foundation.ingest.service import _insert
    from foundation.tenancy import unscoped

    kid = students_of(school_ids[0], 1)[0]
    row = {"library": "card_transaction", "library_version": "1.0.0", "source": "race", "school_id": school_ids[0],
           "subject_kind": "student", "subject_id": kid.id, "occurred_at": utcnow(), "data": {"amount": "1.00"},
           "created_at": utcnow()}
    with app.app_context():
        sess = unscoped("test setup").mark(db.session())
        first, _ = _insert(sess, "card_transaction", [row | {"source_id": "r-1"}])
        # "meanwhile": r-1 exists now, but this batch was looked up before it did
        second, _ = _insert(sess, "card_transaction", [row | {"source_id": "r-1"}, row | {"source_id": "r-2"}])
        sess.commit()
    assert list(first) == ["r-1"] and list(second) == ["r-2"]
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Record).where(Record.source == "race")) == 2
