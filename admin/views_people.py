"""The pages about people: a teacher's classes and class roster, a student's profile (一生一档), a family's
children. Read through the scoped session: a student or class out of reach is 404."""
from __future__ import annotations

import sqlalchemy as sa
from flask import g, redirect, render_template, url_for

from admin.blueprint import bp
from foundation import db
from foundation.audit import record
from foundation.models import OrgUnit, Student
from foundation.permissions import Forbidden, require
from foundation.profile import sections
from foundation.reach import class_or_404, is_family, student_or_404
from foundation.services import people as svc


@bp.get("/classes")
def my_classes():
    require(g.principal, "people.student.read")
    p = g.principal
    sess = db.session()
    stmt = sa.select(OrgUnit).where(OrgUnit.kind == "class").order_by(OrgUnit.parent_id, OrgUnit.seq)
    scope = p.scope()
    if not scope.full_school_ids:
        stmt = stmt.where(OrgUnit.id.in_(scope.class_ids))
    classes = sess.scalars(stmt).all()
    counts = dict(sess.execute(sa.select(Student.class_id, sa.func.count()).group_by(Student.class_id)).all())
    return render_template("admin/classes.html", classes=classes, counts=counts)


@bp.get("/classes/<int:class_id>")
def class_roster(class_id: int):
    require(g.principal, "people.student.read")
    # a roster is for staff who reach the whole class; parents and students see their own record (404 here)
    klass = db.session().get(OrgUnit, class_or_404(class_id).id)
    students = svc.students_of_class(class_id)
    record("people.student.list", "class", class_id, school_id=klass.school_id, detail={"returned": len(students)})
    rows = [svc.student_view(s) for s in students]
    sexes = {"1": sum(1 for s in students if s.sex_code == "1"), "2": sum(1 for s in students if s.sex_code == "2")}
    return render_template("admin/roster.html", klass=klass, rows=rows, sexes=sexes,
                           boarders=sum(1 for s in students if s.boarding), teachers=svc.teachers_of_class(class_id))


@bp.get("/students/<int:student_id>")
def student_record(student_id: int):
    """一生一档: the core's sections and every plugin's the viewer may see (foundation/profile.py)."""
    student = student_or_404(student_id)
    require(g.principal, "people.student.read", student.school_id)
    record("people.student.read", "student", student.id, school_id=student.school_id, detail={"view": "profile"})
    found = sections(db.session(), student, g.principal)
    return render_template("admin/student.html", student=student, sections=found,
                           identity=next((s["data"] for s in found if s["key"] == "core.identity"), {}),
                           own=is_family(g.principal, student))


@bp.get("/children")
def my_children():
    p = g.principal
    if p.person_kind == "student" and p.person_id:
        return redirect(url_for("admin.student_record", student_id=p.person_id))
    if not p.children_ids:
        raise Forbidden("people.student.read")
    kids = db.session().scalars(sa.select(Student).where(Student.id.in_(p.children_ids))).all()
    return render_template("admin/children.html", kids=[svc.student_view(k) for k in kids])
