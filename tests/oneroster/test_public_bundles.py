"""Public bundles of other OneRoster projects, copied as they are into tests/oneroster/bundles/ (each with its
PROVENANCE.md): imported into the demo district, what a district would check is what the files say, the
warnings are the ones the files deserve (the same every time), and an export re-imports to the same."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from foundation.models import (
    AcademicSession,
    ClassTerm,
    Course,
    ExternalId,
    Membership,
    OrgUnit,
    Staff,
    Student,
    StudentClass,
)
from foundation.oneroster import export_bundle, import_bundle
from foundation.oneroster.spec import SYSTEM
from tests.oneroster.support import SECRET, count

EDFI = Path(__file__).parent / "bundles" / "Ed-Fi-Exchange-OSS__LMS-Toolkit"

# What each bundle deserves to hear, as (file, line, column). Both: no manifest.csv (the spec requires one),
# a school without identifier (a code is derived), two courses the district owns (placed with their classes).
COMMON = {("(bundle)", None, None), ("orgs.csv", 3, "identifier"), ("courses.csv", 2, "orgSourcedId"),
          ("courses.csv", 3, "orgSourcedId")}
WARNINGS = {
    "1.1": COMMON,
    # 1.0 column names, each read as its 1.1 name and said once on the header line
    "1.0": COMMON | {("courses.csv", 1, "schoolYearId"), ("courses.csv", 1, "grade"), ("classes.csv", 1, "grade"),
                     ("classes.csv", 1, "termSourcedId"), ("users.csv", 1, "userId"), ("users.csv", 1, "agents"),
                     ("demographics.csv", 1, "userSourcedId"), ("demographics.csv", 1, "birthdate")},
}


def ext(sess, entity: str, sid: str) -> int | None:
    return sess.scalar(sa.select(ExternalId.local_id).where(
        ExternalId.system == SYSTEM, ExternalId.entity == entity, ExternalId.external_id == sid))


def facts(sess, school_id: int) -> dict:
    """What the Grand Bend files say, read back from the database for one school."""
    classes = {c.name: c.id for c in sess.scalars(sa.select(OrgUnit).where(
        OrgUnit.kind == "class", OrgUnit.school_id == school_id))}
    in_school = [Student.school_id == school_id]
    return {
        "classes": sorted(classes),
        "students": count(sess, Student, *in_school),
        "teachers": sorted(sess.scalars(sa.select(Staff.name).where(Staff.school_id == school_id))),
        # 20 student rows: each of the 10 (student, class) pairs once a semester
        "enrolments": count(sess, StudentClass, StudentClass.class_id.in_(classes.values())),
        "teacher_assignments": count(sess, Membership, Membership.role == "subject_teacher",
                                     Membership.org_unit_id.in_(classes.values())),
        # the terms its classes run in and the school year of its courses (the district's: no org in 1.1)
        "terms": sorted(sess.execute(sa.select(AcademicSession.title, AcademicSession.start_date,
                                               AcademicSession.end_date).where(sa.or_(
            AcademicSession.id.in_(sa.select(ClassTerm.session_id).where(ClassTerm.class_id.in_(classes.values()))),
            AcademicSession.id.in_(sa.select(Course.school_year_id).where(Course.school_id == school_id)))))
                        .all()),
        "class_terms": count(sess, ClassTerm, ClassTerm.class_id.in_(classes.values())),
        "courses": sorted(sess.scalars(sa.select(Course.title).where(Course.school_id == school_id))),
        "mary": sess.execute(sa.select(Student.name, Student.birth_date, Student.sex_code).where(
            Student.name == "Mary Archer", *in_school)).one(),
    }


GRAND_BEND = {
    "classes": ["ALG-1", "ENG-1"], "students": 8, "teachers": ["Kelley Christian", "Sara Preston"],
    "enrolments": 10, "teacher_assignments": 2,
    "terms": [("2020-2021 Fall Semester", date(2020, 8, 17), date(2020, 12, 18)),
              ("2020-2021 School Year", date(2020, 8, 17), date(2021, 5, 28)),
              ("2020-2021 Spring Semester", date(2021, 1, 4), date(2021, 5, 28))],
    "class_terms": 4, "courses": ["Algebra I", "English I"],
    "mary": ("Mary Archer", date(1997, 5, 30), "2"),
}


@pytest.mark.parametrize("version", ["1.1", "1.0"])
def test_edfi_grand_bend(db_session, fresh, version):
    """Ed-Fi's LMS Toolkit sample: one district, one high school, two classes over two semesters, eight
    students, two teachers; no manifest, blank statuses, courses the district owns."""
    report = import_bundle(db_session, EDFI / version, secret_key=SECRET)
    db_session.commit()
    assert report.errors == [] and report.version == version
    assert {i[:3] for i in report.warnings} == WARNINGS[version]
    assert len(report.warnings) == len(WARNINGS[version])  # each said once
    school = ext(db_session, "school", "255901001")
    assert db_session.get(OrgUnit, school).name == "Grand Bend High School"
    assert facts(db_session, school) == GRAND_BEND

    again = import_bundle(db_session, EDFI / version, secret_key=SECRET)
    db_session.commit()
    assert again.warnings == report.warnings and again.errors == []
    assert all(c["created"] == c["updated"] == 0 for c in again.counts.values())
    assert facts(db_session, school) == GRAND_BEND

    # the school exported and imported elsewhere keeps what the files said
    back = import_bundle(fresh, export_bundle(db_session, school_id=school, secret_key=SECRET), secret_key=SECRET)
    fresh.commit()
    assert back.errors == []
    there = fresh.scalar(sa.select(OrgUnit.id).where(OrgUnit.kind == "school"))
    assert facts(fresh, there) == GRAND_BEND
