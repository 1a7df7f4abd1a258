"""Students, staff and guardians: create, update and the views that mask what must be masked."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import current_app

from foundation import codes, db
from foundation.audit import record
from foundation.errors import NotFound, ValidationFailed
from foundation.i18n import current_lang
from foundation.models import Change, Guardian, GuardianLink, OrgUnit, Staff, Student
from foundation.permissions import Principal, require
from foundation.security.fields import cipher_for, mask_id_number, mask_phone, normalise
from foundation.tenancy import unscoped

# a homeroom teacher sees their classes only, but a student number or ID number is unique in the whole school
UNIQUE = unscoped("student numbers and ID numbers are unique in the school, beyond the caller's classes")


def cipher():
    return cipher_for(current_app.config["SECRET_KEY"])


def _visible(model: type, ident: int | None) -> Any:
    if ident is None:
        return None
    return db.session().scalar(sa.select(model).where(model.id == ident))


# ---- students ---------------------------------------------------------------------------------------
def student_view(s: Student, lang: str | None = None) -> dict[str, Any]:
    lang = lang or current_lang()
    return {
        "id": s.id, "school_id": s.school_id, "student_no": s.student_no, "name": s.name,
        "sex_code": s.sex_code, "sex": codes.label("sex", s.sex_code, lang),
        "ethnicity_code": s.ethnicity_code, "ethnicity": codes.label("ethnicity", s.ethnicity_code, lang),
        "birth_date": s.birth_date,
        "id_number_masked": mask_id_number(cipher().decrypt(s.id_number_enc)) if s.id_number_enc else None,
        "class_id": s.class_id, "class_name": s.klass.title(lang) if s.klass else None,
        "boarding": s.boarding, "status_code": s.status_code,
    }


def _set_id_number(s: Student, value: str | None) -> None:
    if value:
        s.id_number_enc = cipher().encrypt(normalise(value))
        s.id_number_hash = cipher().blind_index(value)
    else:
        s.id_number_enc = s.id_number_hash = None


def _check_class(class_id: int) -> OrgUnit:
    klass = _visible(OrgUnit, class_id)
    if klass is None or klass.kind != "class":
        raise ValidationFailed({"class_id": ["student.class_unknown"]})
    return klass


def _check_unique(s: Student, data: dict[str, Any]) -> None:
    sess = db.session()
    errors: dict[str, list[str]] = {}
    if "student_no" in data:
        clash = sess.scalar(
            sa.select(Student.id).where(Student.school_id == s.school_id, Student.student_no == data["student_no"],
                                        Student.id != (s.id or -1)),
            execution_options=UNIQUE,
        )
        if clash:
            errors["student_no"] = ["student.no_taken"]
    if data.get("id_number"):
        clash = sess.scalar(
            sa.select(Student.id).where(Student.school_id == s.school_id,
                                        Student.id_number_hash == cipher().blind_index(data["id_number"]),
                                        Student.id != (s.id or -1)),
            execution_options=UNIQUE,
        )
        if clash:
            errors["id_number"] = ["student.id_number_taken"]
    if errors:
        raise ValidationFailed(errors)


def create_student(principal: Principal, data: dict[str, Any]) -> Student:
    klass = _check_class(data["class_id"])
    require(principal, "people.student.create", klass.school_id)
    s = Student(school_id=klass.school_id)
    _check_unique(s, data)
    _apply(s, data)
    db.session().add(s)
    db.session().flush()
    db.session().add(Change(library="student", entity_id=s.id, op="create", school_id=s.school_id))
    record("people.student.create", "student", s.id, school_id=s.school_id,
           detail={"fields": sorted(k for k in data if k != "id_number") + (["id_number"] if data.get("id_number") else [])})
    return s


def update_student(principal: Principal, s: Student, data: dict[str, Any]) -> Student:
    require(principal, "people.student.update", s.school_id)
    if "class_id" in data:
        klass = _check_class(data["class_id"])
        if klass.school_id != s.school_id:
            raise ValidationFailed({"class_id": ["student.class_other_school"]})
    _check_unique(s, data)
    changed = sorted(k for k, v in data.items() if k == "id_number" or getattr(s, k, None) != v)
    _apply(s, data)
    db.session().flush()
    db.session().add(Change(library="student", entity_id=s.id, op="update", school_id=s.school_id))
    record("people.student.update", "student", s.id, school_id=s.school_id, detail={"fields": changed})
    return s


def _apply(s: Student, data: dict[str, Any]) -> None:
    for key, value in data.items():
        if key == "id_number":
            _set_id_number(s, value)
        else:
            setattr(s, key, value)


def reveal_id_number(principal: Principal, s: Student, reason: str) -> str | None:
    require(principal, "people.student.id_number.reveal", s.school_id)
    record("people.student.id_number.reveal", "student", s.id, school_id=s.school_id, detail={"reason": reason})
    return cipher().decrypt(s.id_number_enc) if s.id_number_enc else None


# ---- staff ------------------------------------------------------------------------------------------
def create_staff(principal: Principal, school_id: int, data: dict[str, Any]) -> Staff:
    require(principal, "people.staff.manage", school_id)
    if _visible(OrgUnit, school_id) is None:
        raise ValidationFailed({"school_id": ["org.school_unknown"]})
    st = Staff(school_id=school_id)
    return _save_staff(st, data, "people.staff.create")


def update_staff(principal: Principal, st: Staff, data: dict[str, Any]) -> Staff:
    require(principal, "people.staff.manage", st.school_id)
    return _save_staff(st, data, "people.staff.update")


def _save_staff(st: Staff, data: dict[str, Any], action: str) -> Staff:
    data.pop("school_id", None)
    if "staff_no" in data:
        clash = db.session().scalar(
            sa.select(Staff.id).where(Staff.school_id == st.school_id, Staff.staff_no == data["staff_no"],
                                      Staff.id != (st.id or -1))
        )
        if clash:
            raise ValidationFailed({"staff_no": ["staff.no_taken"]})
    if data.get("department_id") is not None:
        dept = _visible(OrgUnit, data["department_id"])
        if dept is None or dept.kind != "department" or dept.school_id != st.school_id:
            raise ValidationFailed({"department_id": ["staff.department_unknown"]})
    for k, v in data.items():
        setattr(st, k, v)
    db.session().add(st)
    db.session().flush()
    db.session().add(Change(library="staff", entity_id=st.id, op=action.rsplit(".", 1)[1], school_id=st.school_id))
    record(action, "staff", st.id, school_id=st.school_id, detail={"fields": sorted(data)})
    return st


# ---- guardians --------------------------------------------------------------------------------------
def guardian_views(rows: list[Guardian]) -> list[dict[str, Any]]:
    """Views of many guardians with their (visible) links, in two queries whatever the count."""
    lang = current_lang()
    links: dict[int, list[GuardianLink]] = {}
    if rows:
        stmt = sa.select(GuardianLink).where(GuardianLink.guardian_id.in_([g.id for g in rows]))
        for ln in db.session().scalars(stmt):
            links.setdefault(ln.guardian_id, []).append(ln)
    return [guardian_view(g, lang, links.get(g.id, [])) for g in rows]


def guardian_view(gd: Guardian, lang: str | None = None, links: list[GuardianLink] | None = None) -> dict[str, Any]:
    lang = lang or current_lang()
    if links is None:
        links = list(db.session().scalars(sa.select(GuardianLink).where(GuardianLink.guardian_id == gd.id)))
    return {
        "id": gd.id, "name": gd.name,
        "phone_masked": mask_phone(cipher().decrypt(gd.phone_enc)) if gd.phone_enc else None,
        "links": [{"student_id": ln.student_id, "relation_code": ln.relation_code,
                   "relation": codes.label("family_relation", ln.relation_code, lang),
                   "is_primary": ln.is_primary} for ln in links],
    }


def _link_students(principal: Principal, links: list[dict[str, Any]], cap: str) -> list[tuple[Student, dict]]:
    out, errors, seen = [], {}, set()
    for i, ln in enumerate(links):
        if ln["student_id"] in seen:  # one link per student: a second would break the pair's uniqueness
            errors[f"links.{i}.student_id"] = ["guardian.link_twice"]
            continue
        seen.add(ln["student_id"])
        st = _visible(Student, ln["student_id"])
        if st is None:
            errors[f"links.{i}.student_id"] = ["student.unknown"]
            continue
        require(principal, cap, st.school_id)
        out.append((st, ln))
    if errors:
        raise ValidationFailed(errors)
    return out


def create_guardian(principal: Principal, data: dict[str, Any]) -> Guardian:
    pairs = _link_students(principal, data["links"], "people.guardian.manage")
    gd = Guardian(name=data["name"])
    _guardian_fields(gd, data)
    sess = db.session()
    sess.add(gd)
    sess.flush()
    for st, ln in pairs:
        sess.add(GuardianLink(guardian_id=gd.id, student_id=st.id, school_id=st.school_id,
                              relation_code=ln["relation_code"], is_primary=ln["is_primary"]))
        record("people.guardian.link", "guardian", gd.id, school_id=st.school_id, detail={"student_id": st.id})
    sess.flush()
    return gd


def _guardian_fields(gd: Guardian, data: dict[str, Any]) -> None:
    if "name" in data:
        gd.name = data["name"]
    if "phone" in data:
        gd.phone_enc = cipher().encrypt(data["phone"]) if data["phone"] else None
        gd.phone_hash = cipher().blind_index(data["phone"]) if data["phone"] else None
    if "id_number" in data:
        gd.id_number_hash = cipher().blind_index(data["id_number"]) if data["id_number"] else None


def update_guardian(principal: Principal, gd: Guardian, data: dict[str, Any]) -> Guardian:
    schools = set(db.session().scalars(sa.select(GuardianLink.school_id).where(GuardianLink.guardian_id == gd.id)))
    if not any(principal.can("people.guardian.manage", sid) for sid in schools):
        require(principal, "people.guardian.manage", next(iter(schools), None))
    if "links" in data:
        pairs = _link_students(principal, data.pop("links"), "people.guardian.manage")
        sess = db.session()
        for st, ln in pairs:
            link = sess.scalar(sa.select(GuardianLink).where(GuardianLink.guardian_id == gd.id,
                                                            GuardianLink.student_id == st.id))
            if link is None:
                sess.add(GuardianLink(guardian_id=gd.id, student_id=st.id, school_id=st.school_id,
                                      relation_code=ln["relation_code"], is_primary=ln["is_primary"]))
            else:
                link.relation_code, link.is_primary = ln["relation_code"], ln["is_primary"]
    _guardian_fields(gd, data)
    db.session().flush()
    record("people.guardian.update", "guardian", gd.id, school_id=next(iter(sorted(schools)), None),
           detail={"fields": sorted(data)})
    return gd


def teachers_of_class(class_id: int, lang: str | None = None) -> list[tuple[str, list[str]]]:
    """Who teaches the class (its homeroom and subject teacher assignments), as (role title, names)."""
    from foundation.i18n import current_lang
    from foundation.models import Account, Membership, Staff
    from foundation.permissions import ROLES

    rows = db.session().execute(
        sa.select(Membership.role, sa.func.coalesce(Staff.name, Account.display_name))
        .join(Account, Account.id == Membership.account_id)
        .outerjoin(Staff, sa.and_(Account.person_kind == "staff", Staff.id == Account.person_id))
        .where(Membership.org_unit_id == class_id, Membership.role.in_(("homeroom_teacher", "subject_teacher")),
               Account.active.is_(True))
        .order_by(Membership.role, Membership.id)).all()
    out: dict[str, list[str]] = {}
    for role, name in rows:
        out.setdefault(role, []).append(name)
    lang = lang or current_lang()
    return [(ROLES[r].en if lang == "en" else ROLES[r].zh, names) for r, names in out.items()]


def students_of_class(class_id: int) -> list[Student]:
    klass = _visible(OrgUnit, class_id)
    if klass is None:
        raise NotFound("class")
    from foundation.models import StudentClass

    attending = sa.select(StudentClass.student_id).where(StudentClass.class_id == class_id)
    return list(db.session().scalars(sa.select(Student).where(sa.or_(Student.class_id == class_id,
                                                                     Student.id.in_(attending)))
                                     .order_by(Student.student_no)))
