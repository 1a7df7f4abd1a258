"""The two real bundles of the shared corpus, read as they are: a clean one (DataGen, OneRoster 1.2
delta) and a messy one (1.2 bulk, with typos, non-ISO dates, blank statuses and tobedeleted rows)."""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from foundation.models import (
    AcademicSession,
    Account,
    ClassTerm,
    Conflict,
    Course,
    ExternalId,
    Guardian,
    GuardianLink,
    Membership,
    OrgUnit,
    Staff,
    Student,
    StudentClass,
)
from foundation.oneroster import import_bundle
from foundation.oneroster.spec import SYSTEM
from tests.oneroster.support import SECRET, count


def ext(sess, entity: str, sid: str) -> int | None:
    return sess.scalar(sa.select(ExternalId.local_id).where(
        ExternalId.system == SYSTEM, ExternalId.entity == entity, ExternalId.external_id == sid))


def issues(report, kind: str = "warnings") -> set[tuple]:
    return {(i.file, i.line, i.column) for i in getattr(report, kind)}


# -- the clean bundle ---------------------------------------------------------------------------------
def test_clean_bundle_imports_whole(fresh, clean_zip):
    report = import_bundle(fresh, clean_zip, secret_key=SECRET)
    fresh.commit()
    assert report.errors == []
    assert report.version == "1.2" and report.applied
    assert set(report.modes.values()) == {"delta"}
    assert report.encodings["users.csv"] == "utf-8" and report.encodings["manifest.csv"] == "utf-8"
    assert report.ignored_files == ["userProfiles.csv"]
    # orgs.csv: 1 school; classes.csv: 1 class; users.csv: 1 user, a student by roles.csv; nobody else
    assert report.counts["school"]["created"] == 1
    assert report.counts["class"]["created"] == 1
    assert report.counts["student"]["created"] == 1
    assert "staff" not in report.counts and "guardian" not in report.counts
    assert count(fresh, OrgUnit, OrgUnit.kind == "school") == 1
    assert count(fresh, OrgUnit, OrgUnit.kind == "district") == 1  # none in the bundle: one was made
    assert (count(fresh, Student), count(fresh, Staff), count(fresh, Guardian)) == (1, 0, 0)

    school = fresh.scalar(sa.select(OrgUnit).where(OrgUnit.kind == "school"))
    assert school.name == "Gotham High School" and school.id == ext(fresh, "school", "ORG_1")
    # no identifier: a stable code is derived, and said so
    assert school.code.startswith("OR") and len(school.code) == 12
    assert ("orgs.csv", 2, "identifier") in issues(report)
    klass = fresh.get(OrgUnit, ext(fresh, "class", "CLASS_001"))
    assert klass.name == "Basic Detection" and klass.kind == "class" and klass.school_id == school.id
    assert fresh.get(OrgUnit, klass.parent_id).name == "未分年级"  # no grades on the class or its course
    assert ("classes.csv", 2, "grades") in issues(report)
    # the class stays scheduled, its ungraded course and its semester (with its dates) are stored
    assert klass.class_type == "scheduled"
    course = fresh.get(Course, klass.course_id)
    assert (course.title, course.subjects, course.subject_codes) == ("Crime Fighting 101", "subject1", "0101")
    assert report.counts["course"]["created"] == 1 and report.counts["course"]["skipped"] == 0
    term = fresh.get(AcademicSession, ext(fresh, "academicSession", "ACAD_SESS_1"))
    assert (term.title, term.kind, term.start_date, term.end_date) == ("Semester 1", "semester", date(2023, 9, 4),
                                                                       date(2024, 1, 26))
    assert fresh.scalar(sa.select(ClassTerm.session_id).where(ClassTerm.class_id == klass.id)) == term.id
    s = fresh.get(Student, ext(fresh, "student", "USER_0"))
    assert (s.name, s.student_no, s.sex_code, s.birth_date) == ("Bruce Wayne", "bruce.wayne", "0", date(2010, 4, 17))
    assert s.ethnicity_code == "97" and s.status_code == "01"
    assert s.id_number_enc is None and s.school_id == school.id
    # a scheduled class is not a homeroom: Bruce attends it as a subject class
    assert s.class_id is None
    assert fresh.scalar(sa.select(StudentClass.class_id).where(StudentClass.student_id == s.id)) == klass.id
    # enabledUser TRUE: an account under his username (not the identifier), no password
    acct = fresh.scalar(sa.select(Account).where(Account.person_kind == "student", Account.person_id == s.id))
    assert (acct.username, acct.password_hash, acct.active) == ("brucewayne", None, True)
    assert [(m.role, m.org_unit_id) for m in acct.memberships] == [("student", school.id)]


def test_clean_bundle_reimport_changes_nothing(fresh, clean_zip):
    """Same bundle, same warnings (the derived school code and the ungraded class, every time)."""
    created = import_bundle(fresh, clean_zip, secret_key=SECRET)
    fresh.commit()
    before = {m.__name__: count(fresh, m) for m in (OrgUnit, Student, ExternalId, Conflict)}
    first = import_bundle(fresh, clean_zip, secret_key=SECRET)  # nothing new: it is all there
    fresh.commit()
    again = import_bundle(fresh, clean_zip, secret_key=SECRET)
    fresh.commit()
    assert again.errors == [] and again.warnings == first.warnings and len(again.warnings) == 2
    for entity in ("school", "class", "student", "enrollment", "course", "academicSession", "account"):
        assert again.counts[entity]["created"] == again.counts[entity]["updated"] == 0, entity
        assert again.counts[entity]["unchanged"] == 1, entity
    assert {m.__name__: count(fresh, m) for m in (OrgUnit, Student, ExternalId, Conflict)} == before
    assert [i[:3] for i in created.warnings] == [i[:3] for i in again.warnings]


def test_clean_bundle_tobedeleted_deactivates_and_keeps(fresh, clean_zip, tmp_path):
    import zipfile

    import_bundle(fresh, clean_zip, secret_key=SECRET)
    fresh.commit()
    # the same bundle, with the student and the class now tobedeleted (a delta)
    out = tmp_path / "delta.zip"
    with zipfile.ZipFile(clean_zip) as src, zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            data = src.read(name).decode()
            if name in ("users.csv", "classes.csv"):
                data = data.replace(",active,", ",tobedeleted,")
            dst.writestr(name, data)
    report = import_bundle(fresh, out, secret_key=SECRET)
    fresh.commit()
    assert report.errors == []
    s = fresh.get(Student, ext(fresh, "student", "USER_0"))
    assert s.status_code == "99"  # JY/T 1001 其他: left the source system, reason unknown
    assert fresh.get(OrgUnit, ext(fresh, "class", "CLASS_001")).active is False
    assert report.counts["student"]["deactivated"] == 1
    assert count(fresh, Student) == 1  # never a hard delete


# -- the messy bundle ---------------------------------------------------------------------------------
@pytest.fixture
def school(db_session) -> OrgUnit:
    return db_session.scalar(sa.select(OrgUnit).where(OrgUnit.kind == "school").order_by(OrgUnit.id).limit(1))


def test_messy_bundle_takes_what_it_can(db_session, messy_zip, school):
    students_before = count(db_session, Student)
    report = import_bundle(db_session, messy_zip, school_code=school.code, secret_key=SECRET)
    db_session.commit()
    assert report.applied and report.version == "1.2"
    warnings, errors = issues(report), issues(report, "errors")
    # header typos, each reported on the header line with the column as the file spells it
    assert {("users.csv", 1, "prefferedGivenName"), ("users.csv", 1, "prefferedMiddleName"),
            ("users.csv", 1, "prefferedFamilyName"), ("roles.csv", 1, "dataLastModified"),
            ("roles.csv", 1, "(column 10)")} <= warnings
    # 1/05/2023 is not ISO 8601 (and ambiguous): reported, never guessed, the row kept
    msg = {i.message for i in report.warnings if i[:3] == ("users.csv", 2, "dateLastModified")}
    assert msg and "1/05/2023" in msg.pop()
    assert ("users.csv", 7, "dateLastModified") in warnings  # 15/06/2023
    assert ("users.csv", 3, "status") in warnings  # mary.jones: blank status, read as active
    assert ("manifest.csv", 22, "value") in warnings  # file.userProfiles has no value
    assert ("academicSessions.csv", 4, "status") in warnings  # 'inactive'
    # the tobedeleted class is not created; enrollments into it are reported and skipped
    assert ext(db_session, "class", "cls-222-123478") is None
    assert {("enrollments.csv", n, "classSourcedId") for n in (5, 6, 7)} <= warnings
    # the three active sessions are stored with their dates; the tobedeleted and 'inactive' ones are not
    assert report.counts["academicSession"]["skipped"] == 2 and report.counts["academicSession"]["created"] == 3
    term = db_session.get(AcademicSession, ext(db_session, "academicSession", "as-trm-222-1234"))
    assert (term.kind, term.start_date, term.end_date, term.school_year) == ("term", date(2022, 9, 1),
                                                                             date(2022, 12, 24), 2023)
    assert ("academicSessions.csv", 3, "parentSourcedId") in warnings  # as-syr-222-2023 is not in the bundle
    # jim.smith is a teacher (roles.csv) enrolled as a student: a row error, the rest kept
    assert ("enrollments.csv", 3, "role") in errors
    assert len(report.errors) == 1

    # what it took: 1 department (its parent is not in the bundle: under the school named), 1 class,
    # 3 students, 3 staff (john.doe is also a guardian), 1 guardian with 2 children
    dept = db_session.get(OrgUnit, ext(db_session, "department", "org-sch-222-456"))
    assert (dept.kind, dept.name, dept.school_id) == ("department", "History Department", school.id)
    klass = db_session.get(OrgUnit, ext(db_session, "class", "cls-222-123456"))
    assert klass.name == "Introduction to Physics" and klass.school_id == school.id
    assert db_session.get(OrgUnit, klass.parent_id).name == "九年级"  # grades 09,10,11: the lowest
    assert count(db_session, Student) == students_before + 3
    assert report.counts["staff"]["created"] == 3 and report.counts["guardian"]["created"] == 1
    mary = db_session.get(Student, ext(db_session, "student", "usr-222-66778899"))
    assert (mary.name, mary.student_no, mary.class_id) == ("Mary Jones", "mary.jones", None)
    mmichel = db_session.get(Student, ext(db_session, "student", "usr-222-1234561232"))
    # 'Scheduled' is read as scheduled (said so): the class is a subject class, kept as mmichel's class
    assert klass.class_type == "scheduled" and ("classes.csv", 2, "classType") in warnings
    assert mmichel.class_id is None
    assert [klass.id] == list(db_session.scalars(sa.select(StudentClass.class_id)
                                                 .where(StudentClass.student_id == mmichel.id)))
    # john.doe's teacher enrollment is a subject-teacher assignment of his account: he reaches the class
    john_acct = db_session.scalar(sa.select(Account).where(Account.username == "john.doe"))
    assert john_acct.person_kind == "staff" and john_acct.password_hash is None
    assert [(m.role, m.org_unit_id) for m in john_acct.memberships] == [("subject_teacher", klass.id)]
    john_staff = db_session.get(Staff, ext(db_session, "staff", "usr-222-123456"))
    assert (john_staff.name, john_staff.staff_no, john_staff.title) == ("John Doe", "john.doe", "教师")
    john = ext(db_session, "guardian", "usr-222-123456")
    links = db_session.execute(sa.select(GuardianLink.student_id, GuardianLink.relation_code)
                               .where(GuardianLink.guardian_id == john)).all()
    assert sorted(links) == sorted([(mary.id, "59"), (mmichel.id, "59")])
    anna = ext(db_session, "student", "usr-222-567891")
    assert count(db_session, GuardianLink, GuardianLink.student_id == anna) == 0  # her agent is a teacher
    assert ("users.csv", 7, "agentSourcedIds") in warnings
    guardian = db_session.get(Guardian, john)
    assert guardian.phone_enc and "6032221111" not in guardian.phone_enc  # stored encrypted only

    again = import_bundle(db_session, messy_zip, school_code=school.code, secret_key=SECRET)
    assert all(c["created"] == c["updated"] == 0 for c in again.counts.values())
    assert again.warnings == report.warnings and again.errors == report.errors  # the same words, every time
    assert count(db_session, Membership, Membership.account_id == john_acct.id) == 1


def test_messy_bundle_without_a_school(fresh, messy_zip):
    """Its only org is a department whose parent is missing: nothing that needs a school can land."""
    report = import_bundle(fresh, messy_zip, secret_key=SECRET)
    errors = issues(report, "errors")
    assert ("orgs.csv", 2, "parentSourcedId") in errors
    assert ("classes.csv", 2, "schoolSourcedId") in errors
    assert ("classes.csv", 3, "schoolSourcedId") not in errors  # tobedeleted: nothing to do, no error
    assert {("roles.csv", n, "orgSourcedId") for n in (2, 3, 4, 5, 6, 7)} <= errors
    assert count(fresh, Student) == count(fresh, Staff) == count(fresh, Guardian) == 0


def test_messy_bundle_atomic_writes_nothing(db_session, messy_zip, school):
    before = {m.__name__: count(db_session, m) for m in (OrgUnit, Student, Staff, Guardian, ExternalId)}
    report = import_bundle(db_session, messy_zip, school_code=school.code, atomic=True, secret_key=SECRET)
    db_session.commit()
    assert report.errors and not report.applied
    assert {m.__name__: count(db_session, m) for m in (OrgUnit, Student, Staff, Guardian, ExternalId)} == before


def test_clean_bundle_into_one_school_keeps_that_school(db_session, clean_zip, school):
    name, code = school.name, school.code
    for _ in range(2):
        report = import_bundle(db_session, clean_zip, school_code=code, secret_key=SECRET)
        db_session.commit()
        assert report.errors == []
    db_session.refresh(school)
    assert (school.name, school.code) == (name, code)  # "Gotham High School" was put into it, not onto it
    bruce = db_session.get(Student, ext(db_session, "student", "USER_0"))
    assert bruce.school_id == school.id and ext(db_session, "school", "ORG_1") == school.id
    assert report.counts["student"]["unchanged"] == 1
