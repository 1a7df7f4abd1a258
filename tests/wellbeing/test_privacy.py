"""Need to know, role by role, in the API, the pages and the profile: after a red screening, the psychology
teacher reads the answers, the student's homeroom teacher the level and deadlines only; a subject teacher,
the parent, another student, another class's homeroom teacher, the school admin's district colleague and
another school's psychology teacher get 404 on every route of it, and see no section of it in the profile.
Every read is audited."""
from __future__ import annotations

import sqlalchemy as sa

from tests.conftest import PASSWORD, AuthActions
from tests.wellbeing.test_loop import ITEM9


def _other_homeroom(app, db_session, school_id: int, class_id: int) -> AuthActions:
    """A homeroom teacher of another class of the same school, logged in."""
    from foundation.models import Account, Membership

    name = db_session.scalar(sa.select(Account.username).join(Membership, Membership.account_id == Account.id).where(
        Membership.role == "homeroom_teacher", Membership.school_id == school_id, Membership.org_unit_id != class_id)
        .order_by(Account.id).limit(1))
    auth = AuthActions(app.test_client())
    assert auth.login(name, PASSWORD).status_code == 302
    return auth


def test_each_role_sees_only_what_it_needs(app, screening, users, db_session, demo):
    from foundation.models import AlertCase, AuditEntry

    sid, scr = screening["student_id"], screening["id"]
    assert users("student").post(f"/wellbeing/api/screenings/{scr}/responses", json={"answers": ITEM9}).status_code == 201
    case = db_session.scalar(sa.select(AlertCase.id).where(AlertCase.student_id == sid))

    psych = users("psychology_teacher")
    full = psych.get(f"/wellbeing/api/students/{sid}").get_json()
    assert full["kind"] == "full" and full["items"][0]["answers"] == ITEM9 and full["items"][0]["total"] == 3
    page = psych.get(f"/wellbeing/students/{sid}").get_data(as_text=True)
    assert "有不如死掉或用某种方式伤害自己的念头" in page and "wb-flag" in page
    assert psych.get(f"/wellbeing/screenings/{scr}").status_code == 200
    prof = {s["key"]: s for s in psych.get(f"/api/v1/students/{sid}/profile").get_json()["sections"]}
    assert "wellbeing.full" in prof and "wellbeing.levels" not in prof

    homeroom = users("homeroom_teacher")
    levels = homeroom.get(f"/wellbeing/api/students/{sid}").get_json()
    assert levels["kind"] == "levels" and levels["items"][0]["level"] == "red"
    assert not {"answers", "total", "band", "item9"} & set(levels["items"][0])
    page = homeroom.get(f"/wellbeing/students/{sid}").get_data(as_text=True)
    assert "伤害自己" not in page and "wb-total" not in page and f"/alerts/{case}" in page
    prof = {s["key"] for s in homeroom.get(f"/api/v1/students/{sid}/profile").get_json()["sections"]}
    assert "wellbeing.levels" in prof and "wellbeing.full" not in prof
    assert homeroom.get(f"/wellbeing/api/screenings/{scr}").status_code == 404  # the roster is the psychology staff's

    outsiders = {"subject_teacher": users("subject_teacher"), "parent": users("parent"),
                 "other student": users("student_cadre"), "school admin": users("school_admin"),
                 "principal": users("principal"), "grade head": users("grade_head"),
                 "district": users("district_admin"), "other school's psychology": users("psychology_teacher", 1),
                 "other class's homeroom": _other_homeroom(app, db_session, screening["school_id"], screening["class_id"])}
    for who, user in outsiders.items():
        for url in (f"/wellbeing/api/students/{sid}", f"/wellbeing/students/{sid}", f"/wellbeing/api/screenings/{scr}",
                    f"/wellbeing/screenings/{scr}"):
            assert user.get(url).status_code == 404, (who, url)
        listed = user.get("/wellbeing/api/screenings")
        assert listed.status_code == 404 or scr not in {s["id"] for s in listed.get_json()["items"]}, who
        cases = user.get("/wellbeing/api/cases")
        assert cases.status_code == 404 or sid not in {c["student_id"] for c in cases.get_json()["items"]}, who
        bulk = user.post(f"/wellbeing/api/screenings/{scr}/bulk", json={"responses": []})
        assert bulk.status_code in (404, 405), who
        prof = user.get(f"/api/v1/students/{sid}/profile")
        if prof.status_code == 200:
            assert not [s for s in prof.get_json()["sections"] if s["key"].startswith("wellbeing.")], who
    for who in ("subject_teacher", "parent", "other student"):  # the alert engine hides the case from them too
        assert outsiders[who].get(f"/api/v1/alerts/cases/{case}").status_code == 404, who
        assert outsiders[who].get(f"/alerts/{case}").status_code == 404, who
    # the student answered and reads nothing back about themself
    assert users("student").get(f"/wellbeing/api/students/{sid}").status_code == 404

    reads = db_session.execute(sa.select(AuditEntry.action, AuditEntry.detail).where(
        AuditEntry.action.in_(("wellbeing.student.read", "profile.section.read")))).all()
    assert {"full", "levels"} <= {d.get("kind") for a, d in reads if a == "wellbeing.student.read"}
    assert {"wellbeing.full", "wellbeing.levels"} <= {d.get("section") for a, d in reads if a == "profile.section.read"}


def test_demo_and_district_figures(installed, users, app, db_session, demo):
    """The demo screening opens the psychology teacher's day with red and yellow cases; the district sees counts
    per level per school, never a student, small groups suppressed."""
    from foundation.models import AlertCase, OrgUnit
    from foundation.plugin_runtime import demo_data

    schools = sorted(db_session.scalars(sa.select(OrgUnit.id).where(OrgUnit.kind == "school")))
    with app.app_context():
        demo_data("wellbeing", schools, seed=7)
    levels = dict(db_session.execute(sa.select(AlertCase.level, sa.func.count()).where(
        AlertCase.rule_key == "wellbeing.screening", AlertCase.school_id == schools[1]).group_by(AlertCase.level)).all())
    assert levels.get("red", 0) >= 1 and levels.get("yellow", 0) >= 1, levels
    signalled = db_session.scalar(sa.select(sa.func.count()).select_from(AlertCase).where(
        AlertCase.rule_key == "wellbeing.signals"))
    assert signalled >= 2  # the demo's withdrawing students, found by one pass of the signal scan
    home = users("psychology_teacher", 1).get("/wellbeing/").get_data(as_text=True)  # the junior high school
    assert 'data-level="red"' in home and 'data-level="yellow"' in home

    figs = users("district_admin").get("/api/v1/district/figures").get_json()
    fig = next(f for f in figs["items"] if f["key"] == "wellbeing.levels")
    assert fig["sensitive"] is True and len(fig["schools"]) == 2
    for school in fig["schools"]:
        cells = {c["group"]["level"]: c for c in school["cells"]}
        assert set(cells) == {"none", "yellow", "red"}, fig
        assert all(c["count"] is None or c["count"] >= 5 for c in cells.values())  # small groups suppressed
        assert "student" not in str(school["cells"])
