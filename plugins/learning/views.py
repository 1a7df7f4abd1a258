"""The plugin's pages (Jinja, extending the page shell) and its blueprint. Each page draws from the plugin's
JSON API (api.py) with the vendored ECharts; the student's map polls its JSON every few seconds, so a new
response shows on the radar without a reload."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, redirect, render_template, request, url_for

from foundation.plugin_api import (
    Forbidden,
    classes_in_reach,
    family_students,
    me,
    narrow_to,
    school_for,
    session,
    utcnow,
)
from plugins.learning import caps as A
from plugins.learning import catalogue
from plugins.learning.models import Push, Resource

HERE = Path(__file__).parent


def blueprint() -> Blueprint:
    from plugins.learning import api

    bp = Blueprint("learning", __name__, url_prefix="/learning", template_folder=str(HERE / "templates"),
                   static_folder=str(HERE / "static"), static_url_path="/static")
    r = bp.add_url_rule
    r("/", "home", home)
    r("/me", "me", me_page)
    r("/students/<int:student_id>", "student", student_page)
    r("/classes/<int:class_id>", "klass", class_page)
    r("/map", "map", map_page)
    r("/resources", "resources", resources_page)
    r("/value-added", "value", value_page)
    r("/open/<int:push_id>", "open", open_push)
    api.register(bp)
    return bp


def staff_school(cap: str = A.MAP) -> int | None:
    try:
        return school_for(cap, A.NAME)
    except Forbidden:
        return None


def tabs(school: int | None) -> list[tuple[str, str]]:
    if school is None:
        return [("learning.me", "learning.nav.me")]
    p, out = me(), [("learning.home", "learning.nav.class")]
    for cap, endpoint, label in ((A.CATALOGUE, "learning.map", "learning.nav.map"),
                                 (A.MAP, "learning.resources", "learning.nav.resources"),
                                 (A.VALUE, "learning.value", "learning.nav.value")):
        if p.can(cap, school):
            out.append((endpoint, label))
    return out


def _classes(school: int) -> list[dict]:
    return [{"id": c.id, "name": c.name} for c in classes_in_reach(school, A.NAME)]


def home():
    school = staff_school()
    if school is None:
        return redirect(url_for("learning.me"))
    classes = _classes(school)
    if not classes:
        abort(404)
    return redirect(url_for("learning.klass", class_id=classes[0]["id"]))


def me_page():
    p = me()
    kids = [k for k in family_students(A.NAME) if p.can(A.OWN, k.school_id)]
    if not kids:
        abort(404)
    if len(kids) == 1:
        return redirect(url_for("learning.student", student_id=kids[0].id))
    return render_template("learning/me.html", kids=kids, tabs=tabs(None))


def student_page(student_id: int):
    from plugins.learning.api import reach_student

    kid, staff = reach_student(student_id)
    return render_template("learning/student.html", kid=kid, staff=staff, tabs=tabs(kid.school_id if staff else None),
                           may_plan=staff and me().can(A.PLAN, kid.school_id))


def class_page(class_id: int):
    from plugins.learning.api import class_school

    school = class_school(class_id)
    classes = _classes(school)
    klass = next((c for c in classes if c["id"] == class_id), None)
    if klass is None:
        abort(404)
    return render_template("learning/class.html", klass=klass, classes=classes, tabs=tabs(school),
                           subject=request.args.get("subject", "math"))


def map_page():
    school = school_for(A.CATALOGUE, A.NAME)
    pts = [catalogue.point_view(p) for p in catalogue.points(session())]
    return render_template("learning/map.html", points=pts, tabs=tabs(school), subjects=catalogue.SUBJECTS)


def resources_page():
    school = school_for(A.MAP, A.NAME)
    from sqlalchemy import select

    rows = [catalogue.resource_view(r) for r in session().scalars(select(Resource).order_by(Resource.subject,
                                                                                            Resource.id))]
    return render_template("learning/resources.html", resources=rows, tabs=tabs(school),
                           may_edit=me().can(A.CATALOGUE, school), subjects=catalogue.SUBJECTS,
                           points=[catalogue.point_view(p) for p in catalogue.points(session()) if p.parent_code])


def value_page():
    school = school_for(A.VALUE, A.NAME)
    return render_template("learning/value.html", tabs=tabs(school), subject=request.args.get("subject", "math"))


def open_push(push_id: int):
    """A pushed resource, opened from the message: recorded once (when the student or a parent opens it),
    then on to the resource itself."""
    from sqlalchemy import select

    if not 0 < push_id < 2**31:
        abort(404)
    row = session().scalar(select(Push).where(Push.id == push_id))  # scoped: the student, parents, their staff
    if row is None:
        abort(404)
    narrow_to(row.school_id)
    res = session().scalar(select(Resource).where(Resource.id == row.resource_id))
    p = me()
    if row.opened_at is None and p.can(A.OWN, row.school_id):
        row.opened_at = utcnow()
        session().commit()
    return redirect(res.url if res else url_for("learning.home"))
