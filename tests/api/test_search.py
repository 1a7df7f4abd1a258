"""The student search behind the pickers: by name, pinyin initials and student number, within the caller's
reach only (their classes, their school; never a family, never another school), audited once per search."""
from __future__ import annotations

import sqlalchemy as sa

from foundation.models import Account, AuditEntry, OrgUnit
from tests.conftest import login_of

S = "/api/v1/students/search"


def _classes(db_session, demo) -> tuple[int, int]:
    """The demo homeroom teacher's class and another class of the same school."""
    acct = db_session.scalar(sa.select(Account).where(Account.username == login_of(demo, "homeroom_teacher")))
    mine = next(m for m in acct.memberships if m.role == "homeroom_teacher")
    other = db_session.scalar(sa.select(OrgUnit.id).where(OrgUnit.kind == "class", OrgUnit.school_id == mine.school_id,
                                                          OrgUnit.id != mine.org_unit_id).order_by(OrgUnit.id))
    return mine.org_unit_id, other


def _add(admin, name: str, number: str, class_id: int) -> int:
    resp = admin.post("/api/v1/students", json={"student_no": number, "name": name, "sex_code": "1",
                                                "ethnicity_code": "01", "class_id": class_id})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["id"]


def _names(user, **query) -> set[str]:
    resp = user.get(S, query_string=query)
    assert resp.status_code == 200, resp.get_json()
    return {hit["name"] for hit in resp.get_json()["items"]}


def test_a_teacher_finds_their_students_by_name_initials_and_number(users, db_session, demo):
    mine, other = _classes(db_session, demo)
    admin = users("school_admin", 0)
    zhang = _add(admin, "张小明", "99990001", mine)
    _add(admin, "曾小明", "99990002", mine)  # 曾 as a surname reads zēng
    _add(admin, "张晓敏", "99990003", other)
    teacher = users("homeroom_teacher", 0)
    hits = teacher.get(S, query_string={"q": "zxm"}).get_json()["items"]
    assert {"张小明", "曾小明"} <= {h["name"] for h in hits} and "张晓敏" not in {h["name"] for h in hits}
    first = next(h for h in hits if h["id"] == zhang)
    assert set(first) == {"id", "name", "student_no", "class_id", "class_name"}  # never an ID-card number
    assert first["student_no"] == "99990001" and first["class_id"] == mine and first["class_name"]
    assert "曾小明" in _names(teacher, q="cxm") and {"张小明", "曾小明"} <= _names(teacher, q="小明")
    assert _names(teacher, q="9999000") == {"张小明", "曾小明"}  # the start of the number; not another class
    # the whole school for its admin; another class only for staff who hold it
    assert {"张小明", "曾小明", "张晓敏"} <= _names(admin, q="zxm")
    assert teacher.get(S, query_string={"q": "zxm", "class_id": other}).status_code == 404
    assert _names(admin, q="xm", class_id=other) >= {"张晓敏"}
    # one audit row per search (not per hit), naming what was returned
    before = db_session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)
                               .where(AuditEntry.action == "people.student.search"))
    teacher.get(S, query_string={"q": "zxm", "limit": 1})
    rows = db_session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "people.student.search")
                              .order_by(AuditEntry.id)).all()
    assert len(rows) == before + 1
    assert rows[-1].username == login_of(demo, "homeroom_teacher") and len(rows[-1].detail["returned"]) == 1


def test_families_cannot_search_and_another_school_never_finds(users, db_session, demo):
    mine, _ = _classes(db_session, demo)
    _add(users("school_admin", 0), "张小明", "99990001", mine)
    for role in ("parent", "student"):
        resp = users(role, 0).get(S, query_string={"q": "zxm"})
        assert resp.status_code == 403, (role, resp.get_json())
    for role in ("homeroom_teacher", "school_admin"):
        assert "张小明" not in _names(users(role, 1), q="zxm") | _names(users(role, 1), q="99990001")
    assert users("homeroom_teacher", 1).get(S, query_string={"q": "z", "class_id": mine}).status_code == 404


def test_bad_input_is_a_422_naming_the_field_in_both_languages(users, app):
    teacher = users("homeroom_teacher", 0)
    for query, field in (({"q": "z", "limit": "abc"}, "limit"), ({"q": "z", "limit": "0"}, "limit"),
                         ({"q": "z", "limit": "51"}, "limit"), ({"q": "张" * 41}, "q"), ({}, "q"),
                         ({"q": "z", "class_id": "x"}, "class_id"), ({"q": "z", "sort": "name"}, "sort")):
        for lang in ("zh", "en"):
            resp = teacher.get(S, query_string=query, lang=lang)
            assert resp.status_code == 422, (query, resp.get_json())
            assert field in resp.get_json()["error"]["fields"], (query, resp.get_json())
    spec = teacher.get("/api/v1/openapi.json").get_json()
    assert "get" in spec["paths"]["/students/search"]
