"""Students, staff and guardians through the API: masking, audit, validation, nothing half-written."""
from __future__ import annotations

import re

import sqlalchemy as sa

from foundation.models import AuditEntry, Guardian, Student
from foundation.security.fields import FieldCipher, id_check_char
from tests.conftest import SECRET

MASKED = re.compile(r"^\d{4}\*{10}[\dX]{4}$")


def valid_id(birth: str = "20100504", seq: str = "123") -> str:
    first = "310105" + birth + seq
    return first + id_check_char(first)


def _class_of(auth) -> int:
    return auth.get("/api/v1/classes").get_json()["items"][0]["id"]


def test_id_numbers_are_encrypted_at_rest_and_masked_in_every_view(login, db_session):
    auth = login("school_admin", 0)
    students = auth.get("/api/v1/students?per_page=200").get_json()["items"]
    assert students and all(MASKED.match(s["id_number_masked"]) for s in students)
    one = students[0]
    detail = auth.get(f"/api/v1/students/{one['id']}").get_json()
    assert MASKED.match(detail["id_number_masked"]) and "id_number" not in detail
    row = db_session.get(Student, one["id"])
    clear = FieldCipher(SECRET).decrypt(row.id_number_enc)
    assert re.fullmatch(r"\d{17}[\dX]", clear)
    # nothing stores the number in clear: not the column, not the hash
    raw = db_session.execute(sa.text("SELECT * FROM students WHERE id = :i"), {"i": one["id"]}).mappings().one()
    assert all(clear not in str(v) for v in raw.values())
    assert detail["id_number_masked"] == clear[:4] + "*" * 10 + clear[-4:]
    # the HTML pages show the mask, never the number
    html = auth.get(f"/students/{one['id']}").get_data(as_text=True)
    assert clear not in html and detail["id_number_masked"] in html
    roster = auth.get(f"/classes/{row.class_id}").get_data(as_text=True)
    assert clear not in roster


def test_revealing_a_full_id_number_needs_the_capability_and_a_reason_and_is_audited(login, db_session, client):
    auth = login("school_admin", 0)
    sid = auth.get("/api/v1/students").get_json()["items"][0]["id"]
    no_reason = auth.post(f"/api/v1/students/{sid}/reveal-id-number", json={})
    assert no_reason.status_code == 422 and "reason" in no_reason.get_json()["error"]["fields"]
    resp = auth.post(f"/api/v1/students/{sid}/reveal-id-number", json={"reason": "学籍核对"})
    assert resp.status_code == 200
    row = db_session.get(Student, sid)
    assert resp.get_json()["id_number"] == FieldCipher(SECRET).decrypt(row.id_number_enc)
    entry = db_session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "people.student.id_number.reveal"))
    assert entry.resource_id == str(sid) and entry.detail["reason"] == "学籍核对"
    assert entry.endpoint == f"POST /api/v1/students/{sid}/reveal-id-number"


def test_a_homeroom_teacher_cannot_reveal_id_numbers(login):
    auth = login("homeroom_teacher", 0)
    sid = auth.get("/api/v1/students").get_json()["items"][0]["id"]
    resp = auth.post(f"/api/v1/students/{sid}/reveal-id-number", json={"reason": "想看"})
    assert resp.status_code == 403
    assert resp.get_json()["error"]["code"] == "forbidden"


def test_every_read_of_a_student_record_is_audited(login, db_session):
    auth = login("homeroom_teacher", 0)
    sid = auth.get("/api/v1/students").get_json()["items"][0]["id"]
    auth.get(f"/api/v1/students/{sid}")
    auth.get(f"/students/{sid}")
    entries = db_session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action == "people.student.read", AuditEntry.resource_id == str(sid))).all()
    assert [e.endpoint for e in entries] == [f"GET /api/v1/students/{sid}", f"GET /students/{sid}"]
    me = auth.get("/api/v1/me").get_json()
    assert {e.account_id for e in entries} == {me["account_id"]}
    lists = db_session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "people.student.list")).all()
    assert lists and lists[0].detail["returned"] > 0


def test_create_and_update_a_student(login, db_session):
    auth = login("school_admin", 0)
    class_id = _class_of(auth)
    idn = valid_id()
    resp = auth.post("/api/v1/students", json={
        "student_no": "N2026001", "name": "林小雨", "sex_code": "2", "ethnicity_code": "03",
        "birth_date": "2010-05-04", "id_number": idn, "class_id": class_id, "boarding": True})
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["ethnicity"] == "回族" and body["id_number_masked"] == idn[:4] + "*" * 10 + idn[-4:]
    upd = auth.patch(f"/api/v1/students/{body['id']}", json={"boarding": False, "name": "林雨"})
    assert upd.status_code == 200 and upd.get_json()["name"] == "林雨" and upd.get_json()["boarding"] is False
    en = auth.get(f"/api/v1/students/{body['id']}", lang="en").get_json()
    assert en["ethnicity"] == "Hui" and en["sex"] == "Female"
    changes = db_session.scalars(sa.select(AuditEntry).where(AuditEntry.resource_id == str(body["id"]),
                                                             AuditEntry.action.like("people.student.%"))).all()
    assert [e.action for e in changes][:2] == ["people.student.create", "people.student.update"]
    assert "id_number" in changes[0].detail["fields"] and idn not in str(changes[0].detail)


def test_bad_input_names_every_bad_field_in_chinese_and_english_and_writes_nothing(login, db_session):
    auth = login("school_admin", 0)
    before = db_session.scalar(sa.select(sa.func.count(Student.id)))
    bad = {"student_no": "有空格 的学号", "name": "", "sex_code": "7", "ethnicity_code": "99",
           "birth_date": "2010-13-40", "id_number": "310105201005041230", "class_id": "abc", "colour": "red"}
    zh = auth.post("/api/v1/students", json=bad)
    assert zh.status_code == 422
    err = zh.get_json()["error"]
    assert err["code"] == "validation_failed"
    assert set(err["fields"]) == {"student_no", "name", "sex_code", "ethnicity_code", "birth_date", "id_number",
                                  "class_id", "colour"}
    assert "校验位" in err["fields"]["id_number"] and "代码" in err["fields"]["sex_code"]
    assert err["fields"]["colour"] == "未知字段"
    en = auth.post("/api/v1/students", json=bad, lang="en").get_json()["error"]
    assert "check digit" in en["fields"]["id_number"] and en["message"] == "Some fields are invalid"
    assert db_session.scalar(sa.select(sa.func.count(Student.id))) == before


def test_semantic_errors_after_schema_validation_also_write_nothing(login, db_session):
    auth = login("school_admin", 0)
    existing = auth.get("/api/v1/students").get_json()["items"][0]
    before = db_session.scalar(sa.select(sa.func.count(Student.id)))
    dup = auth.post("/api/v1/students", json={
        "student_no": existing["student_no"], "name": "重号", "sex_code": "1", "ethnicity_code": "01",
        "class_id": existing["class_id"]})
    assert dup.status_code == 422 and "学号" in dup.get_json()["error"]["fields"]["student_no"]
    mismatch = auth.post("/api/v1/students", json={
        "student_no": "M1", "name": "错生日", "sex_code": "1", "ethnicity_code": "01", "class_id": existing["class_id"],
        "birth_date": "2011-01-01", "id_number": valid_id("20100504")})
    assert "id_number" in mismatch.get_json()["error"]["fields"]
    not_json = auth.post("/api/v1/students", data="student_no=1", headers={"Content-Type": "text/plain"})
    assert not_json.status_code == 422 and "_body" in not_json.get_json()["error"]["fields"]
    assert db_session.scalar(sa.select(sa.func.count(Student.id))) == before
    bad_query = auth.get("/api/v1/students?per_page=100000&class_id=x")
    assert bad_query.status_code == 422
    assert set(bad_query.get_json()["error"]["fields"]) == {"per_page", "class_id"}


def test_guardian_created_with_links_and_masked_phone(login, db_session):
    auth = login("homeroom_teacher", 0)
    sid = auth.get("/api/v1/students").get_json()["items"][0]["id"]
    resp = auth.post("/api/v1/guardians", json={"name": "周建国", "phone": "13812345678",
                                                "links": [{"student_id": sid, "relation_code": "61"}]})
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["phone_masked"] == "138****5678" and body["links"][0]["relation"] == "祖父"
    assert "13812345678" not in str(db_session.get(Guardian, body["id"]).phone_enc)
    bad = auth.post("/api/v1/guardians", json={"name": "X", "phone": "123", "links": []})
    assert set(bad.get_json()["error"]["fields"]) == {"phone", "links"}


def test_subject_teacher_reads_but_cannot_change_students(login):
    auth = login("subject_teacher", 0)
    items = auth.get("/api/v1/students").get_json()["items"]
    assert items
    assert auth.patch(f"/api/v1/students/{items[0]['id']}", json={"name": "改"}).status_code == 403


def test_staff_pagination_and_filter(login):
    auth = login("school_admin", 0)
    page1 = auth.get("/api/v1/staff?per_page=3").get_json()
    page2 = auth.get("/api/v1/staff?per_page=3&page=2").get_json()
    assert page1["total"] > 3 and len(page1["items"]) == 3
    assert not {s["id"] for s in page1["items"]} & {s["id"] for s in page2["items"]}
    name = page1["items"][0]["name"]
    found = auth.get(f"/api/v1/staff?q={name}").get_json()["items"]
    assert all(s["name"].startswith(name) for s in found) and found


def test_the_student_list_answers_what_the_student_schema_dumps(login, app):
    """The list renders its rows without marshmallow (foundation/api/people.py ``_dump_students``): the same
    items as ``StudentOut(many=True).dump``, field for field, for a whole school in both languages."""
    from foundation import db
    from foundation.api.schemas import StudentOut
    from foundation.models import Student
    from foundation.services.people import student_view
    from foundation.tenancy import unscoped

    auth = login("school_admin")
    for lang in ("zh", "en"):
        got = auth.get("/api/v1/students?per_page=200", lang=lang).get_json()["items"]
        assert len(got) > 50
        with app.test_request_context(headers={"Accept-Language": lang}):
            sess = unscoped("test: the same rows through marshmallow").mark(db.session())
            rows = {s.id: s for s in sess.scalars(sa.select(Student).where(Student.id.in_([i["id"] for i in got])))}
            want = StudentOut(many=True).dump([student_view(rows[i["id"]], lang) for i in got])
        assert got == want
