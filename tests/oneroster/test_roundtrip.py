"""Export the demo district as OneRoster 1.2 and import it into a fresh database: the same district comes
out (counts and names), no ID number or phone ever leaves, and our own export maps back onto its rows."""
from __future__ import annotations

import csv
import io
import zipfile
from collections import Counter
from datetime import date

import sqlalchemy as sa

from foundation.models import Guardian, GuardianLink, OrgUnit, Staff, Student
from foundation.oneroster import export_bundle, import_bundle
from foundation.oneroster.exporter import school_year
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


def test_round_trip_into_a_fresh_database(db_session, fresh):
    data = export_bundle(db_session)
    db_session.commit()
    report = import_bundle(fresh, data, secret_key=SECRET)
    fresh.commit()
    assert report.errors == [] and report.warnings == []
    assert snapshot(fresh) == snapshot(db_session)
    assert count(fresh, Student, Student.id_number_enc.is_not(None)) == 0
    assert report.counts["enrollment"]["teacher"] > 0


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
    for g in db_session.scalars(sa.select(Guardian).where(Guardian.phone_enc.is_not(None)).limit(50)):
        assert cipher.decrypt(g.phone_enc) not in text
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
        assert c["created"] == c["updated"] == 0, (entity, c)
    assert report.counts["student"]["unchanged"] == count(db_session, Student)


def test_export_one_school(db_session):
    school = db_session.scalar(sa.select(OrgUnit).where(OrgUnit.kind == "school").order_by(OrgUnit.id.desc()).limit(1))
    data = export_bundle(db_session, school_id=school.id)
    orgs = read(data, "orgs.csv")[1:]
    assert [r[3] for r in orgs if r[4] == "school"] == [school.name]
    students = [r for r in read(data, "roles.csv")[1:] if r[5] == "student"]
    assert len(students) == count(db_session, Student, Student.school_id == school.id)
