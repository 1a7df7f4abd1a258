"""Bundles built here: encodings (GB18030, UTF-8 with BOM), OneRoster 1.1 (role on the user), header
tolerance, bad rows with file / line / column, and one datum one source (authorities → conflicts)."""
from __future__ import annotations

import sqlalchemy as sa

from foundation.models import Authority, Conflict, ExternalId, Guardian, GuardianLink, OrgUnit, Staff, Student
from foundation.oneroster import import_bundle
from foundation.oneroster.spec import HEADERS_12
from tests.oneroster.support import SECRET, count, make_zip, manifest

ORGS = [list(HEADERS_12["orgs.csv"]),
        ["d1", "active", "", "示范区教育局", "district", "", ""],
        ["s1", "active", "", "长宁路小学", "school", "3101059001", "d1"]]
CLASSES = [list(HEADERS_12["classes.csv"]),
           ["c1", "active", "", "三年级(2)班", "03", "co1", "", "homeroom", "", "s1", "t1", "", "", ""]]
USERS_11 = ["sourcedId", "status", "dateLastModified", "enabledUser", "orgSourcedIds", "role", "username", "userIds",
            "givenName", "familyName", "middleName", "identifier", "email", "sms", "phone", "agentSourcedIds",
            "grades", "password"]


def _user12(sid: str, given: str, family: str, identifier: str, agents: str = "", phone: str = "") -> list[str]:
    row = dict.fromkeys(HEADERS_12["users.csv"], "")
    row.update(sourcedId=sid, status="active", enabledUser="true", username=identifier, givenName=given,
               familyName=family, identifier=identifier, agentSourcedIds=agents, phone=phone)
    return list(row.values())


def _role(sid: str, user: str, role: str, org: str = "s1") -> list[str]:
    return [sid, "active", "", user, "primary", role, "", "", org, ""]


def chinese_bundle(encoding: str, bom: bool = False) -> bytes:
    """A 1.1 bundle (no roles.csv: users.csv carries role and orgSourcedIds) with Chinese names."""
    users = [USERS_11,
             ["u1", "active", "", "true", "s1", "student", "20230301", "", "三", "张", "", "20230301", "", "", "",
              "u3", "03", ""],
             ["u2", "active", "", "true", "s1", "teacher", "T0001", "", "老师", "李", "", "T0001", "", "", "", "",
              "", ""],
             ["u3", "active", "", "true", "s1", "parent", "p1", "", "建国", "张", "", "", "", "", "13800000000",
              "u1", "", ""]]
    enrollments = [list(HEADERS_12["enrollments.csv"]),
                   ["e1", "active", "", "c1", "s1", "u1", "student", "false", "", ""],
                   ["e2", "active", "", "c1", "s1", "u2", "teacher", "true", "", ""]]
    files = {"manifest.csv": manifest("orgs", "classes", "users", "enrollments", version="1.1"), "orgs.csv": ORGS,
             "classes.csv": CLASSES, "users.csv": users, "enrollments.csv": enrollments}
    data = make_zip(files, encoding)
    if not bom:
        return data
    import io
    import zipfile

    src, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            dst.writestr(name, b"\xef\xbb\xbf" + src.read(name))
    return out.getvalue()


def _check_chinese(sess, report) -> None:
    assert report.errors == [], report.errors
    assert report.version == "1.1"
    student = sess.scalar(sa.select(Student))
    assert (student.name, student.student_no) == ("张三", "20230301")  # family name first, no space
    klass = sess.get(OrgUnit, student.class_id)
    assert klass.name == "三年级(2)班" and sess.get(OrgUnit, klass.parent_id).name == "三年级"
    school = sess.get(OrgUnit, student.school_id)
    assert (school.name, school.code) == ("长宁路小学", "3101059001")
    assert sess.scalar(sa.select(Staff.name)) == "李老师"
    guardian = sess.scalar(sa.select(Guardian))
    assert guardian.name == "张建国" and guardian.phone_hash
    link = sess.scalar(sa.select(GuardianLink))
    assert (link.guardian_id, link.student_id, link.relation_code, link.is_primary) == (guardian.id, student.id, "59", True)
    assert report.counts["assignment"]["created"] == 1  # the teacher enrollment: a class assignment


def test_gb18030_bundle(fresh):
    data = chinese_bundle("gb18030")
    report = import_bundle(fresh, data, secret_key=SECRET)
    assert report.encodings["users.csv"] == "gb18030" and report.encodings["orgs.csv"] == "gb18030"
    assert report.encodings["manifest.csv"] == "utf-8"  # ASCII only: read as UTF-8
    _check_chinese(fresh, report)


def test_utf8_bom_bundle(fresh):
    report = import_bundle(fresh, chinese_bundle("utf-8", bom=True), secret_key=SECRET)
    assert set(report.encodings.values()) == {"utf-8-sig"}
    assert report.warnings == []  # the BOM is not part of the first column's name
    _check_chinese(fresh, report)


def test_header_tolerance_and_bad_rows(fresh):
    users = [list(HEADERS_12["users.csv"]),
             _user12("u1", "Ann", "Lee", "S1"),
             _user12("u1", "Dup", "Licate", "S9"),  # duplicate sourcedId
             _user12("u2", "", "", "S2"),  # no name
             _user12("u3", "Bob", "Ray", "S1"),  # student number taken in the school
             _user12("u4", "Cat", "Fox", "S4")]
    users[0][6] = " GivenName "  # case and whitespace
    users[0][7] = "familyname"
    roles = [list(HEADERS_12["roles.csv"]), _role("r1", "u1", "student"), _role("r3", "u3", "student"),
             _role("r4", "u4", "wizard"), _role("r5", "nobody", "student")]
    demographics = [list(HEADERS_12["demographics.csv"]),
                    ["u1", "active", "", "2014-13-01", "female"] + [""] * 11]
    classes = [[h for h in HEADERS_12["classes.csv"] if h != "title"],  # a required column missing
               ["c1", "active", "", "03", "co1", "", "homeroom", "", "s1", "t1", "", "", ""]]
    files = {"orgs.csv": ORGS, "users.csv": users, "roles.csv": roles, "demographics.csv": demographics,
             "classes.csv": classes}
    report = import_bundle(fresh, make_zip(files), secret_key=SECRET)
    errors = {(i.file, i.line, i.column) for i in report.errors}
    warnings = {(i.file, i.line, i.column) for i in report.warnings}
    assert ("classes.csv", 1, "title") in errors  # file-level: the file is not imported
    assert ("users.csv", 3, "sourcedId") in errors
    assert ("users.csv", 4, "GivenName") in errors  # the column as the file spells it
    assert ("users.csv", 5, "identifier") in errors
    assert ("roles.csv", 4, "role") in errors
    assert ("roles.csv", 5, "userSourcedId") in errors
    assert {("users.csv", 1, "GivenName"), ("users.csv", 1, "familyname")} <= warnings
    assert ("demographics.csv", 2, "birthDate") in warnings  # not a date: ignored, the row kept
    assert ("(bundle)", None, None) in warnings  # no manifest.csv
    # the good row is kept, with the good parts of its demographics
    ann = fresh.scalar(sa.select(Student))
    assert count(fresh, Student) == 1 and (ann.name, ann.student_no, ann.sex_code, ann.birth_date) == ("Ann Lee", "S1", "2", None)
    assert count(fresh, OrgUnit, OrgUnit.kind == "class") == 0


def test_atomic_writes_nothing_on_a_bad_row(fresh):
    users = [list(HEADERS_12["users.csv"]), _user12("u1", "Ann", "Lee", "S1"), _user12("u2", "", "", "S2")]
    roles = [list(HEADERS_12["roles.csv"]), _role("r1", "u1", "student"), _role("r2", "u2", "student")]
    data = make_zip({"orgs.csv": ORGS, "users.csv": users, "roles.csv": roles})
    report = import_bundle(fresh, data, atomic=True, secret_key=SECRET)
    assert not report.applied and len(report.errors) == 1
    fresh.commit()
    assert count(fresh, Student) == count(fresh, OrgUnit) == count(fresh, ExternalId) == 0
    report = import_bundle(fresh, data, secret_key=SECRET)
    assert report.applied and count(fresh, Student) == 1


def test_authoritative_source_wins_and_the_rest_applies(db_session):
    """name is owned by the student registry: a OneRoster rename becomes a pending conflict; sex has no
    authority and is applied."""
    db_session.add(Authority(library="student", element="name", source="student_registry"))
    db_session.commit()
    school = db_session.scalar(sa.select(OrgUnit).where(OrgUnit.kind == "school").order_by(OrgUnit.id).limit(1))
    student = db_session.scalar(sa.select(Student).where(Student.school_id == school.id).order_by(Student.id).limit(1))
    old_name, old_birth = student.name, student.birth_date
    new_sex = "2" if student.sex_code == "1" else "1"
    orgs = [list(HEADERS_12["orgs.csv"]), ["sch", "active", "", school.name, "school", school.code, ""]]
    users = [list(HEADERS_12["users.csv"]), _user12("stu", "新名", "改", student.student_no)]
    roles = [list(HEADERS_12["roles.csv"]), _role("r1", "stu", "student", "sch")]
    demographics = [list(HEADERS_12["demographics.csv"]),
                    ["stu", "active", "", "", {"1": "male", "2": "female"}[new_sex]] + [""] * 11]
    data = make_zip({"orgs.csv": orgs, "users.csv": users, "roles.csv": roles, "demographics.csv": demographics})
    report = import_bundle(db_session, data, secret_key=SECRET)
    db_session.commit()
    assert report.errors == []
    db_session.refresh(student)
    assert student.name == old_name  # unchanged: not oneroster's to change
    assert student.sex_code == new_sex and student.birth_date == old_birth  # blank birthDate: not proposed
    conflict = db_session.scalar(sa.select(Conflict).where(Conflict.entity == "student", Conflict.entity_id == student.id))
    assert (conflict.element, conflict.current_value, conflict.proposed_value, conflict.source, conflict.status) == (
        "name", old_name, "改新名", "oneroster", "pending")
    assert conflict.school_id == school.id
    assert report.counts["student"]["conflicts"] == 1 and report.counts["student"]["linked"] == 1
    # the student was matched by number in the school and is now mapped: a second import adds no conflict
    import_bundle(db_session, data, secret_key=SECRET)
    db_session.commit()
    assert count(db_session, Conflict, Conflict.entity_id == student.id) == 1
    assert count(db_session, ExternalId, ExternalId.external_id == "stu") == 1


def test_sources_folder_file_object_and_not_a_zip(fresh, tmp_path):
    import io
    import zipfile

    data = chinese_bundle("utf-8")
    zipfile.ZipFile(io.BytesIO(data)).extractall(tmp_path / "folder")
    assert import_bundle(fresh, tmp_path / "folder", secret_key=SECRET).counts["student"]["created"] == 1
    again = import_bundle(fresh, io.BytesIO(data), secret_key=SECRET)
    assert again.counts["student"]["unchanged"] == 1 and again.errors == []
    bad = import_bundle(fresh, b"not a zip", secret_key=SECRET)
    assert not bad.applied and bad.errors[0].file == "(bundle)" and "not a zip" in bad.errors[0].message


def test_school_code_picks_one_school_of_a_district_bundle(fresh):
    orgs = ORGS + [["s2", "active", "", "华山路小学", "school", "3101059002", "d1"]]
    users = [list(HEADERS_12["users.csv"]), _user12("u1", "一", "王", "A1"), _user12("u2", "二", "王", "A2")]
    roles = [list(HEADERS_12["roles.csv"]), _role("r1", "u1", "student", "s1"), _role("r2", "u2", "student", "s2")]
    data = make_zip({"orgs.csv": orgs, "users.csv": users, "roles.csv": roles})
    report = import_bundle(fresh, data, school_code="3101059002", secret_key=SECRET)
    assert report.errors == []
    assert fresh.scalars(sa.select(OrgUnit.code).where(OrgUnit.kind == "school")).all() == ["3101059002"]
    assert fresh.scalars(sa.select(Student.name)).all() == ["王二"]
    assert report.counts["school"]["skipped"] == 1 and report.counts["user"]["skipped"] == 1
