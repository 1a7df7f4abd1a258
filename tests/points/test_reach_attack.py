"""The attack an outside client found: a student deducting a classmate's conduct points through the hygiene
form. The platform now checks a form's student field against the submitter's reach before anything is
written; the hygiene template is filled only by those who record hygiene (homeroom teachers, life
instructors, student cadres, school admins). One test per role, each checking that nothing was written."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from plugins.points.models import entries as ledger
from tests.points.conftest import sample_student

FORMS = "/api/v1/forms"


@pytest.fixture
def hygiene(app, installed, users) -> int:
    """The district-level hygiene template (the form the attack used), as every school sees it."""
    from foundation import db
    from foundation.lowcode.forms import seed_templates
    from foundation.tenancy import unscoped

    with app.app_context():
        seed_templates(unscoped("test setup").mark(db.session()))
        db.session().commit()
    forms = users("homeroom_teacher", 0).get(FORMS).get_json()["items"]
    return next(f["id"] for f in forms if f["title"]["zh"] == "德育卫生评分（个人）")


@pytest.fixture
def people(db_session, demo):
    """The sample student and a classmate, a student of another class of the school, one of school 2."""
    from foundation.models import Student

    kid = sample_student(db_session, demo)
    cadre = sample_student(db_session, demo, role="student_cadre")
    mates = db_session.scalars(sa.select(Student).where(Student.class_id == kid.class_id,
                                                        Student.id.not_in([kid.id, cadre.id]))).all()
    other_class = db_session.scalar(sa.select(Student).where(Student.school_id == kid.school_id,
                                                             Student.class_id != kid.class_id).limit(1))
    # student numbers are unique per school only (the demo numbers both schools alike): give a student of
    # school 2 a number school 1 does not have, or naming it would name one of school 1's own students
    other_school = db_session.scalar(sa.select(Student).where(Student.school_id != kid.school_id).limit(1))
    other_school.student_no = "B-20269999"
    db_session.commit()
    return {"kid": kid, "mate": mates[0], "other_class": other_class, "other_school": other_school}


def _written(db_session, student) -> tuple[int, int]:
    """(hygiene entries of the student, submissions naming the student's number)."""
    from foundation.models import Submission

    db_session.expire_all()
    entries = db_session.scalar(sa.select(sa.func.count()).select_from(ledger).where(
        ledger.c.student_id == student.id, ledger.c.rule_code == "hygiene"))
    subs = sum(1 for data in db_session.scalars(sa.select(Submission.data))
               if isinstance(data, dict) and data.get("student") == student.student_no)
    return entries, subs


def _fill(user, form_id: int, student, score: int = 0):
    return user.post(f"{FORMS}/{form_id}/submissions",
                     json={"data": {"student": student.student_no, "date": "2026-12-02", "score": score}})


def _refused_422(resp) -> None:
    assert resp.status_code == 422, resp.get_json()
    assert list(resp.get_json()["error"]["fields"]) == ["student"]


def _untaught(db_session, demo, kid):
    """A student of the school in a class the demo's subject teacher does not teach."""
    from foundation.models import Account, Membership, Student
    from tests.conftest import login_of

    teacher = db_session.scalar(sa.select(Account.id).where(Account.username == login_of(demo, "subject_teacher")))
    taught = sa.select(Membership.org_unit_id).where(Membership.account_id == teacher)
    return db_session.scalar(sa.select(Student).where(Student.school_id == kid.school_id,
                                                      Student.class_id.not_in(taught)).limit(1))


@pytest.mark.parametrize("role", ["student", "parent", "subject_teacher"])
def test_who_does_not_record_hygiene_cannot_fill_the_form(role, hygiene, users, people, db_session, demo):
    """The attack itself — naming a classmate (or, for a subject teacher, a student of a class not theirs) —
    is refused on the field, 422; naming one's own (child, student) is refused because these roles do not
    record hygiene, 403. Nothing is written either way."""
    target = _untaught(db_session, demo, people["kid"]) if role == "subject_teacher" else people["mate"]
    _refused_422(_fill(users(role, 0), hygiene, target))
    assert _written(db_session, target) == (0, 0)
    own = people["kid"] if role != "subject_teacher" else people["mate"]  # the sample class is taught by them
    assert _fill(users(role, 0), hygiene, own).status_code == 403
    assert _written(db_session, own) == (0, 0)


def test_a_cadre_scores_classmates_only(hygiene, users, people, db_session):
    cadre = users("student_cadre", 0)
    _refused_422(_fill(cadre, hygiene, people["other_class"]))
    _refused_422(_fill(cadre, hygiene, people["other_school"]))
    assert _written(db_session, people["other_class"]) == (0, 0)
    assert _fill(cadre, hygiene, people["mate"], score=10).status_code == 201
    assert _written(db_session, people["mate"]) == (1, 1)


def test_a_homeroom_teacher_scores_their_own_class_only(hygiene, users, people, db_session):
    teacher = users("homeroom_teacher", 0)
    _refused_422(_fill(teacher, hygiene, people["other_class"]))
    assert _written(db_session, people["other_class"]) == (0, 0)
    resp = _fill(teacher, hygiene, people["kid"], score=5)
    assert resp.status_code == 201
    # the submission is about the student the data names, not the submitter; the entry is theirs
    assert resp.get_json()["student_id"] == people["kid"].id
    assert _written(db_session, people["kid"]) == (1, 1)


def test_a_life_instructor_reaches_the_school_but_not_another(hygiene, users, people, db_session):
    life = users("life_instructor", 0)
    _refused_422(_fill(life, hygiene, people["other_school"]))
    assert _written(db_session, people["other_school"]) == (0, 0)
    assert _fill(life, hygiene, people["other_class"], score=9).status_code == 201
    assert _written(db_session, people["other_class"]) == (1, 1)


def test_an_unknown_number_reads_like_one_out_of_reach(hygiene, users, people):
    resp = users("homeroom_teacher", 0).post(f"{FORMS}/{hygiene}/submissions", json={"data": {
        "student": "no-such-number", "date": "2026-12-02", "score": 3}})
    _refused_422(resp)
    assert "学号" in resp.get_json()["error"]["fields"]["student"]
