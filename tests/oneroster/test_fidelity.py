"""What an import does with what it keeps, on the real bundles: a teacher enrolled in a subject class
reaches its students, the school calendar knows the terms, and the messages say what happened."""
from __future__ import annotations

import io
import zipfile
from datetime import date

import sqlalchemy as sa

from foundation.alerts.calendar import load_clock
from foundation.auth import load_principal
from foundation.models import AcademicSession, Account, OrgUnit, Student
from foundation.oneroster import import_bundle
from foundation.services.people import teachers_of_class
from tests.oneroster.support import SECRET


def edited(path, **changes: tuple[str, str]) -> bytes:
    """The bundle with one text replacement per file (``users_csv=("agentSourcedIds", "agents")``)."""
    out = io.BytesIO()
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            data = src.read(name).decode()
            old, new = changes.get(name.rsplit("/", 1)[-1].replace(".", "_"), ("", ""))
            dst.writestr(name, data.replace(old, new, 1) if old else data)
    return out.getvalue()


def test_subject_teacher_reaches_subject_class_students(app, db_session, messy_zip):
    school = db_session.scalar(sa.select(OrgUnit).where(OrgUnit.kind == "school").order_by(OrgUnit.id).limit(1))
    import_bundle(db_session, messy_zip, school_code=school.code, secret_key=SECRET)
    db_session.commit()
    john = db_session.scalar(sa.select(Account).where(Account.username == "john.doe"))
    physics = db_session.scalar(sa.select(OrgUnit).where(OrgUnit.name == "Introduction to Physics"))
    with app.test_request_context():
        scope = load_principal(john.id).scope()  # what the tenancy layer adds to each of his queries:
        seen = set(db_session.scalars(sa.select(Student.name).where(Student.tenant_criteria(scope))))
        assert teachers_of_class(physics.id, "en") == [("Subject teacher", ["John Doe"])]
    # mmichel attends Physics as a subject class (no homeroom): John sees her and nobody else's students
    assert seen == {"mmichel Jones"}


def test_terms_make_the_vacations_of_the_school_calendar(db_session, clean_zip):
    school = db_session.scalar(sa.select(OrgUnit).where(OrgUnit.kind == "school").order_by(OrgUnit.id).limit(1))
    # the clean bundle's one semester, and a second one after a winter break (the bundle as a delta)
    bundle = edited(clean_zip, academicSessions_csv=(
        "ACAD_SESS_1,", "ACAD_SESS_2,active,2023-10-02T00:00:00.000Z,Semester 2,semester,2024-02-26,2024-07-05,,2023\n"
                        "ACAD_SESS_1,"))
    report = import_bundle(db_session, bundle, school_code=school.code, secret_key=SECRET)
    assert report.errors == [] and report.counts["academicSession"]["created"] == 2
    assert all(s.school_id == school.id for s in db_session.scalars(sa.select(AcademicSession)))
    clock = load_clock(db_session, school.id)
    assert clock.is_school_day(date(2024, 1, 26))  # a Friday of term
    assert not clock.is_school_day(date(2024, 2, 1))  # a Thursday of the winter break
    assert clock.is_school_day(date(2024, 2, 26))
    assert clock.is_school_day(date(2025, 3, 3))  # after the last term: the usual week


def test_messages_say_what_happened(fresh, clean_zip, messy_zip):
    # a department with a blank parent
    report = import_bundle(fresh, edited(messy_zip, orgs_csv=(",org-sch-222-3456", ",")), secret_key=SECRET)
    msg = [i.message for i in report.errors if i[:3] == ("orgs.csv", 2, "parentSourcedId")]
    assert msg == ["no parent org (parentSourcedId is blank): a department needs its school; give --school-code "
                   "to place it"]
    # 1.0 names: users.agents and demographics.userSourcedId, each read and said once, no error
    report = import_bundle(fresh, edited(clean_zip, users_csv=("agentSourcedIds", "agents"),
                                         demographics_csv=("sourcedId", "userSourcedId")), secret_key=SECRET)
    assert report.errors == []
    said = [(i.file, i.column, i.message) for i in report.warnings if "1.0" in i.message]
    assert said == [("users.csv", "agents", "OneRoster 1.0 column name: read as 'agentSourcedIds'"),
                    ("demographics.csv", "userSourcedId", "OneRoster 1.0 column name: read as 'sourcedId'")]
    assert fresh.scalar(sa.select(Student.birth_date)) == date(2010, 4, 17)  # demographics were read


def test_school_under_a_school_is_placed_and_said(fresh, clean_zip):
    bundle = edited(clean_zip, orgs_csv=("ORG_1,active,2023-10-02T00:00:00.000Z,Gotham High School,school,,",
                                         "ORG_0,active,2023-10-02T00:00:00.000Z,Gotham Academy,school,,\n"
                                         "ORG_1,active,2023-10-02T00:00:00.000Z,Gotham High School,school,,ORG_0"))
    report = import_bundle(fresh, bundle, secret_key=SECRET)
    assert report.errors == []
    [msg] = [i.message for i in report.warnings if i[:3] == ("orgs.csv", 3, "parentSourcedId")]
    assert "another school" in msg and "placed" in msg
    high = fresh.scalar(sa.select(OrgUnit).where(OrgUnit.name == "Gotham High School"))
    assert fresh.get(OrgUnit, high.parent_id).kind == "district"


def test_atomic_summary_says_nothing_was_written(db_session, messy_zip):
    school = db_session.scalar(sa.select(OrgUnit.code).where(OrgUnit.kind == "school").order_by(OrgUnit.id).limit(1))
    report = import_bundle(db_session, messy_zip, school_code=school, atomic=True, secret_key=SECRET)
    text = report.summary()
    assert "nothing was written: 1 error(s) stopped the import (--atomic writes all or nothing)" in text
    assert "created" not in text and report.as_dict()["counts"] == {}
