"""The pages about people: a teacher's classes and class roster, a student's profile (一生一档), a family's
children. Read through the scoped session: a student or class out of reach is 404."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, g, redirect, render_template, url_for

from admin.blueprint import bp
from admin.views import _one
from foundation import codes, db
from foundation.audit import record
from foundation.i18n import t
from foundation.models import Guardian, GuardianLink, OrgUnit, Student
from foundation.permissions import Forbidden, require
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
    klass = _one(OrgUnit, class_id)
    if klass.kind != "class":
        abort(404)
    scope = g.principal.scope()
    if klass.school_id not in scope.full_school_ids and class_id not in scope.class_ids:
        abort(404)  # a roster is for staff who reach the whole class; parents and students see their own record
    students = svc.students_of_class(class_id)
    record("people.student.list", "class", class_id, school_id=klass.school_id, detail={"returned": len(students)})
    rows = [svc.student_view(s) for s in students]
    sexes = {"1": sum(1 for s in students if s.sex_code == "1"), "2": sum(1 for s in students if s.sex_code == "2")}
    return render_template("admin/roster.html", klass=klass, rows=rows, sexes=sexes,
                           boarders=sum(1 for s in students if s.boarding))


@bp.get("/students/<int:student_id>")
def student_record(student_id: int):
    require(g.principal, "people.student.read")
    s = _one(Student, student_id)
    record("people.student.read", "student", s.id, school_id=s.school_id)
    guardians = []
    if g.principal.can("people.guardian.read", s.school_id):
        links = db.session().scalars(sa.select(GuardianLink).where(GuardianLink.student_id == s.id)).all()
        for ln in links:
            gd = db.session().scalar(sa.select(Guardian).where(Guardian.id == ln.guardian_id))
            if gd is not None:
                view = svc.guardian_view(gd)
                view["relation"] = codes.label("family_relation", ln.relation_code, t("lang.code"))
                guardians.append(view)
    can_reveal = g.principal.can("people.student.id_number.reveal", s.school_id)
    can_bind = g.principal.can("people.guardian.manage", s.school_id)
    from foundation.profile import sections
    from foundation.reach import student_or_404

    return render_template("admin/student.html", s=svc.student_view(s), guardians=guardians, can_reveal=can_reveal,
                           can_bind=can_bind, sections=sections(db.session(), student_or_404(s.id), g.principal))


@bp.get("/children")
def my_children():
    p = g.principal
    if p.person_kind == "student" and p.person_id:
        return redirect(url_for("admin.student_record", student_id=p.person_id))
    if not p.children_ids:
        raise Forbidden("people.student.read")
    kids = db.session().scalars(sa.select(Student).where(Student.id.in_(p.children_ids))).all()
    return render_template("admin/children.html", kids=[svc.student_view(k) for k in kids])
