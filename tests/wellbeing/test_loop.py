"""A student's PHQ-9 through the API: item 9 = 1 with a low total raises a red case on the alert engine with
both deadlines, assigned to the homeroom teacher and the psychology teacher; the student reads a supportive
answer, never a score; a second submission, a bad answer and a closed window are 422s naming the field."""
from __future__ import annotations

import sqlalchemy as sa

ITEM9 = [0, 1, 0, 0, 1, 0, 0, 0, 1]  # total 3: minimal, but item 9 above 0


def test_item9_raises_a_red_case_with_both_deadlines(screening, users, db_session, demo):
    from foundation.models import AlertAssignee, AlertCase

    student = users("student")
    url = f"/wellbeing/api/screenings/{screening['id']}/responses"
    resp = student.post(url, json={"answers": ITEM9})
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert set(body) == {"ok", "support"} and "12355" in body["support"]["help_line"]  # no score, no level
    case = db_session.scalar(sa.select(AlertCase).where(AlertCase.student_id == screening["student_id"]))
    assert case.level == "red" and case.rule_key == "wellbeing.screening" and case.sensitive
    assert (case.contact_due_at - case.opened_at).total_seconds() == 3600
    assert (case.plan_due_at - case.opened_at).total_seconds() == 24 * 3600
    assert set(case.detail) <= {"screening", "scale", "occurrence"} and case.value is None  # the case carries no score
    roles = set(db_session.scalars(sa.select(AlertAssignee.role).where(AlertAssignee.case_id == case.id)))
    assert roles == {"homeroom_teacher", "psychology_teacher"}

    psych = users("psychology_teacher").get("/wellbeing/api/cases").get_json()
    mine = [c for c in psych["items"] if c["student_id"] == screening["student_id"]]
    assert mine and mine[0]["level"] == "red" and mine[0]["case_id"] == case.id and mine[0]["item9"] == 1
    assert mine[0]["contact_due_at"].endswith("Z") and mine[0]["plan_due_at"]
    homeroom = users("homeroom_teacher").get("/wellbeing/api/cases").get_json()
    row = next(c for c in homeroom["items"] if c["student_id"] == screening["student_id"])
    assert row["level"] == "red" and row["contact_due_at"] == mine[0]["contact_due_at"]
    assert "answers" not in row and "total" not in row and row["reasons"] is None  # levels, not answers

    again = student.post(url, json={"answers": [0] * 9})
    assert again.status_code == 422 and "student_id" in again.get_json()["error"]["fields"]


def test_bad_answers_are_422_naming_the_field(screening, users, db_session):
    from foundation.models import AlertCase

    url = f"/wellbeing/api/screenings/{screening['id']}/responses"
    for answers, why in (([0] * 8, "题目数量"), ([0] * 8 + [4], "0 到 3"), ("000000000", "题目数量")):
        resp = users("student").post(url, json={"answers": answers})
        assert resp.status_code == 422 and why in resp.get_json()["error"]["fields"]["answers"], resp.get_json()
    en = users("student").post(url, json={"answers": [True] * 9}, lang="en")
    assert "0 to 3" in en.get_json()["error"]["fields"]["answers"]
    assert users("student").post(url, json=[1]).status_code == 422
    assert db_session.scalar(sa.select(sa.func.count()).select_from(AlertCase)) == 0  # nothing half-written


def test_a_missed_contact_escalates_to_the_wellbeing_lead_then_the_principal(screening, users, app, db_session):
    from datetime import timedelta

    from foundation import db
    from foundation.alerts import sweep
    from foundation.models import AlertCase, AlertEscalation
    from foundation.tenancy import unscoped

    url = f"/wellbeing/api/screenings/{screening['id']}/responses"
    assert users("student").post(url, json={"answers": ITEM9}).status_code == 201
    case = db_session.scalar(sa.select(AlertCase).where(AlertCase.student_id == screening["student_id"]))
    with app.app_context():
        sess = unscoped("test: the scheduled pass").mark(db.session())
        assert sweep(sess, case.opened_at + timedelta(minutes=59)) == 0
        assert sweep(sess, case.opened_at + timedelta(hours=2, minutes=1)) == 2
        assert sweep(sess, case.opened_at + timedelta(hours=9)) == 0  # the chain ends at the principal
        sess.commit()
    steps = db_session.scalars(sa.select(AlertEscalation.role).where(AlertEscalation.case_id == case.id)
                               .order_by(AlertEscalation.step)).all()
    assert steps == ["wellbeing_lead", "principal"]


def test_scheduling_checks_every_field(installed, users, db_session, demo):
    from foundation.models import OrgUnit

    other = db_session.scalar(sa.select(OrgUnit.id).where(OrgUnit.kind == "class").order_by(OrgUnit.id.desc()))
    psych = users("psychology_teacher")
    bad = psych.post("/wellbeing/api/screenings", json={"instrument": "bdi", "opens_on": "2026-13-01",
                                                        "closes_on": 5, "class_ids": [other]})
    assert bad.status_code == 422
    assert set(bad.get_json()["error"]["fields"]) >= {"instrument", "opens_on", "closes_on", "class_ids"}
    window = psych.post("/wellbeing/api/screenings", json={"instrument": "phq9", "opens_on": "2026-12-10",
                                                           "closes_on": "2026-12-01", "grade_ids": []})
    assert set(window.get_json()["error"]["fields"]) == {"closes_on", "class_ids"}
    assert users("homeroom_teacher").post("/wellbeing/api/screenings", json={}).status_code == 404


def test_a_closed_case_leaves_the_workbench(screening, users, db_session):
    from foundation.models import AlertCase

    url = f"/wellbeing/api/screenings/{screening['id']}/responses"
    assert users("student").post(url, json={"answers": ITEM9}).status_code == 201
    case = db_session.scalar(sa.select(AlertCase.id).where(AlertCase.student_id == screening["student_id"]))
    psych = users("psychology_teacher")
    assert screening["student_id"] in {c["student_id"] for c in psych.get("/wellbeing/api/cases").get_json()["items"]}
    done = psych.post(f"/api/v1/alerts/cases/{case}/actions", json={"kind": "close", "outcome": "false_alarm",
                                                                   "note": "面谈后确认：误选"})
    assert done.status_code == 201, done.get_json()
    assert screening["student_id"] not in {c["student_id"] for c in psych.get("/wellbeing/api/cases").get_json()["items"]}
    history = psych.get(f"/wellbeing/api/students/{screening['student_id']}").get_json()["items"][0]
    assert history["case_closed_at"].endswith("Z") and history["level"] == "red"  # the history keeps it
