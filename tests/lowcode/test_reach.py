"""A form's student and class fields accept only what the submitter may report on (the platform's check,
for every form and every plugin): a parent their own children, a student themself, a teacher their
classes; an app's classes narrow it further. Refusals are 422 naming the field, and nothing is written."""
from __future__ import annotations

import sqlalchemy as sa

FORMS = "/api/v1/forms"
SCHEMA = {"type": "object", "required": ["student"],
          "properties": {"student": {"type": "string", "title": "学生", "x-jizuo-binding": "student"},
                         "note": {"type": "string", "maxLength": 50}}}
CLASS_SCHEMA = {"type": "object", "required": ["klass"],
                "properties": {"klass": {"type": "string", "title": "班级", "x-jizuo-binding": "class"}}}


def _publish(admin, schema=SCHEMA, app=None) -> int:
    form = admin.post(FORMS, json={"title": "情况登记", "schema": schema, "app": app or {}}).get_json()
    assert admin.post(f"{FORMS}/{form['id']}/publish").status_code == 201
    return form["id"]


def _people(db_session, demo):
    from foundation.models import Account, GuardianLink, Membership, Student
    from tests.conftest import login_of

    def account(role):
        return db_session.scalar(sa.select(Account).where(Account.username == login_of(demo, role)))

    me = db_session.get(Student, account("student").person_id)
    child = db_session.scalar(sa.select(Student).join(GuardianLink, GuardianLink.student_id == Student.id)
                              .where(GuardianLink.guardian_id == account("parent").person_id))
    taught = set(db_session.scalars(sa.select(Membership.org_unit_id).where(
        Membership.account_id == account("subject_teacher").id, Membership.role == "subject_teacher")))
    in_taught = db_session.scalar(sa.select(Student).where(Student.class_id.in_(taught)).limit(1))
    untaught = db_session.scalar(sa.select(Student).where(Student.school_id == me.school_id,
                                                          Student.class_id.not_in(taught)).limit(1))
    stranger = db_session.scalar(sa.select(Student).where(Student.school_id == me.school_id,
                                                          Student.id.not_in([me.id, child.id]),
                                                          Student.class_id != me.class_id).limit(1))
    return {"me": me, "child": child, "in_taught": in_taught, "untaught": untaught, "stranger": stranger}


def _count(db_session, form_id: int) -> int:
    from foundation.models import Submission

    db_session.expire_all()
    return db_session.scalar(sa.select(sa.func.count()).select_from(Submission).where(Submission.form_id == form_id))


def _send(user, form_id: int, student) -> tuple[int, dict]:
    resp = user.post(f"{FORMS}/{form_id}/submissions", json={"data": {"student": student.student_no}})
    return resp.status_code, resp.get_json()


def test_each_role_names_only_the_students_it_reaches(users, db_session, demo):
    form = _publish(users("school_admin", 0))
    who = _people(db_session, demo)
    refusals = [("student", who["stranger"]), ("parent", who["stranger"]), ("subject_teacher", who["untaught"]),
                ("homeroom_teacher", who["stranger"] if who["stranger"].class_id != who["me"].class_id else None)]
    for role, student in refusals:
        if student is None:
            continue
        status, body = _send(users(role, 0), form, student)
        assert status == 422 and list(body["error"]["fields"]) == ["student"], (role, body)
    assert _count(db_session, form) == 0  # nothing half-written
    accepted = [("student", who["me"]), ("parent", who["child"]), ("subject_teacher", who["in_taught"])]
    for role, student in accepted:
        status, body = _send(users(role, 0), form, student)
        assert status == 201, (role, body)
        assert body["student_id"] == student.id and body["class_id"] == student.class_id  # the one named
    assert _count(db_session, form) == 3


def test_an_apps_classes_narrow_the_reach_and_a_class_field_is_checked_too(users, db_session, demo):
    who = _people(db_session, demo)
    admin = users("school_admin", 0)
    # published to the student's class only: the school admin (whole school) may name only that class
    narrow = _publish(admin, app={"audience": {"classes": [who["me"].class_id]}})
    assert _send(admin, narrow, who["stranger"])[0] == 422
    assert _send(admin, narrow, who["me"])[0] == 201
    # a class field: a parent names their child's class, not another
    from foundation.models import OrgUnit

    codes = dict(db_session.execute(sa.select(OrgUnit.id, OrgUnit.code).where(OrgUnit.kind == "class")).all())
    by_class = _publish(admin, schema=CLASS_SCHEMA)
    parent = users("parent", 0)
    resp = parent.post(f"{FORMS}/{by_class}/submissions", json={"data": {"klass": codes[who["stranger"].class_id]}})
    assert resp.status_code == 422 and list(resp.get_json()["error"]["fields"]) == ["klass"]
    resp = parent.post(f"{FORMS}/{by_class}/submissions", json={"data": {"klass": codes[who["child"].class_id]}})
    assert resp.status_code == 201, resp.get_json()


def test_the_event_carries_the_student_named(app, users, db_session, demo):
    from foundation import events

    who = _people(db_session, demo)
    form = _publish(users("school_admin", 0))
    seen: list[dict] = []
    stop = events.subscribe("lowcode.submission.created", lambda _e, payloads: seen.extend(payloads))
    try:
        assert _send(users("parent", 0), form, who["child"])[0] == 201
    finally:
        stop()
    assert [(p["student_id"], p["class_id"], p["student_no"]) for p in seen] == [
        (who["child"].id, who["child"].class_id, who["child"].student_no)]
