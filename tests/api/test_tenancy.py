"""Two-school isolation through the HTTP API: nothing of school B reaches anyone of school A."""
from __future__ import annotations

import sqlalchemy as sa

from foundation.models import Account, GuardianLink, OrgUnit, Student


def _school_ids(db_session) -> list[int]:
    return sorted(db_session.scalars(sa.select(OrgUnit.id).where(OrgUnit.kind == "school")))


def _students_of(db_session, school_id: int) -> list[Student]:
    return list(db_session.scalars(sa.select(Student).where(Student.school_id == school_id).order_by(Student.id)))


def _all_pages(auth, url: str) -> list[dict]:
    items, page = [], 1
    while True:
        body = auth.get(f"{url}{'&' if '?' in url else '?'}page={page}&per_page=200").get_json()
        items += body["items"]
        if page * body["per_page"] >= body["total"]:
            return items
        page += 1


def test_school_admin_sees_only_own_school(login, db_session):
    a, b = _school_ids(db_session)
    auth = login("school_admin", 0)
    students = _all_pages(auth, "/api/v1/students")
    assert students, "a school admin sees the students of the school"
    assert {s["school_id"] for s in students} == {a}
    assert len(students) == len(_students_of(db_session, a))
    # asking for the other school explicitly gives nothing, not an error that confirms it exists
    assert auth.get(f"/api/v1/students?school_id={b}").status_code == 404  # out of reach: as if it were not there
    for path in ("/api/v1/staff", "/api/v1/classes", "/api/v1/org-units", "/api/v1/guardians"):
        for item in _all_pages(auth, path):
            assert item.get("school_id") in (a, None), (path, item)


def test_other_schools_records_answer_404_on_every_endpoint(login, db_session):
    a, b = _school_ids(db_session)
    other = _students_of(db_session, b)[0]
    other_class = other.class_id
    other_staff = db_session.scalar(sa.text("SELECT id FROM staff WHERE school_id = :s LIMIT 1"), {"s": b})
    other_guardian = db_session.scalar(sa.select(GuardianLink.guardian_id).where(GuardianLink.school_id == b))
    auth = login("school_admin", 0)
    urls = [
        f"/api/v1/students/{other.id}", f"/api/v1/students/{other.id}/guardians", f"/api/v1/classes/{other_class}",
        f"/api/v1/org-units/{other_class}", f"/api/v1/org-units/{b}", f"/api/v1/staff/{other_staff}",
        f"/api/v1/guardians/{other_guardian}",
    ]
    for url in urls:
        resp = auth.get(url)
        assert resp.status_code == 404, url
        assert resp.get_json()["error"]["code"] == "not_found"
    # a missing id and another school's id look exactly alike
    assert auth.get("/api/v1/students/99999999").get_json() == auth.get(f"/api/v1/students/{other.id}").get_json()
    writes = [
        ("patch", f"/api/v1/students/{other.id}", {"name": "篡改"}),
        ("post", f"/api/v1/students/{other.id}/reveal-id-number", {"reason": "test"}),
        ("patch", f"/api/v1/staff/{other_staff}", {"name": "篡改"}),
        ("patch", f"/api/v1/guardians/{other_guardian}", {"name": "篡改"}),
        ("patch", f"/api/v1/org-units/{other_class}", {"name": "篡改"}),
    ]
    for method, url, body in writes:
        assert getattr(auth, method)(url, json=body).status_code == 404, url
    db_session.expire_all()
    assert db_session.get(Student, other.id).name == other.name


def test_creating_in_another_schools_class_is_refused(login, db_session):
    a, b = _school_ids(db_session)
    other_class = _students_of(db_session, b)[0].class_id
    before = db_session.scalar(sa.select(sa.func.count(Student.id)))
    auth = login("school_admin", 0)
    resp = auth.post("/api/v1/students", json={
        "student_no": "X0001", "name": "新同学", "sex_code": "1", "ethnicity_code": "01", "class_id": other_class})
    assert resp.status_code == 422
    assert "class_id" in resp.get_json()["error"]["fields"]
    assert db_session.scalar(sa.select(sa.func.count(Student.id))) == before


def test_guessing_ids_finds_nothing_of_the_other_school(login, db_session):
    a, b = _school_ids(db_session)
    ids = [s.id for s in _students_of(db_session, b)]
    auth = login("homeroom_teacher", 0)
    for ident in range(min(ids), min(ids) + 40):
        if ident in ids:
            assert auth.get(f"/api/v1/students/{ident}").status_code == 404


def test_homeroom_teacher_sees_only_own_class(login, db_session, demo):
    auth = login("homeroom_teacher", 0)
    me = auth.get("/api/v1/me").get_json()
    my_classes = {r["org_unit_id"] for r in me["roles"] if r["role"] == "homeroom_teacher"}
    students = _all_pages(auth, "/api/v1/students")
    assert students and {s["class_id"] for s in students} <= my_classes
    a = _school_ids(db_session)[0]
    classmate_outside = db_session.scalar(
        sa.select(Student).where(Student.school_id == a, Student.class_id.not_in(my_classes)))
    if classmate_outside is not None:
        assert auth.get(f"/api/v1/students/{classmate_outside.id}").status_code == 404


def test_parent_sees_only_own_children(login, db_session):
    auth = login("parent", 0)
    me = auth.get("/api/v1/me").get_json()
    children = set(me["children"])
    assert children
    listed = _all_pages(auth, "/api/v1/students")
    assert {s["id"] for s in listed} == children
    a = _school_ids(db_session)[0]
    stranger = db_session.scalar(sa.select(Student).where(Student.school_id == a, Student.id.not_in(children)))
    assert auth.get(f"/api/v1/students/{stranger.id}").status_code == 404
    # the guardians they see are their own family's only
    for gd in _all_pages(auth, "/api/v1/guardians"):
        assert {ln["student_id"] for ln in gd["links"]} & children
    # a parent cannot change the record, and cannot list staff
    child = next(iter(children))
    assert auth.patch(f"/api/v1/students/{child}", json={"name": "改名"}).status_code == 403
    assert auth.get("/api/v1/staff").status_code == 403


def test_student_sees_only_themself(login, db_session):
    auth = login("student", 0)
    me = auth.get("/api/v1/me").get_json()
    assert me["person"]["kind"] == "student"
    listed = _all_pages(auth, "/api/v1/students")
    assert [s["id"] for s in listed] == [me["person"]["id"]]
    assert auth.get("/api/v1/guardians").status_code == 403


def test_district_admin_enters_a_school_explicitly_and_it_is_audited(login, db_session):
    a, b = _school_ids(db_session)
    auth = login("district_admin")
    # without entering a school, no school data
    assert auth.get("/api/v1/students").get_json()["total"] == 0
    schools = auth.get("/api/v1/org-units?kind=school").get_json()["items"]
    assert sorted(s["id"] for s in schools) == [a, b]
    resp = auth.get("/api/v1/students", headers={"X-Jizuo-School": str(b)})
    body = resp.get_json()
    assert body["total"] == len(_students_of(db_session, b))
    assert {s["school_id"] for s in body["items"]} == {b}
    entries = auth.get("/api/v1/audit?action=district.enter_school").get_json()["items"]
    assert entries and entries[0]["school_id"] == b and entries[0]["username"] == "district.admin"
    assert auth.get("/api/v1/students", headers={"X-Jizuo-School": "99999"}).get_json()["total"] == 0


def test_unauthenticated_api_answers_401(client):
    for url in ("/api/v1/students", "/api/v1/students/1", "/api/v1/me", "/api/v1/audit"):
        resp = client.get(url)
        assert resp.status_code == 401
        assert resp.get_json()["error"]["code"] == "unauthorized"


def test_scoped_session_without_principal_sees_nothing(app):
    """Fail closed: a session with no scope returns no school rows at all."""
    import sqlalchemy.orm as so

    with so.Session(app.extensions["jizuo.engine"]) as sess:
        assert sess.scalars(sa.select(Student)).all() == []
        assert sess.scalars(sa.select(Account)).all() != []  # accounts are not school rows


def test_pages_of_another_school_answer_404(login, db_session):
    a, b = _school_ids(db_session)
    other = _students_of(db_session, b)[0]
    auth = login("school_admin", 0)
    assert auth.get(f"/students/{other.id}").status_code == 404
    assert auth.get(f"/classes/{other.class_id}").status_code == 404
    html = auth.get("/org").get_data(as_text=True)
    other_name = db_session.get(OrgUnit, b).name
    assert other_name not in html


def test_parents_and_students_do_not_browse_class_rosters(login, db_session):
    parent = login("parent", 0)
    child = parent.get("/api/v1/me").get_json()["children"][0]
    class_id = db_session.get(Student, child).class_id
    assert parent.get(f"/classes/{class_id}").status_code == 404
    assert parent.get(f"/students/{child}").status_code == 200
