"""一生一档: one student's profile shows each role exactly its sections, the page and the API alike, and
nothing of a student out of reach."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from tests.points.conftest import installed, schools  # noqa: F401  (fixtures)

CORE = {"core.identity"}
STAFF = CORE | {"core.guardians", "core.alerts", "points.conduct"}
EXPECTED = {
    "school_admin": STAFF,
    "homeroom_teacher": STAFF,
    "psychology_teacher": STAFF,  # contacts families, works the alerts assigned to them
    "subject_teacher": CORE | {"points.conduct"},  # no guardians, no alert cases
    "life_instructor": CORE | {"core.alerts", "points.conduct"},
    "parent": CORE | {"points.conduct_own"},
    "student": CORE | {"points.conduct_own"},
}


def test_each_role_sees_exactly_its_sections(users, installed, db_session):  # noqa: F811
    from foundation.models import AuditEntry

    kid = users("parent", 0).get("/api/v1/me").get_json()["children"][0]
    seen = {}
    for role in EXPECTED:
        user = users(role, 0)
        api = user.get(f"/api/v1/students/{kid}/profile")
        assert api.status_code == 200, (role, api.get_json())
        seen[role] = {s["key"] for s in api.get_json()["sections"]}
        page = user.get(f"/students/{kid}").get_data(as_text=True)
        assert set(re.findall(r'data-section="([^"]+)"', page)) == seen[role], role
    assert seen == EXPECTED

    family = users("parent", 0).get(f"/students/{kid}").get_data(as_text=True)
    assert "/classes/" not in family  # the class is a name, not a link to a roster they cannot open
    teacher = users("homeroom_teacher", 0).get(f"/students/{kid}").get_data(as_text=True)
    assert 'href="/classes/' in teacher and "profile.css" in teacher
    # the sensitive sections are audited per reading
    reads = db_session.scalars(sa.select(AuditEntry.detail).where(AuditEntry.action == "profile.section.read",
                                                                  AuditEntry.resource_id == str(kid))).all()
    assert {d["section"] for d in reads} >= {"core.guardians", "core.alerts"}


@pytest.mark.parametrize("role,school", [("student_cadre", 0), ("homeroom_teacher", 1), ("parent", 1)])
def test_out_of_reach_is_not_found(users, role, school):
    kid = users("parent", 0).get("/api/v1/me").get_json()["children"][0]
    user = users(role, school)
    assert user.get(f"/students/{kid}").status_code == 404
    assert user.get(f"/api/v1/students/{kid}/profile").status_code == 404


def test_the_homeroom_teacher_messages_a_students_guardians_from_the_record(users, db_session):
    """给家长发消息 on the record opens the send form with this student's guardians chosen; the notice reaches
    them and no other family of the class. Staff who may not write to the class get no button."""
    from foundation.models import Account, GuardianLink, InboxItem
    from foundation.models.messages import Message

    parent = users("parent", 0)
    kid = parent.get("/api/v1/me").get_json()["children"][0]
    teacher = users("homeroom_teacher", 0)
    record = teacher.get(f"/students/{kid}").get_data(as_text=True)
    link = re.search(r'href="(/messages/send\?student=\d+)"', record)
    assert link and link.group(1).endswith(f"={kid}")
    form = teacher.get(link.group(1)).get_data(as_text=True)
    assert re.search(r'value="student" checked', form) and f'name="student_id" value="{kid}"' in form
    reach = teacher.get(f"/api/v1/messages/reach?kind=student&student_id={kid}").get_json()
    assert reach["students"] == 1 and reach["accounts"] >= 1 and reach["families_without_account"] == 0
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    sent = teacher.post("/messages/send", data={"csrf_token": token, "kind": "student", "student_id": str(kid),
                                                  "subject": "明天的家长会", "body": "请抽空来一趟，谢谢。"})
    assert sent.status_code == 302
    got = parent.get("/messages").get_data(as_text=True)
    assert "明天的家长会" in got
    reached = set(db_session.scalars(sa.select(Account.person_id).join(InboxItem, InboxItem.account_id == Account.id)
                                     .join(Message, Message.id == InboxItem.message_id)
                                     .where(Message.subject_zh == "明天的家长会")))
    guardians = set(db_session.scalars(sa.select(GuardianLink.guardian_id).where(GuardianLink.student_id == kid)))
    assert reached and reached <= guardians
    # a subject teacher sees the record but writes to no family from it; a teacher of the other school
    # cannot even name the student
    assert "/messages/send?student=" not in users("subject_teacher", 0).get(f"/students/{kid}").get_data(as_text=True)
    assert users("homeroom_teacher", 1).get(f"/messages/send?student={kid}").status_code == 404
    refused = users("homeroom_teacher", 1).get(f"/api/v1/messages/reach?kind=student&student_id={kid}")
    assert refused.status_code == 404


def test_times_are_read_on_the_district_clock():
    from datetime import datetime

    from foundation.shell import local_time

    assert local_time("2026-12-01T23:54:26Z") == "2026-12-02 07:54" == local_time(datetime(2026, 12, 1, 23, 54))
    assert local_time("2026-12-01T23:54:26", "%m-%d") == "12-02" and local_time(None) == ""
