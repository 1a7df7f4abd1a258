"""Export the demo district as OneRoster 1.2 and import it into a fresh database: the same district comes
out (counts and names), no ID number or phone ever leaves, and our own export maps back onto its rows."""
from __future__ import annotations

import csv
import io
import zipfile
from collections import Counter
from datetime import date

import sqlalchemy as sa

from foundation.models import (
    Account,
    Guardian,
    GuardianLink,
    Membership,
    MessageContact,
    OrgUnit,
    Staff,
    Student,
    StudentClass,
)
from foundation.oneroster import export_bundle, import_bundle
from foundation.oneroster.export_teaching import school_year
from foundation.oneroster.spec import ETHNICITY_COLUMN, HEADERS_12
from foundation.security.fields import cipher_for
from tests.conftest import SECRET as APP_SECRET
from tests.oneroster.support import SECRET, count

MODELS = (Student, Staff, Guardian, GuardianLink)


def snapshot(sess) -> dict:
    units = {k: Counter(sess.scalars(sa.select(OrgUnit.name).where(OrgUnit.kind == k)))
             for k in ("district", "school", "grade", "class", "department")}
    return {
        "counts": {m.__name__: count(sess, m) for m in MODELS},
        "units": units,
        "school_codes": sorted(sess.scalars(sa.select(OrgUnit.code).where(OrgUnit.kind == "school"))),
        "students": sorted(sess.execute(sa.select(Student.student_no, Student.name, Student.sex_code,
                                                  Student.ethnicity_code, Student.birth_date)).all()),
        "staff": sorted(sess.execute(sa.select(Staff.staff_no, Staff.name, Staff.sex_code)).all()),
        "guardians": Counter(sess.scalars(sa.select(Guardian.name))),
        "classes_of_students": Counter(sess.execute(
            sa.select(Student.name, OrgUnit.name).join(OrgUnit, OrgUnit.id == Student.class_id)).all()),
    }


def read(data: bytes, name: str) -> list[list[str]]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return list(csv.reader(io.StringIO(zf.read(name).decode("utf-8"))))


def rows_of(data: bytes) -> dict[str, list[list[str]]]:
    """Each file's rows with dateLastModified blanked (it is when the row last changed in that database)."""
    out = {}
    for name in HEADERS_12:
        rows = read(data, name)
        at = rows[0].index("dateLastModified")
        out[name] = sorted(r[:at] + [""] + r[at + 1:] for r in rows[1:])
    return out


def test_round_trip_into_a_fresh_database(db_session, fresh):
    """Export → import into a fresh database → export again: every row of every file comes back — class
    types, usernames, e-mail and phones, courses and terms, teacher assignments, subject classes."""
    sample = db_session.scalar(sa.select(Student).where(Student.class_id.is_not(None)).order_by(Student.id).limit(1))
    homeroom = db_session.get(OrgUnit, sample.class_id)
    other = OrgUnit(kind="class", name="物理选修(1)班", code=f"{homeroom.code}-X", parent_id=homeroom.parent_id,
                    school_id=sample.school_id, class_type="scheduled")  # a subject class (教学班)
    db_session.add(other)
    db_session.flush()
    db_session.add(StudentClass(student_id=sample.id, class_id=other.id, school_id=sample.school_id))
    acct = db_session.scalar(sa.select(Account).where(Account.person_kind == "staff").order_by(Account.id).limit(1))
    db_session.add(MessageContact(account_id=acct.id, email="t1@school.example",
                                  phone_enc=cipher_for(APP_SECRET).encrypt("13900000001")))
    db_session.flush()
    data = export_bundle(db_session, secret_key=APP_SECRET)
    db_session.commit()
    report = import_bundle(fresh, data, secret_key=SECRET)
    fresh.commit()
    assert report.errors == [] and report.warnings == []
    assert snapshot(fresh) == snapshot(db_session)
    assert count(fresh, Student, Student.id_number_enc.is_not(None)) == 0
    assert report.counts["assignment"]["created"] > 0
    again = rows_of(export_bundle(fresh, secret_key=SECRET))
    first = rows_of(data)
    for name in HEADERS_12:
        assert again[name] == first[name], name
    users = {r[0]: r for r in read(data, "users.csv")[1:]}
    assert any(r[9] and r[4] != r[9] for r in users.values())  # usernames that are not the number come back
    assert "13900000001" in {r[12] for r in users.values()} and "t1@school.example" in {r[10] for r in users.values()}
    assert {r[7] for r in read(data, "classes.csv")[1:]} == {"homeroom", "scheduled"}
    # the teacher assignments are memberships in the new database: teachers there reach their classes
    assert count(fresh, Membership, Membership.role == "homeroom_teacher") == count(
        db_session, Membership, Membership.role == "homeroom_teacher")


def test_export_files_headers_and_no_id_numbers(db_session):
    data = export_bundle(db_session)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = set(zf.namelist())
        text = "".join(zf.read(n).decode("utf-8") for n in zf.namelist())
    assert names == {"manifest.csv", "orgs.csv", "academicSessions.csv", "courses.csv", "classes.csv", "users.csv",
                     "roles.csv", "enrollments.csv", "demographics.csv"}
    for name, header in HEADERS_12.items():
        expected = list(header) + ([ETHNICITY_COLUMN] if name == "demographics.csv" else [])
        assert read(data, name)[0] == expected, name
    manifest = dict(read(data, "manifest.csv")[1:])
    assert manifest["oneroster.version"] == "1.2" and manifest["file.users"] == "bulk"
    assert manifest["file.results"] == "absent"
    start, first, last = school_year()
    session = read(data, "academicSessions.csv")[1]
    assert session[0] == f"jz-sy-{start}" and (session[5], session[6]) == (first.isoformat(), last.isoformat())
    assert first.month == 9 and last == date(start + 1, 7, 15)
    cipher = cipher_for(APP_SECRET)
    for s in db_session.scalars(sa.select(Student).where(Student.id_number_enc.is_not(None)).limit(50)):
        number = cipher.decrypt(s.id_number_enc)
        assert number not in text and number[-8:] not in text
    # every class names a course, every course and class a school that is in orgs.csv
    orgs = {r[0] for r in read(data, "orgs.csv")[1:]}
    courses = {r[0] for r in read(data, "courses.csv")[1:]}
    assert all(r[5] in courses and r[9] in orgs for r in read(data, "classes.csv")[1:])
    users = {r[0] for r in read(data, "users.csv")[1:]}
    assert all(r[3] in users and r[8] in orgs for r in read(data, "roles.csv")[1:])


def test_own_export_maps_back_and_is_stable(db_session):
    first = export_bundle(db_session)
    db_session.commit()
    assert export_bundle(db_session) == first  # the generated sourcedIds were recorded: same bytes
    report = import_bundle(db_session, first, secret_key=SECRET)
    assert report.errors == []
    for entity, c in report.counts.items():
        if entity not in ("academicSession", "course"):  # the export's stand-ins (school year, a course per
            assert c["created"] == c["updated"] == 0, (entity, c)  # grade) are stored now, under their ids
    second = import_bundle(db_session, export_bundle(db_session), secret_key=SECRET)
    assert second.errors == [] and all(c["created"] == c["updated"] == 0 for c in second.counts.values())
    assert report.counts["student"]["unchanged"] == count(db_session, Student)


def test_export_one_school(db_session):
    school = db_session.scalar(sa.select(OrgUnit).where(OrgUnit.kind == "school").order_by(OrgUnit.id.desc()).limit(1))
    data = export_bundle(db_session, school_id=school.id)
    orgs = read(data, "orgs.csv")[1:]
    assert [r[3] for r in orgs if r[4] == "school"] == [school.name]
    students = [r for r in read(data, "roles.csv")[1:] if r[5] == "student"]
    assert len(students) == count(db_session, Student, Student.school_id == school.id)
