"""PIPL: an under-14 student without a guardian's consent is listed as awaiting consent and cannot be
screened (own account or bulk); the guardian is asked through the message center, answers on the portal, and
then the student can answer. The reminder reaches only students who may answer and have not. The retention
job purges screening data past the school's period."""
from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from tests.wellbeing.conftest import sample_student, set_birth


def _schedule(users, class_id: int) -> int:
    today = date.today()
    resp = users("psychology_teacher").post("/wellbeing/api/screenings", json={
        "instrument": "gad7", "class_ids": [class_id], "opens_on": today.isoformat(),
        "closes_on": (today + timedelta(days=2)).isoformat()})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["id"]


def test_an_under_14_without_consent_is_not_screened(installed, users, db_session, demo):
    from foundation.models import Message
    from plugins.wellbeing.models import Response

    kid = sample_student(db_session, demo)
    set_birth(db_session, kid.id, 12)
    scr = _schedule(users, kid.class_id)
    roster = {k["id"]: k["state"] for k in users("psychology_teacher").get(f"/wellbeing/api/screenings/{scr}")
              .get_json()["students"]}
    assert roster[kid.id] == "awaiting_consent"
    asked = db_session.scalar(sa.select(Message).where(Message.type_key == "wellbeing.consent_request")
                              .order_by(Message.id.desc()))
    assert asked is not None and asked.link == "/wellbeing/consent"
    parent_inbox = users("parent").get("/api/v1/messages/inbox").get_json()["items"]
    assert any(i["link"] == "/wellbeing/consent" for i in parent_inbox)

    seven = [1, 2, 0, 1, 0, 1, 0]
    refused = users("student").post(f"/wellbeing/api/screenings/{scr}/responses", json={"answers": seven})
    assert refused.status_code == 422 and "14" in refused.get_json()["error"]["fields"]["student_id"]
    bulk = users("psychology_teacher").post(f"/wellbeing/api/screenings/{scr}/responses/bulk",
                                            json={"responses": [{"student_id": kid.id, "answers": seven}]})
    assert bulk.status_code == 422 and "responses" not in bulk.get_json()["error"]["fields"]
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Response)) == 0
    assert "监护人" in users("student").get(f"/wellbeing/screenings/{scr}/fill").get_data(as_text=True)

    # the guardian says no, then yes, on the portal
    parent = users("parent")
    assert kid.id in {k["student_id"] for k in parent.get("/wellbeing/api/consents").get_json()["items"]}
    assert parent.post(f"/wellbeing/api/consents/{kid.id}", json={"granted": "yes"}).status_code == 422
    assert parent.post(f"/wellbeing/api/consents/{kid.id}", json={"granted": False}).get_json()["state"] == "refused"
    assert users("student").post(f"/wellbeing/api/screenings/{scr}/responses", json={"answers": seven}).status_code == 422
    assert users("parent", 1).post(f"/wellbeing/api/consents/{kid.id}", json={"granted": True}).status_code == 404
    assert parent.post(f"/wellbeing/api/consents/{kid.id}", json={"granted": True}).get_json()["state"] == "granted"
    ok = users("student").post(f"/wellbeing/api/screenings/{scr}/responses",
                               json={"answers": seven})
    assert ok.status_code == 201, ok.get_json()
    row = db_session.scalar(sa.select(Response).where(Response.student_id == kid.id))
    assert row.total == 5 and row.band == "mild" and row.level is None


def test_reminder_and_retention(screening, users, db_session, demo, app, runner):
    from foundation.models import InboxItem, Message, Student
    from plugins.wellbeing.models import Response

    sid, scr = screening["student_id"], screening["id"]
    assert users("student").post(f"/wellbeing/api/screenings/{scr}/responses", json={"answers": [0] * 9}).status_code == 201
    reminded = users("psychology_teacher").post(f"/wellbeing/api/screenings/{scr}/remind").get_json()["reminded"]
    classmates = db_session.scalar(sa.select(sa.func.count()).select_from(Student).where(
        Student.class_id == screening["class_id"], Student.status_code == "01"))
    assert 0 < reminded < classmates
    msg = db_session.scalar(sa.select(Message).where(Message.type_key == "wellbeing.reminder"))
    from foundation.models import Account

    me = db_session.scalar(sa.select(Account.id).where(Account.person_kind == "student", Account.person_id == sid))
    got = set(db_session.scalars(sa.select(InboxItem.account_id).where(InboxItem.message_id == msg.id)))
    assert got and me not in got  # the student who answered is not reminded

    from foundation.models import JobRun
    from plugins.wellbeing.models import Screening

    db_session.execute(sa.update(Screening).values(closes_on=date.today() + timedelta(days=1)))
    db_session.commit()
    auto = runner.invoke(["jobs", "run", "wellbeing.remind"])  # the daily job, on the window's last two days
    assert auto.exit_code == 0 and "FAILED" not in auto.output, auto.output
    outcome = db_session.scalar(sa.select(JobRun.detail).where(JobRun.job == "wellbeing.remind",
                                                                JobRun.school_id == screening["school_id"]))
    assert outcome == {"screenings": 1, "reminded": reminded}, outcome

    old = db_session.get(Response, db_session.scalar(sa.select(Response.id).where(Response.student_id == sid)))
    old.submitted_at = old.submitted_at - timedelta(days=2000)
    db_session.commit()
    result = runner.invoke(["jobs", "run", "wellbeing.purge"])
    assert result.exit_code == 0, result.output
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Response)) == 0
