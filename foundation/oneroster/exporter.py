"""Export the district (or one school) as a OneRoster 1.2 CSV bundle (zip bytes).

Every row's ``sourcedId`` is its OneRoster ExternalId when it has one; otherwise a stable generated id
(``jz-student-<id>``) that is recorded as an ExternalId, so importing our own export maps back to the
same rows. National ID numbers are never read, let alone written. A user's e-mail and phone are written
(the contact messages use; a guardian's phone), so a re-import keeps them. The session is flushed (new
ExternalIds), not committed.
"""
from __future__ import annotations

import csv
import io
import zipfile
from collections import defaultdict
from datetime import date

import sqlalchemy as sa
import sqlalchemy.orm as so
from cryptography.fernet import InvalidToken
from flask import current_app, has_app_context

from foundation.models import (
    Account,
    ExternalId,
    Guardian,
    GuardianLink,
    Membership,
    MessageContact,
    OrgUnit,
    Staff,
    Student,
    StudentClass,
)
from foundation.oneroster.context import _chunks
from foundation.oneroster.export_teaching import export_classes, export_courses, export_sessions
from foundation.oneroster.export_teaching import grade_code as _grade_code
from foundation.oneroster.export_teaching import stamp as _stamp
from foundation.oneroster.spec import ETHNICITY_COLUMN, HEADERS_12, MANIFEST_FILES, SEX_NAMES, SYSTEM
from foundation.oneroster.values import split_name
from foundation.security.fields import FieldCipher, cipher_for
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


def _staff_role(s: Staff) -> str:
    title = s.title or ""
    if "校长" in title:
        return "principal"
    if "管理" in title:
        return "siteAdministrator"
    if "心理" in title:
        return "counselor"
    return "teacher" if ("教师" in title or "班主任" in title or s.subject) else "aide"


def export_bundle(session: so.Session, *, school_id: int | None = None, today: date | None = None,
                  secret_key: str | None = None) -> bytes:
    """The bundle's bytes. ``secret_key`` reads the stored phones (default: the app's SECRET_KEY)."""
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
    district_sid = ""
    if district is not None:
        district_sid = sid("district", district.id, None)
        rows["orgs"].append([district_sid, "active", _stamp(district), district.name, "district", district.code or "", ""])
    school_sid = {}
    for s in schools:
        school_sid[s.id] = sid("school", s.id, s.id)
        rows["orgs"].append([school_sid[s.id], "active", _stamp(s), s.name, "school", s.code or "", district_sid])
    for u in units.values():
        if u.kind == "department":
            rows["orgs"].append([sid("department", u.id, u.school_id), "active", _stamp(u), u.name, "department",
                                 u.code or "", school_sid[u.school_id]])
    term = export_sessions(session, sid, rows, school_ids, today)
    course_sid = export_courses(session, sid, rows, school_ids, school_sid)
    class_sid = export_classes(session, sid, rows, units, school_sid, course_sid, term)
    if secret_key is None and has_app_context():
        secret_key = current_app.config.get("SECRET_KEY")
    _people(session, sid, rows, school_ids, school_sid, units, class_sid, cipher_for(secret_key) if secret_key else None)
    session.add_all(sid.new)
    session.flush()
    return _zip(rows)


def _clear(cipher: FieldCipher | None, value: str | None) -> str:
    if not value or cipher is None:
        return ""
    try:
        return cipher.decrypt(value)
    except InvalidToken:  # written under another key: nothing to say
        return ""


def _people(session: so.Session, sid: _Ids, rows: dict[str, list[list[str]]], school_ids: list[int],
            school_sid: dict[int, str], units: dict[int, OrgUnit], class_sid: dict[int, str],
            cipher: FieldCipher | None) -> None:
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
    accounts: dict[tuple[str, int], tuple[str, bool, str, str]] = {}  # → (username, active, e-mail, phone)
    for kind, ids in (("student", [s.id for s in students]), ("staff", [s.id for s in staff]), ("guardian", list(guardians))):
        for chunk in _chunks(ids):
            for name, pid, active, email, phone in session.execute(
                    sa.select(Account.username, Account.person_id, Account.active, MessageContact.email,
                              MessageContact.phone_enc)
                    .outerjoin(MessageContact, MessageContact.account_id == Account.id)
                    .where(Account.person_kind == kind, Account.person_id.in_(chunk)).order_by(Account.id)):
                accounts.setdefault((kind, pid), (name, active, email or "", _clear(cipher, phone)))

    def login(kind: str, pid: int, fallback: str) -> tuple[bool, str, str, str]:
        """(enabledUser, username, email, phone): the account's, else not enabled and ``fallback``."""
        name, active, email, phone = accounts.get((kind, pid), (fallback, False, "", ""))
        return active, name, email, phone
    stu_sid = {s.id: sid("student", s.id, s.school_id) for s in students}
    stf_sid = {s.id: sid("staff", s.id, s.school_id) for s in staff}
    gdn_sid = {g: sid("guardian", g, None) for g in guardians}
    kids: dict[int, list[GuardianLink]] = defaultdict(list)
    parents: dict[int, list[str]] = defaultdict(list)
    for lk in links:
        kids[lk.guardian_id].append(lk)
        parents[lk.student_id].append(gdn_sid[lk.guardian_id])
    school_of = {s.id: s.school_id for s in students}
    subject: dict[int, list[int]] = defaultdict(list)  # student → subject classes (exported ones)
    for chunk in _chunks([s.id for s in students]):
        for stid, cid in session.execute(sa.select(StudentClass.student_id, StudentClass.class_id)
                                         .where(StudentClass.student_id.in_(chunk)).order_by(StudentClass.id)):
            if cid in class_sid:
                subject[stid].append(cid)

    def user(usid: str, obj, account: tuple[bool, str, str, str], given_family: tuple[str, str], identifier: str,
             agents: list[str], grades: str, org: str) -> None:
        enabled, username, email, phone = account
        rows["users"].append([usid, "active", _stamp(obj), "true" if enabled else "false", username, "",
                              given_family[0], given_family[1], "", identifier, email, "", phone, ",".join(agents),
                              grades, "", "", "", "", "", org, ""])

    def role(kind: str, local: int, usid: str, role_name: str, org: str, obj, primary: bool = True) -> None:
        rows["roles"].append([f"jz-role-{usid}" + ("" if primary else f"-{org}"), "active", _stamp(obj), usid,
                              "primary" if primary else "secondary", role_name, "", "", org, ""])

    def demographics(usid: str, obj, birth: date | None, sex: str, ethnicity: str) -> None:
        rows["demographics"].append([usid, "active", _stamp(obj), birth.isoformat() if birth else "",
                                     SEX_NAMES.get(sex, "")] + [""] * 11 + [ethnicity])

    for s in students:
        klass = units.get(s.class_id) if s.class_id else None
        org = school_sid[s.school_id]
        user(stu_sid[s.id], s, login("student", s.id, s.student_no), split_name(s.name), s.student_no, parents[s.id],
             _grade_code(units.get(klass.parent_id) if klass else None), org)
        role("student", s.id, stu_sid[s.id], "student", org, s)
        demographics(stu_sid[s.id], s, s.birth_date, s.sex_code, s.ethnicity_code)
        if s.class_id in class_sid:
            rows["enrollments"].append([f"jz-enr-{stu_sid[s.id]}-{class_sid[s.class_id]}", "active", _stamp(s), class_sid[s.class_id], org,
                                        stu_sid[s.id], "student", "false", "", ""])
        for cid in subject.get(s.id, []):
            rows["enrollments"].append([f"jz-enr-{stu_sid[s.id]}-{class_sid[cid]}", "active", _stamp(s), class_sid[cid], org,
                                        stu_sid[s.id], "student", "false", "", ""])
    for t in staff:
        org = school_sid[t.school_id]
        user(stf_sid[t.id], t, login("staff", t.id, t.staff_no), split_name(t.name), t.staff_no, [], "", org)
        role("staff", t.id, stf_sid[t.id], _staff_role(t), org, t)
        demographics(stf_sid[t.id], t, None, t.sex_code, "")
    for gid, g in guardians.items():
        mine = kids[gid]
        rel = mine[0].relation_code
        role_name = "parent" if rel in PARENT_RELATIONS else "guardian" if rel == "99" else "relative"
        orgs = list(dict.fromkeys(school_sid[school_of[lk.student_id]] for lk in mine))
        enabled, username, email, _ = login("guardian", gid, gdn_sid[gid])
        user(gdn_sid[gid], g, (enabled, username, email, _clear(cipher, g.phone_enc)), split_name(g.name), "",
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
            rows["enrollments"].append([f"jz-enr-{stf_sid[person]}-{class_sid[unit_id]}", "active", "", class_sid[unit_id],
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
