"""Export the district (or one school) as a OneRoster 1.2 CSV bundle (zip bytes).

Every row's ``sourcedId`` is its OneRoster ExternalId when it has one; otherwise a stable generated id
(``jz-student-<id>``) that is recorded as an ExternalId, so importing our own export maps back to the
same rows. National ID numbers are never read, let alone written; nor are guardians' phone numbers
(personal data a roster consumer does not need). The session is flushed (new ExternalIds), not committed.
"""
from __future__ import annotations

import csv
import io
import zipfile
from collections import defaultdict
from datetime import date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.models import Account, ExternalId, Guardian, GuardianLink, Membership, OrgUnit, Staff, Student
from foundation.oneroster.context import _chunks
from foundation.oneroster.spec import ETHNICITY_COLUMN, HEADERS_12, MANIFEST_FILES, SEX_NAMES, SYSTEM
from foundation.oneroster.values import split_name
from foundation.tenancy import is_unscoped

ZIP_TIME = (2020, 1, 1, 0, 0, 0)  # fixed member timestamps: the same data gives the same bytes
PARENT_RELATIONS = frozenset({"51", "52", "57", "58", "59"})
FILES = ("orgs", "academicSessions", "courses", "classes", "users", "roles", "enrollments", "demographics")


class _Ids:
    """sourcedIds: the recorded ExternalId, else ``jz-<entity>-<id>`` recorded now."""

    def __init__(self, sess: so.Session) -> None:
        self.sess = sess
        self.by_local: dict[tuple[str, int], str] = {}
        self.used: set[tuple[str, str]] = set()
        for entity, local, external in sess.execute(sa.select(ExternalId.entity, ExternalId.local_id,
                                                              ExternalId.external_id)
                                                    .where(ExternalId.system == SYSTEM).order_by(ExternalId.id)):
            self.by_local.setdefault((entity, local), external)
            self.used.add((entity, external))
        self.new: list[ExternalId] = []

    def __call__(self, entity: str, local_id: int, school_id: int | None) -> str:
        if (sid := self.by_local.get((entity, local_id))) is not None:
            return sid
        base = sid = f"jz-{entity}-{local_id}"
        n = 1
        while (entity, sid) in self.used:
            n += 1
            sid = f"{base}-{n}"
        self.by_local[(entity, local_id)] = sid
        self.used.add((entity, sid))
        self.new.append(ExternalId(system=SYSTEM, entity=entity, external_id=sid, local_id=local_id,
                                   school_id=school_id))
        return sid


def school_year(today: date | None = None) -> tuple[int, date, date]:
    """(start year, first day, last day) of the current school year: September to mid-July."""
    today = today or date.today()
    start = today.year if today.month >= 8 else today.year - 1
    return start, date(start, 9, 1), date(start + 1, 7, 15)


def _stamp(obj) -> str:
    at = getattr(obj, "updated_at", None) or datetime(2020, 1, 1)
    return at.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _grade_code(unit: OrgUnit | None) -> str:
    return f"{unit.seq:02d}" if unit is not None and unit.kind == "grade" and 1 <= unit.seq <= 12 else ""


def _staff_role(s: Staff) -> str:
    title = s.title or ""
    if "校长" in title:
        return "principal"
    if "管理" in title:
        return "siteAdministrator"
    if "心理" in title:
        return "counselor"
    return "teacher" if ("教师" in title or "班主任" in title or s.subject) else "aide"


def export_bundle(session: so.Session, *, school_id: int | None = None, today: date | None = None) -> bytes:
    if not is_unscoped(session):
        raise ValueError("export_bundle needs a session that acts for the district (foundation.tenancy.unscoped(reason).mark)")
    sid = _Ids(session)
    rows: dict[str, list[list[str]]] = defaultdict(list)
    district = session.scalar(sa.select(OrgUnit).where(OrgUnit.kind == "district").order_by(OrgUnit.id).limit(1))
    q = sa.select(OrgUnit).where(OrgUnit.kind == "school").order_by(OrgUnit.id)
    schools = list(session.scalars(q.where(OrgUnit.id == school_id) if school_id is not None else q))
    if school_id is not None and not schools:
        raise ValueError(f"no school with id {school_id}")
    school_ids = [s.id for s in schools]
    units = {u.id: u for u in session.scalars(sa.select(OrgUnit).where(OrgUnit.school_id.in_(school_ids),
                                                                          OrgUnit.kind != "school").order_by(OrgUnit.id))}
    start, first, last = school_year(today)
    term = f"jz-sy-{start}"
    rows["academicSessions"].append([term, "active", f"{first.isoformat()}T00:00:00.000Z", f"{start}-{start + 1}学年",
                                     "schoolYear", first.isoformat(), last.isoformat(), "", str(start + 1)])
    district_sid = ""
    if district is not None:
        district_sid = sid("district", district.id, None)
        rows["orgs"].append([district_sid, "active", _stamp(district), district.name, "district", district.code or "", ""])
    school_sid = {}
    for s in schools:
        school_sid[s.id] = sid("school", s.id, s.id)
        rows["orgs"].append([school_sid[s.id], "active", _stamp(s), s.name, "school", s.code or "", district_sid])
    course_of: dict[int, str] = {}
    for u in units.values():
        if u.kind == "department":
            rows["orgs"].append([sid("department", u.id, u.school_id), "active", _stamp(u), u.name, "department",
                                 u.code or "", school_sid[u.school_id]])
        elif u.kind == "grade":
            course_of[u.id] = sid("course", u.id, u.school_id)
            rows["courses"].append([course_of[u.id], "active", _stamp(u), term, u.name, u.code or "", _grade_code(u),
                                    school_sid[u.school_id], "", ""])
    class_sid: dict[int, str] = {}
    for u in units.values():
        if u.kind != "class":
            continue
        grade = units.get(u.parent_id)
        course = course_of.get(u.parent_id) if grade is not None else None
        if course is None:  # a class outside any grade: one catch-all course per school
            course = f"jz-course-school-{u.school_id}"
            if course not in course_of.values():
                course_of[-u.school_id] = course
                rows["courses"].append([course, "active", _stamp(u), term, "其他", "", "", school_sid[u.school_id], "", ""])
        class_sid[u.id] = sid("class", u.id, u.school_id)
        rows["classes"].append([class_sid[u.id], "active", _stamp(u), u.name, _grade_code(grade), course, u.code or "",
                                "homeroom", "", school_sid[u.school_id], term, "", "", ""])
    _people(session, sid, rows, school_ids, school_sid, units, class_sid)
    session.add_all(sid.new)
    session.flush()
    return _zip(rows)


def _people(session: so.Session, sid: _Ids, rows: dict[str, list[list[str]]], school_ids: list[int],
            school_sid: dict[int, str], units: dict[int, OrgUnit], class_sid: dict[int, str]) -> None:
    students = list(session.scalars(sa.select(Student).options(so.lazyload(Student.klass))
                                    .where(Student.school_id.in_(school_ids)).order_by(Student.id)))
    staff = list(session.scalars(sa.select(Staff).where(Staff.school_id.in_(school_ids)).order_by(Staff.id)))
    links: list[GuardianLink] = []
    for chunk in _chunks([s.id for s in students]):
        links += session.scalars(sa.select(GuardianLink).options(so.lazyload(GuardianLink.guardian))
                                 .where(GuardianLink.student_id.in_(chunk)).order_by(GuardianLink.id))
    guardians: dict[int, Guardian] = {}
    for chunk in _chunks(sorted({lk.guardian_id for lk in links})):
        guardians.update((g.id, g) for g in session.scalars(sa.select(Guardian).where(Guardian.id.in_(chunk))))
    usernames: dict[tuple[str, int], str] = {}
    for kind, ids in (("student", [s.id for s in students]), ("staff", [s.id for s in staff]), ("guardian", list(guardians))):
        for chunk in _chunks(ids):
            usernames.update(((kind, pid), name) for name, pid in session.execute(
                sa.select(Account.username, Account.person_id).where(Account.person_kind == kind,
                                                                     Account.person_id.in_(chunk))))
    stu_sid = {s.id: sid("student", s.id, s.school_id) for s in students}
    stf_sid = {s.id: sid("staff", s.id, s.school_id) for s in staff}
    gdn_sid = {g: sid("guardian", g, None) for g in guardians}
    kids: dict[int, list[GuardianLink]] = defaultdict(list)
    parents: dict[int, list[str]] = defaultdict(list)
    for lk in links:
        kids[lk.guardian_id].append(lk)
        parents[lk.student_id].append(gdn_sid[lk.guardian_id])
    school_of = {s.id: s.school_id for s in students}

    def user(usid: str, obj, enabled: bool, username: str, given_family: tuple[str, str], identifier: str,
             agents: list[str], grades: str, org: str) -> None:
        rows["users"].append([usid, "active", _stamp(obj), "true" if enabled else "false", username, "",
                              given_family[0], given_family[1], "", identifier, "", "", "", ",".join(agents), grades,
                              "", "", "", "", "", org, ""])

    def role(kind: str, local: int, usid: str, role_name: str, org: str, obj, primary: bool = True) -> None:
        rows["roles"].append([f"jz-role-{kind}-{local}" + ("" if primary else f"-{org}"), "active", _stamp(obj), usid,
                              "primary" if primary else "secondary", role_name, "", "", org, ""])

    def demographics(usid: str, obj, birth: date | None, sex: str, ethnicity: str) -> None:
        rows["demographics"].append([usid, "active", _stamp(obj), birth.isoformat() if birth else "",
                                     SEX_NAMES.get(sex, "")] + [""] * 11 + [ethnicity])

    for s in students:
        klass = units.get(s.class_id) if s.class_id else None
        org = school_sid[s.school_id]
        user(stu_sid[s.id], s, s.status_code in ("01", "05"), usernames.get(("student", s.id), s.student_no),
             split_name(s.name), s.student_no, parents[s.id], _grade_code(units.get(klass.parent_id) if klass else None), org)
        role("student", s.id, stu_sid[s.id], "student", org, s)
        demographics(stu_sid[s.id], s, s.birth_date, s.sex_code, s.ethnicity_code)
        if s.class_id in class_sid:
            rows["enrollments"].append([f"jz-enrollment-s{s.id}", "active", _stamp(s), class_sid[s.class_id], org,
                                        stu_sid[s.id], "student", "false", "", ""])
    for t in staff:
        org = school_sid[t.school_id]
        user(stf_sid[t.id], t, t.active, usernames.get(("staff", t.id), t.staff_no), split_name(t.name), t.staff_no,
             [], "", org)
        role("staff", t.id, stf_sid[t.id], _staff_role(t), org, t)
        demographics(stf_sid[t.id], t, None, t.sex_code, "")
    for gid, g in guardians.items():
        mine = kids[gid]
        rel = mine[0].relation_code
        role_name = "parent" if rel in PARENT_RELATIONS else "guardian" if rel == "99" else "relative"
        orgs = list(dict.fromkeys(school_sid[school_of[lk.student_id]] for lk in mine))
        user(gdn_sid[gid], g, True, usernames.get(("guardian", gid), gdn_sid[gid]), split_name(g.name), "",
             [stu_sid[lk.student_id] for lk in mine], "", orgs[0])
        for i, org in enumerate(orgs):
            role("guardian", gid, gdn_sid[gid], role_name, org, g, primary=i == 0)
    _teachers(session, rows, class_sid, stf_sid, school_sid, units)


def _teachers(session: so.Session, rows: dict[str, list[list[str]]], class_sid: dict[int, str],
              stf_sid: dict[int, str], school_sid: dict[int, str], units: dict[int, OrgUnit]) -> None:
    """Teacher enrollments from homeroom / subject teacher memberships held at classes."""
    seen: set[tuple[int, int]] = set()
    for chunk in _chunks(sorted(class_sid)):
        for role_name, unit_id, person in session.execute(
                sa.select(Membership.role, Membership.org_unit_id, Account.person_id)
                .join(Account, Account.id == Membership.account_id)
                .where(Account.person_kind == "staff", Membership.org_unit_id.in_(chunk),
                       Membership.role.in_(("homeroom_teacher", "subject_teacher")))
                .order_by(Membership.id)):
            if person not in stf_sid or (person, unit_id) in seen:
                continue
            seen.add((person, unit_id))
            rows["enrollments"].append([f"jz-enrollment-t{person}-c{unit_id}", "active", "", class_sid[unit_id],
                                        school_sid[units[unit_id].school_id], stf_sid[person], "teacher",
                                        "true" if role_name == "homeroom_teacher" else "false", "", ""])


def _zip(rows: dict[str, list[list[str]]]) -> bytes:
    manifest = [["manifest.version", "1.0"], ["oneroster.version", "1.2"]]
    manifest += [[f"file.{f}", "bulk" if f in FILES else "absent"] for f in MANIFEST_FILES]
    manifest += [["source.systemName", "Jizuo"], ["source.systemCode", "jizuo"]]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        files = [("manifest.csv", ("propertyName", "value"), manifest)]
        for f in FILES:
            header = HEADERS_12[f"{f}.csv"] + ((ETHNICITY_COLUMN,) if f == "demographics" else ())
            files.append((f"{f}.csv", header, rows.get(f, [])))
        for name, header, data in files:
            text = io.StringIO()
            writer = csv.writer(text, lineterminator="\r\n")
            writer.writerow(header)
            writer.writerows(data)
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, text.getvalue().encode("utf-8"))
    return buf.getvalue()
