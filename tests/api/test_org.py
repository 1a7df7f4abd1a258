"""The org tree through the API: who may add schools, grades, classes; codes; the OpenAPI document."""
from __future__ import annotations

import sqlalchemy as sa

from foundation.models import AuditEntry, OrgUnit


def test_school_admin_adds_a_grade_and_a_class_in_own_school_only(login, db_session):
    auth = login("school_admin", 0)
    school = auth.get("/api/v1/me").get_json()["roles"][0]["school_id"]
    grade = auth.post("/api/v1/org-units", json={"kind": "grade", "name": "2027级", "parent_id": school,
                                                  "entry_year": 2027})
    assert grade.status_code == 201, grade.get_json()
    klass = auth.post("/api/v1/org-units", json={"kind": "class", "name": "2027级(1)班",
                                                  "parent_id": grade.get_json()["id"], "seq": 1})
    assert klass.status_code == 201 and klass.get_json()["school_id"] == school
    listed = auth.get(f"/api/v1/classes?grade_id={grade.get_json()['id']}").get_json()["items"]
    assert [c["name"] for c in listed] == ["2027级(1)班"] and listed[0]["student_count"] == 0
    # a class cannot hang directly under a school, and a school cannot be added by a school admin
    wrong = auth.post("/api/v1/org-units", json={"kind": "class", "name": "X", "parent_id": school})
    assert wrong.status_code == 422 and "parent_id" in wrong.get_json()["error"]["fields"]
    district = db_session.scalar(sa.select(OrgUnit.id).where(OrgUnit.kind == "district"))
    school_try = auth.post("/api/v1/org-units", json={"kind": "school", "name": "新学校", "parent_id": district,
                                                      "code": "3101059999"})
    assert school_try.status_code == 403
    # the other school's grade is not a parent one can use — it does not exist for this admin
    other_grade = db_session.scalar(sa.select(OrgUnit.id).where(OrgUnit.kind == "grade", OrgUnit.school_id != school))
    hidden = auth.post("/api/v1/org-units", json={"kind": "class", "name": "X", "parent_id": other_grade})
    assert hidden.status_code == 422 and hidden.get_json()["error"]["fields"]["parent_id"] == "上级单位不存在"


def test_district_admin_adds_a_school_with_a_valid_unique_code(login, db_session):
    auth = login("district_admin")
    district = db_session.scalar(sa.select(OrgUnit.id).where(OrgUnit.kind == "district"))
    bad = auth.post("/api/v1/org-units", json={"kind": "school", "name": "新校", "parent_id": district, "code": "12"},
                    lang="en")
    assert bad.status_code == 422 and "10 digits" in bad.get_json()["error"]["fields"]["code"]
    ok = auth.post("/api/v1/org-units", json={"kind": "school", "name": "示范区新星小学", "parent_id": district,
                                               "code": "3101059999", "stage": "primary"})
    assert ok.status_code == 201, ok.get_json()
    body = ok.get_json()
    assert body["school_id"] == body["id"]
    dup = auth.post("/api/v1/org-units", json={"kind": "school", "name": "重复", "parent_id": district,
                                                "code": "3101059999"})
    assert dup.status_code == 422 and "code" in dup.get_json()["error"]["fields"]
    assert db_session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "org.unit.create",
                                                         AuditEntry.resource_id == str(body["id"])))


def test_teachers_cannot_change_the_org_tree(login):
    auth = login("homeroom_teacher", 0)
    me = auth.get("/api/v1/me").get_json()
    class_id = next(r["org_unit_id"] for r in me["roles"] if r["role"] == "homeroom_teacher")
    assert auth.patch(f"/api/v1/org-units/{class_id}", json={"name": "改名"}).status_code == 403


def test_school_admin_reads_only_own_schools_audit_entries(login):
    admin_b = login("school_admin", 1)
    admin_b.get("/api/v1/students")  # writes an audit entry in school B
    admin_a = login("school_admin", 0)
    admin_a.get("/api/v1/students")
    school_a = admin_a.get("/api/v1/me").get_json()["roles"][0]["school_id"]
    entries = admin_a.get("/api/v1/audit?per_page=500").get_json()["items"]
    assert entries and {e["school_id"] for e in entries} == {school_a}
    assert login("homeroom_teacher", 0).get("/api/v1/audit").status_code == 403


def test_every_api_route_is_in_the_openapi_document(app, client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.") and spec["info"]["title"] == "Jizuo open API"
    documented = {(path, method) for path, ops in spec["paths"].items() for method in ops}
    import re

    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method.lower()) in documented, (path, method)
    student_in = spec["components"]["schemas"]["StudentIn"]
    assert set(student_in["required"]) >= {"student_no", "name", "sex_code", "ethnicity_code", "class_id"}
