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
