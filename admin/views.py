"""Pages of the web shell. Thin: read through the scoped session, render; changes go to services."""
from __future__ import annotations

import time

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import abort, g, redirect, render_template, request, session, url_for

from admin.blueprint import bp
from admin.context import is_staff
from foundation import db
from foundation.auth import authenticate, enter_school, login_user, logout_user
from foundation.i18n import t
from foundation.models import OrgUnit, Staff, Student
from foundation.oidc.authn import remember_login
from foundation.permissions import Forbidden, require
from foundation.reach import class_in_reach
from foundation.security.redirects import local_path


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
            nxt = local_path(request.args.get("next")) or url_for("admin.home")
            if result.account.totp_secret_enc:  # second factor before the session is granted
                db.session().commit()
                session.clear()
                session["pending_2fa"] = {"account_id": result.account.id, "next": nxt, "at": int(time.time())}
                return redirect(url_for("admin.login_2fa"))
            login_user(result.account)
            remember_login("pwd")
            db.session().commit()
            return redirect(nxt)
        error = t(result.error or "login.bad_credentials")
    from foundation.federation.routes import enabled_providers

    return render_template("admin/login.html", error=error, providers=enabled_providers()), (401 if error else 200)


@bp.post("/logout")
def logout():
    logout_user()  # the session ends on the server: a saved copy of the cookie no longer signs anyone in
    return redirect(url_for("admin.login"))


@bp.get("/")
def home():
    p = g.principal
    sess = db.session()
    if p.is_district and not p.district_school_id:
        return _district_home(sess)
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


def _district_home(sess):
    """The district at district level: the district cockpit (局长看板: every school side by side, each entered
    explicitly, audited; admin/views_cockpit.py); without the figures' capability, its schools and widgets."""
    from admin.views_cockpit import district_home

    page = district_home()
    if page is not None:
        return page
    schools = sess.scalars(sa.select(OrgUnit).where(OrgUnit.kind == "school").order_by(OrgUnit.seq, OrgUnit.id)).all()
    from foundation.dashboard import widgets_for
    from foundation.plugin_runtime import enabled_schools, host

    widgets = widgets_for(sess, g.principal, host().each("jizuo_dashboard_widgets"), enabled_schools)
    return render_template("admin/home.html", stats=None, widgets=widgets, schools=schools)


@bp.get("/org")
def org_tree():
    p = g.principal
    require(p, "org.read")
    if not is_staff(p):
        raise Forbidden("org.read")  # the tree is the staff's map; families have their own pages
    units = db.session().scalars(sa.select(OrgUnit).order_by(OrgUnit.seq, OrgUnit.id)).all()
    children: dict[int | None, list[OrgUnit]] = {}
    for u in units:
        children.setdefault(u.parent_id, []).append(u)
    # a class is a link only where its roster opens for the viewer (its guard: reach and the capability)
    rosters = {u.id for u in units if u.kind == "class" and u.school_id is not None
               and class_in_reach(p, u.id, u.school_id) and p.can("people.student.read", u.school_id)}
    return render_template("admin/org.html", children=children, roots=children.get(None, []), rosters=rosters)


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
    return redirect(url_for("admin.home"))  # the district's overview
