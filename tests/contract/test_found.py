"""What the contract fuzzer found, each pinned down by a plain test (they answered 500 before)."""
from __future__ import annotations


def _first(admin, url: str) -> dict:
    return admin.get(url).get_json()["items"][0]


def test_a_guardian_names_each_student_once(users, db_session):
    admin = users("school_admin", 0)
    student = _first(admin, "/api/v1/students?per_page=1")
    link = {"student_id": student["id"], "relation_code": "51"}
    resp = admin.post("/api/v1/guardians", json={"name": "王芳", "links": [link, link | {"relation_code": "52"}]})
    assert resp.status_code == 422, resp.get_json()
    assert set(resp.get_json()["error"]["fields"]) == {"links.1.student_id"}
    guardian = _first(admin, f"/api/v1/students/{student['id']}/guardians")
    resp = admin.patch(f"/api/v1/guardians/{guardian['id']}", json={"links": [link, link]}, lang="en")
    assert resp.status_code == 422 and "already named" in resp.get_json()["error"]["fields"]["links.1.student_id"]


def test_a_link_added_to_a_guardian_takes_its_defaults(users):
    """A PATCH adding a link without `is_primary` (it defaults to false), and one without its relation (422)."""
    admin = users("school_admin", 0)
    students = admin.get("/api/v1/students?per_page=2").get_json()["items"]
    guardian = _first(admin, f"/api/v1/students/{students[0]['id']}/guardians")
    resp = admin.patch(f"/api/v1/guardians/{guardian['id']}",
                       json={"links": [{"student_id": students[1]["id"], "relation_code": "51"}]})
    assert resp.status_code == 200, resp.get_json()
    added = [ln for ln in resp.get_json()["links"] if ln["student_id"] == students[1]["id"]]
    assert added and added[0]["is_primary"] is False
    resp = admin.patch(f"/api/v1/guardians/{guardian['id']}", json={"links": [{"student_id": students[1]["id"]}]})
    assert resp.status_code == 422 and "links" in str(resp.get_json()["error"]["fields"])


def test_waiting_days_beyond_any_wait_is_no_error(users):
    """`GET /flow/tasks?waiting_days=5338044171` overflowed the date arithmetic (a 500): now simply no task."""
    teacher = users("homeroom_teacher", 0)
    resp = teacher.get("/api/v1/flow/tasks?waiting_days=5338044171")
    assert resp.status_code == 200 and resp.get_json()["tasks"] == []
