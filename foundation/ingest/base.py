"""Pushing the student base library (学籍系统 → Jizuo): upsert by (school, student number). Changes to
elements whose authoritative source is another system become conflicts, never silent overwrites."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app

from foundation.models import Change, Conflict, OrgUnit, Student
from foundation.security.fields import cipher_for, mask_id_number, normalise
from foundation.services.authority import split_update
from foundation.tenancy import unscoped

INGEST = unscoped("ingest resolves classes and students in the schools it has checked the caller may write")
COLUMNS = ("student_no", "name", "sex_code", "ethnicity_code", "birth_date", "boarding", "status_code")


def _current(s: Student) -> dict[str, Any]:
    out = {c: getattr(s, c) for c in COLUMNS}
    out["birth_date"] = s.birth_date.isoformat() if s.birth_date else None
    out["class_id"] = s.class_id
    return out


def store_students(sess: so.Session, lib, good: list[dict], source: str, authority, report) -> None:
    from datetime import date

    cipher = cipher_for(current_app.config["SECRET_KEY"])
    classes = {(sid, code): cid for sid, code, cid in sess.execute(
        sa.select(OrgUnit.school_id, OrgUnit.code, OrgUnit.id).where(
            OrgUnit.kind == "class", OrgUnit.school_id.in_({p["school_id"] for p in good})), execution_options=INGEST)}
    keys = {(p["school_id"], p["data"]["student_no"]) for p in good}
    existing = {(s.school_id, s.student_no): s for s in sess.scalars(
        sa.select(Student).where(Student.school_id.in_({k[0] for k in keys}),
                                 Student.student_no.in_({k[1] for k in keys})), execution_options=INGEST)}
    for p in good:
        data = dict(p["data"])
        proposed = {c: data[c] for c in COLUMNS if c in data}
        if "class" in data:
            proposed["class_id"] = classes[(p["school_id"], data["class"])]
        idn = data.get("id_number")
        row = existing.get((p["school_id"], data["student_no"]))
        if row is None:
            row = Student(school_id=p["school_id"], **{k: v for k, v in proposed.items() if k != "birth_date"})
            if proposed.get("birth_date"):
                row.birth_date = date.fromisoformat(proposed["birth_date"])
            if idn:
                row.id_number_enc, row.id_number_hash = cipher.encrypt(normalise(idn)), cipher.blind_index(idn)
            sess.add(row)
            sess.flush()
            existing[(p["school_id"], data["student_no"])] = row
            sess.add(Change(library="student", entity_id=row.id, op="create", school_id=row.school_id))
            report.created += 1
            report.ids.append(row.id)
            continue
        current = _current(row)
        if all(current.get(k) == v for k, v in proposed.items()) and not idn:
            report.unchanged += 1
            continue
        allowed = split_update(sess, library="student", entity="student", entity_id=row.id, school_id=row.school_id,
                               current=current, proposed={k: v for k, v in proposed.items() if current.get(k) != v},
                               source=source, authority=authority)
        if idn and cipher.blind_index(idn) != row.id_number_hash:
            owner = authority.get(("student", "id_number"))
            if owner is None or owner == source:
                row.id_number_enc, row.id_number_hash = cipher.encrypt(normalise(idn)), cipher.blind_index(idn)
                allowed["id_number"] = True
            else:  # a conflict that never holds the number in clear: masked for people, encrypted to apply
                sess.add(Conflict(library="student", entity="student", entity_id=row.id, element="id_number",
                                  school_id=row.school_id, source=source,
                                  current_value=mask_id_number(cipher.decrypt(row.id_number_enc))
                                  if row.id_number_enc else None,
                                  proposed_value={"masked": mask_id_number(idn), "enc": cipher.encrypt(normalise(idn))}))
        if not allowed:
            report.conflicts += 1
            continue
        for key, value in allowed.items():
            if key == "birth_date":
                row.birth_date = date.fromisoformat(value) if value else None
            elif key != "id_number":
                setattr(row, key, value)
        sess.add(Change(library="student", entity_id=row.id, op="update", school_id=row.school_id))
        report.updated += 1
