"""One datum, one source: the authoritative source's values stand, others' become conflicts an admin
decides; the standards catalogue; IoT payloads; the ingest command."""
from __future__ import annotations

import json

import sqlalchemy as sa

from foundation.models import Authority, Conflict, DataSource, Student


def _student_row(s: Student, klass_code: str, **over) -> dict:
    row = {"student_no": s.student_no, "name": s.name, "sex_code": s.sex_code, "ethnicity_code": s.ethnicity_code,
           "class": klass_code, "status_code": s.status_code, "boarding": s.boarding}
    return row | over


def test_a_non_authoritative_source_cannot_overwrite_and_the_admin_decides(login, system_client, school_ids,
                                                                          students_of, db_session):
    a, _ = school_ids
    kid = students_of(a, 1)[0]
    klass = db_session.scalar(sa.text("SELECT code FROM org_units WHERE id = :c"), {"c": kid.class_id})
    registry = system_client(a, source="student_registry", scopes=("students.write", "students.read"))
    vendor = system_client(a, source="vendor_app", scopes=("students.write",))
    db_session.add(Authority(library="student", element="name", source="student_registry"))
    db_session.commit()
    # the vendor renames the student: not applied, a conflict instead
    out = vendor.post("/api/v1/ingest/student", json=[_student_row(kid, klass, name="王小明")]).get_json()
    assert out["conflicts"] == 1 and out["updated"] == 0
    db_session.expire_all()
    assert db_session.get(Student, kid.id).name == kid.name
    # an element without a named authority takes the write
    out = vendor.post("/api/v1/ingest/student", json=[_student_row(kid, klass, boarding=not kid.boarding)]).get_json()
    assert out["updated"] == 1
    # the registry itself changes the name: applied
    out = registry.post("/api/v1/ingest/student", json=[_student_row(kid, klass, name="李新名",
                                                                      boarding=not kid.boarding)]).get_json()
    assert out["updated"] == 1
    db_session.expire_all()
    assert db_session.get(Student, kid.id).name == "李新名"

    admin = login("school_admin", 0)
    queue = admin.get("/api/v1/conflicts").get_json()["items"]
    assert [(c["element"], c["proposed"], c["source"]) for c in queue] == [("name", "王小明", "vendor_app")]
    decided = admin.post(f"/api/v1/conflicts/{queue[0]['id']}/accept", json={"reason": "家长确认改名"})
    assert decided.status_code == 200 and decided.get_json()["status"] == "accepted"
    db_session.expire_all()
    assert db_session.get(Student, kid.id).name == "王小明"
    assert admin.get("/api/v1/conflicts").get_json()["items"] == []
    # the other school's admin sees none of it
    assert login("school_admin", 1).get("/api/v1/conflicts").get_json()["items"] == []


def test_id_numbers_in_conflicts_are_never_in_clear(login, system_client, school_ids, students_of, db_session):
    from tests.api.test_people import valid_id

    a, _ = school_ids
    kid = students_of(a, 1)[0]
    klass = db_session.scalar(sa.text("SELECT code FROM org_units WHERE id = :c"), {"c": kid.class_id})
    db_session.add(Authority(library="student", element="id_number", source="student_registry"))
    db_session.commit()
    vendor = system_client(a, source="vendor_app", scopes=("students.write",))
    new_id = valid_id(kid.birth_date.strftime("%Y%m%d"), "987")
    out = vendor.post("/api/v1/ingest/student", json=[_student_row(kid, klass, id_number=new_id)]).get_json()
    assert out["conflicts"] == 1
    raw = db_session.execute(sa.text("SELECT current_value, proposed_value FROM conflicts")).one()
    assert new_id not in str(raw) and new_id[:4] + "*" * 10 in str(raw)
    admin = login("school_admin", 0)
    item = admin.get("/api/v1/conflicts").get_json()["items"][0]
    assert item["proposed"] == new_id[:4] + "*" * 10 + new_id[-4:]
    admin.post(f"/api/v1/conflicts/{item['id']}/accept", json={})
    revealed = admin.post(f"/api/v1/students/{kid.id}/reveal-id-number", json={"reason": "核对"}).get_json()
    assert revealed["id_number"] == new_id


def test_authorities_and_sources_are_district_business(login, db_session):
    district = login("district_admin")
    resp = district.post("/api/v1/sources", json={"code": "card_system", "name": "一卡通", "libraries": ["card_transaction"]})
    assert resp.status_code == 201
    assert district.post("/api/v1/sources", json={"code": "x y", "name": ""}).status_code == 422
    ok = district.put("/api/v1/authorities/card_transaction/amount", json={"source": "card_system"})
    assert ok.status_code == 200
    assert district.put("/api/v1/authorities/card_transaction/nope", json={"source": "card_system"}).status_code == 404
    assert district.put("/api/v1/authorities/card_transaction/amount", json={"source": "ghost"}).status_code == 422
    listed = district.get("/api/v1/authorities").get_json()["items"]
    assert {"library": "card_transaction", "element": "amount", "source": "card_system"} in listed
    teacher = login("homeroom_teacher", 0)
    assert teacher.put("/api/v1/authorities/card_transaction/amount", json={"source": "card_system"}).status_code == 403


def test_the_catalogue_is_browsable(client, login):
    auth = login("homeroom_teacher", 0)
    index = auth.get("/api/v1/standards").get_json()
    ids = {lib["id"] for lib in index["libraries"]}
    assert {"student", "attendance", "card_transaction", "psych_screening"} <= ids
    ethnicity = auth.get("/api/v1/standards/dictionaries/ethnicity").get_json()
    assert len([c for c in ethnicity["codes"] if int(c["code"]) <= 56]) == 56
    lib = auth.get("/api/v1/standards/libraries/card_transaction").get_json()
    assert lib["elements"]["amount"]["description"]["zh"]
    assert auth.get("/api/v1/standards/libraries/nope").status_code == 404


def test_iot_payloads_are_mapped_and_ingested(system_client, school_ids, students_of, db_session):
    from foundation.standards import catalog

    a, _ = school_ids
    kid = students_of(a, 1)[0]
    template = catalog().iot_templates["canteen_pos"]
    payload = dict(template["payload_example"])
    card_key = next(spec["from"] for target, spec in template["mapping"].items() if target == "student")
    payload[card_key] = kid.student_no
    api = system_client(a)
    out = api.post("/api/v1/iot/canteen_pos", json={"payloads": [payload, "junk"]}).get_json()
    assert out["created"] == 1 and [r["index"] for r in out["rejected"]] == [1], out
    again = api.post("/api/v1/iot/canteen_pos", json={"payloads": [payload]}).get_json()
    assert again["unchanged"] == 1


def test_the_ingest_command(runner, tmp_path, school_ids, students_of, db_session):
    kids = students_of(school_ids[0], 2)
    db_session.add(DataSource(code="card_system", name="一卡通"))
    db_session.commit()
    code = db_session.scalar(sa.text("SELECT code FROM org_units WHERE id = :a"), {"a": school_ids[0]})
    path = tmp_path / "tx.csv"
    path.write_bytes(("source_id,student,occurred_at,card_no,amount,merchant_type,merchant\n" +
                      "".join(f"f-{i},{k.student_no},2026-11-20T08:00:00,C{i},3.5,canteen,二食堂\n"
                              for i, k in enumerate(kids)) +
                      "f-9,NOBODY,2026-11-20T08:00:00,C9,3.5,canteen,二食堂\n").encode("gb18030"))
    result = runner.invoke(["ingest", "card_transaction", str(path), "--source", "card_system", "--school-code", code,
                            "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output.strip().splitlines()[-1])
    assert report["created"] == 2 and len(report["rejected"]) == 1 and report["encoding"] == "gb18030"
    atomic = runner.invoke(["ingest", "card_transaction", str(path), "--source", "card_system", "--school-code", code,
                            "--atomic"])
    assert atomic.exit_code == 1
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Conflict)) == 0


def test_catalogue_and_conflict_pages(login, system_client, school_ids, students_of, db_session):
    teacher = login("homeroom_teacher", 0)
    page = teacher.get("/standards").get_data(as_text=True)
    assert "校园卡消费" in page and "高度敏感" in page
    lib = teacher.get("/standards/card_transaction").get_data(as_text=True)
    assert "card_system" in lib and "card.transaction" in lib
    assert teacher.get("/standards/nope").status_code == 404
    assert teacher.get("/conflicts").status_code == 403
    a, _ = school_ids
    kid = students_of(a, 1)[0]
    klass = db_session.scalar(sa.text("SELECT code FROM org_units WHERE id = :c"), {"c": kid.class_id})
    db_session.add(Authority(library="student", element="name", source="student_registry"))
    db_session.commit()
    vendor = system_client(a, source="vendor_app", scopes=("students.write",))
    vendor.post("/api/v1/ingest/student", json=[_student_row(kid, klass, name="赵改名")])
    admin = login("school_admin", 0)
    html = admin.get("/conflicts").get_data(as_text=True)
    assert "赵改名" in html and "vendor_app" in html
    import re

    cid = re.search(r'name="id" value="(\d+)"', html).group(1)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    admin.client.post("/conflicts", data={"id": cid, "decision": "reject", "csrf_token": token})
    assert db_session.scalar(sa.select(Conflict.status)) == "rejected"
    db_session.expire_all()
    assert db_session.get(Student, kid.id).name == kid.name
