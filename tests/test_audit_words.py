"""The audit log in words: actions and records named in the reader's language (a student by masked name and
class, a plugin's action by the plugin's own words), unknown codes as themselves; filters by kind, person,
dates and record, with 422 naming the field; pages; the district's view keeps students nameless; reading the
log is itself recorded."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from tests.conftest import login_of


def _kid(db_session, demo):
    from foundation.models import Account, OrgUnit, Student

    acct = db_session.scalar(sa.select(Account).where(Account.username == login_of(demo, "student")))
    kid = db_session.scalar(sa.select(Student).where(Student.id == acct.person_id))
    return kid, db_session.scalar(sa.select(OrgUnit).where(OrgUnit.id == kid.class_id))


def test_the_log_reads_in_words_in_both_languages(users, db_session, demo):
    from foundation.models import AuditEntry

    kid, klass = _kid(db_session, demo)
    admin = users("school_admin", 0)
    assert admin.get(f"/api/v1/students/{kid.id}").status_code == 200
    masked = kid.name[0] + "*" * (len(kid.name) - 2) + kid.name[-1] if len(kid.name) > 2 else kid.name[0] + "*"
    db_session.add_all([
        AuditEntry(action="vendor.widget.polish", resource_type="widget", resource_id="9", school_id=kid.school_id,
                   username="robot", at=datetime(2026, 9, 7, 2, 0)),
        AuditEntry(action="points.entry.create", resource_type="points_entry", resource_id="5",
                   school_id=kid.school_id, username=login_of(demo, "homeroom_teacher"), at=datetime(2026, 9, 8, 1, 0)),
    ])
    db_session.commit()

    zh = admin.get("/api/v1/audit?per_page=500", lang="zh").get_json()["items"]
    read = next(e for e in zh if e["action"] == "people.student.read")
    assert read["action_text"] == "查看学生档案" and read["area_text"] == "人员档案"
    assert read["resource_text"] == f"{masked}（{klass.name}）" and kid.name not in str(zh)
    assert read["who"] != read["username"]  # the person's name, not their login
    en = admin.get("/api/v1/audit?per_page=500", lang="en").get_json()["items"]
    read = next(e for e in en if e["action"] == "people.student.read")
    assert read["action_text"] == "Viewed a student record" and read["resource_text"] == f"{masked} ({klass.name_en})"
    unknown = next(e for e in en if e["action"] == "vendor.widget.polish")
    assert (unknown["action_text"], unknown["resource_text"]) == ("vendor.widget.polish", "widget #9")
    points = next(e for e in zh if e["action"] == "points.entry.create")  # a plugin's words, from its catalogue
    assert (points["action_text"], points["resource_text"]) == ("记录德育积分", "积分记录 #5")

    page = admin.get("/audit").get_data(as_text=True)
    assert "查看学生档案" in page and f"{masked}（{klass.name}）" in page and "2026-09-07 10:00:00" in page  # local time
    assert "Viewed a student record" in admin.get("/audit?lang=en").get_data(as_text=True)


def test_filters_paging_and_errors(users, db_session, demo):
    from foundation.models import AuditEntry

    kid, _ = _kid(db_session, demo)
    admin = users("school_admin", 0)
    teacher = login_of(demo, "homeroom_teacher")
    db_session.add_all([AuditEntry(action="people.student.read", resource_type="student", resource_id=str(kid.id),
                                   school_id=kid.school_id, username=teacher, at=datetime(2026, 9, day, 3, 0))
                        for day in (1, 2, 3)])  # 11:00 in Shanghai on 1, 2 and 3 September
    db_session.add(AuditEntry(action="plugins.disable", resource_type="plugin", resource_id="points",
                              school_id=kid.school_id, username="x", at=datetime(2026, 9, 2, 3, 0),
                              detail={"reason": "暂停一周"}))
    db_session.commit()

    def items(query: str) -> list[dict]:
        resp = admin.get(f"/api/v1/audit?{query}")
        assert resp.status_code == 200, resp.get_json()
        return resp.get_json()["items"]

    assert {e["action"] for e in items("kind=plugins")} == {"plugins.disable"}
    assert items("kind=plugins")[0]["reason"] == "暂停一周"
    assert len(items(f"who={teacher}&kind=people.student.read")) == 3
    assert [e["at"][:10] for e in items(f"who={teacher}&since=2026-09-02&until=2026-09-02")] == ["2026-09-02"]
    assert len(items(f"resource_type=student&resource_id={kid.id}&who={teacher}")) == 3
    second = admin.get(f"/api/v1/audit?who={teacher}&per_page=2&page=2").get_json()
    assert second["total"] == 3 and len(second["items"]) == 1

    for query, field, words in (("since=2026-13-01", "since", "不是有效的日期"), ("since=2026-09-03&until=2026-09-01",
                                                                              "until", "结束日期不能早于开始日期")):
        resp = admin.get(f"/api/v1/audit?{query}")
        assert resp.status_code == 422 and words in resp.get_json()["error"]["fields"][field]
    english = admin.get("/api/v1/audit?since=nope", lang="en")
    assert english.status_code == 422 and "not a valid date" in english.get_json()["error"]["fields"]["since"]

    page = admin.get(f"/audit?who={teacher}&since=2026-09-02").get_data(as_text=True)
    assert "共 2 条记录" in page
    bad = admin.get("/audit?until=2026-02-30")
    assert bad.status_code == 422 and "结束日期：不是有效的日期" in bad.get_data(as_text=True)
    assert "共 1 条记录" in admin.get("/audit?kind=plugins").get_data(as_text=True)
    db_session.add_all([AuditEntry(action="vendor.bulk", school_id=kid.school_id, username="robot") for _ in range(51)])
    db_session.commit()
    first = admin.get("/audit?kind=vendor").get_data(as_text=True)
    assert "第 1 / 2 页" in first and 'href="?kind=vendor&amp;page=2" rel="next"' in first
    assert first.count('data-action="vendor.bulk"') == 50
    assert admin.get("/audit?kind=vendor&page=2").get_data(as_text=True).count('data-action="vendor.bulk"') == 1


def test_district_view_keeps_students_nameless_and_reading_is_recorded(users, db_session, demo):
    from foundation.models import AuditEntry

    kid, _ = _kid(db_session, demo)
    users("school_admin", 0).get(f"/api/v1/students/{kid.id}")
    district = users("district_admin")
    entries = district.get("/api/v1/audit?kind=people.student.read&per_page=500").get_json()["items"]
    read = next(e for e in entries if e["resource_id"] == str(kid.id))
    assert read["resource_text"] == f"学生 #{kid.id}" and read["school_text"]
    page = district.get("/audit?kind=people").get_data(as_text=True)
    assert f"学生 #{kid.id}" in page and kid.name[1:] not in page
    assert users("homeroom_teacher", 0).get("/api/v1/audit").status_code == 403
    assert users("homeroom_teacher", 0).get("/audit").status_code in (302, 403)
    seen = db_session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "audit.read")).all()
    assert {e.username for e in seen} >= {login_of(demo, "district_admin")}
    assert any((e.detail or {}).get("filters", {}).get("kind") == "people" for e in seen)


def test_a_long_resource_id_is_kept_whole_in_detail(app, db_session):
    """The column holds 64 characters; a longer id (one taken from a URL) must not fail the request."""
    import sqlalchemy as sa

    from foundation import db
    from foundation.audit import record
    from foundation.models import AuditEntry

    with app.test_request_context("/api/v1/standards/libraries/" + "L" * 100):
        record("standards.library.read", "library", "L" * 100)
        db.session().commit()
    row = db_session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "standards.library.read"))
    assert len(row.resource_id) == 64 and row.resource_id.endswith("…") and row.detail["resource_id"] == "L" * 100
