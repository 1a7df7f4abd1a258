"""Pages of the web shell. Thin: read through the scoped session, render; changes go to services."""
from __future__ import annotations

import time

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import abort, g, redirect, render_template, request, session, url_for

from admin.blueprint import bp
from foundation import codes, db
from foundation.audit import record
from foundation.auth import authenticate, enter_school, login_user
from foundation.i18n import t
from foundation.models import AuditEntry, Guardian, GuardianLink, OrgUnit, Staff, Student
from foundation.permissions import Forbidden, require
from foundation.services import people as svc


def _login_required():
    if g.get("principal") is None:
        return redirect(url_for("admin.login", next=request.full_path if request.method == "GET" else None))
    return None


@bp.before_request
def _guard():
    if request.endpoint in ("admin.login", "admin.login_2fa", "admin.static"):
        return None
    return _login_required()


def _one(model, ident: int):
    if not 0 < ident <= 2**31 - 1:
        abort(404)
    obj = db.session().scalar(sa.select(model).where(model.id == ident))
    if obj is None:
        abort(404)
    return obj


@bp.route("/login", methods=["GET", "POST"])
def login():
    error = None
    if request.method == "POST":
        result = authenticate(request.form.get("username", ""), request.form.get("password", ""))
        if result.account is not None:
            nxt = request.args.get("next") or ""
            nxt = nxt if nxt.startswith("/") and not nxt.startswith("//") else url_for("admin.home")
            if result.account.totp_secret_enc:  # second factor before the session is granted
                db.session().commit()
                session.clear()
                session["pending_2fa"] = {"account_id": result.account.id, "next": nxt, "at": int(time.time())}
                return redirect(url_for("admin.login_2fa"))
            login_user(result.account)
            db.session().commit()
            return redirect(nxt)
        error = t(result.error or "login.bad_credentials")
    from foundation.federation.routes import enabled_providers

    return render_template("admin/login.html", error=error, providers=enabled_providers()), (401 if error else 200)


@bp.post("/logout")
def logout():
    session.clear()
    return redirect(url_for("admin.login"))


@bp.get("/")
def home():
    p = g.principal
    if p.is_district and not p.district_school_id:
        return redirect(url_for("admin.org_tree"))
    sess = db.session()
    stats = None
    if p.can("people.student.read") and not p.children_ids and p.person_kind != "student":
        Grade = so.aliased(OrgUnit)
        per_grade = sess.execute(
            sa.select(Grade.name, sa.func.count(Student.id))
            .join(OrgUnit, OrgUnit.parent_id == Grade.id).join(Student, Student.class_id == OrgUnit.id)
            .group_by(Grade.id, Grade.name, Grade.seq).order_by(Grade.seq, Grade.id)
        ).all()
        stats = {
            "students": sess.scalar(sa.select(sa.func.count(Student.id))),
            "boarders": sess.scalar(sa.select(sa.func.count(Student.id)).where(Student.boarding.is_(True))),
            "classes": sess.scalar(sa.select(sa.func.count(OrgUnit.id)).where(OrgUnit.kind == "class")),
            "staff": sess.scalar(sa.select(sa.func.count(Staff.id))) if p.can("people.staff.read") else None,
            "grades": per_grade,
        }
    from foundation.dashboard import widgets_for
    from foundation.plugin_runtime import enabled_schools, host

    widgets = widgets_for(sess, p, host().each("jizuo_dashboard_widgets"), enabled_schools)
    return render_template("admin/home.html", stats=stats, widgets=widgets)


@bp.get("/org")
def org_tree():
    require(g.principal, "org.read")
    units = db.session().scalars(sa.select(OrgUnit).order_by(OrgUnit.seq, OrgUnit.id)).all()
    children: dict[int | None, list[OrgUnit]] = {}
    for u in units:
        children.setdefault(u.parent_id, []).append(u)
    return render_template("admin/org.html", children=children, roots=children.get(None, []))


@bp.post("/district/enter")
def district_enter():
    p = g.principal
    require(p, "district.cross_school")
    school_id = request.form.get("school_id", type=int)
    if school_id is None or not 0 < school_id < 2**31 or not enter_school(p, school_id, via="web"):
        abort(404)
    session["district_school_id"] = school_id
    return redirect(url_for("admin.home"))


@bp.post("/district/leave")
def district_leave():
    session.pop("district_school_id", None)
    return redirect(url_for("admin.org_tree"))


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


@bp.get("/audit")
def audit():
    p = g.principal
    require(p, "audit.read")
    stmt = sa.select(AuditEntry).order_by(AuditEntry.id.desc()).limit(200)
    if not p.is_district:
        stmt = stmt.where(AuditEntry.school_id.in_([s for s in p.school_ids() if p.can("audit.read", s)]))
    return render_template("admin/audit.html", entries=db.session().scalars(stmt).all())
