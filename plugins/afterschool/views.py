"""The plugin's pages (Jinja, extending the web shell's layout) and its blueprint. Families choose on a phone
(/afterschool/me); a teacher takes the roll on a phone (/afterschool/courses/<id>/roll); the school admin keeps
courses and windows and draws lotteries; the district sees every school side by side (/afterschool/district)."""
from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from flask import Blueprint, abort, redirect, render_template, url_for

from foundation.plugin_api import (
    Forbidden,
    NotFound,
    district_view,
    me,
    school_for,
    session,
    utcnow,
)
from plugins.afterschool import caps as A
from plugins.afterschool import catalog
from plugins.afterschool.models import Lottery, Window
from plugins.afterschool.present import courses_view, family_view, my_courses, window_view

HERE = Path(__file__).parent


def blueprint() -> Blueprint:
    """A new blueprint per app: the host adds its per-school gate to it."""
    from plugins.afterschool import api

    bp = Blueprint("afterschool", __name__, url_prefix="/afterschool", template_folder=str(HERE / "templates"),
                   static_folder=str(HERE / "static"), static_url_path="/static")
    r = bp.add_url_rule
    r("/", "home", home)
    r("/me", "me", me_page)
    r("/windows", "windows", windows_page)
    r("/windows/<int:window_id>", "window", window_page)
    r("/attendance", "attendance", attendance_page)
    r("/courses/<int:course_id>/roll", "roll", roll_page)
    r("/district", "district", district_page)
    api.register(bp)
    return bp


def _staff_school() -> int | None:
    try:
        return school_for(A.READ, A.NAME)
    except (Forbidden, NotFound):
        return None


def tabs(school: int | None) -> list[tuple[str, str]]:
    if school is None:
        return [("afterschool.me", "afterschool.nav.me")]
    p = me()
    out = [("afterschool.home", "afterschool.nav.courses"), ("afterschool.windows", "afterschool.nav.windows")]
    if p.can(A.ATTEND, school):
        out.append(("afterschool.attendance", "afterschool.nav.attendance"))
    return out


def home():
    school = _staff_school()
    if school is None:
        return redirect(url_for("afterschool.me"))
    sess = session()
    term = catalog.term_of(utcnow().date())
    rows = courses_view(sess, school, catalog.term_courses(sess, term))
    manage = me().can(A.MANAGE, school)
    form = _course_form(sess, school) if manage else None
    return render_template("afterschool/courses.html", courses=rows, term=term, tabs=tabs(school),
                           periods=catalog.periods(school), can_manage=manage, form=form)


def _course_form(sess, school: int) -> dict:
    """What the admin's course form offers: venues, the school's teachers, grades, categories, the grid."""
    from foundation.plugin_api import staff_of
    from plugins.afterschool.models import Venue

    venues = [{"id": v.id, "name": v.name, "capacity": v.capacity}
              for v in sess.scalars(sa.select(Venue).order_by(Venue.id))]
    teachers = sorted({(s["staff_id"], s["name"]) for s in staff_of(sess, school) if s["staff_id"]}, key=lambda x: x[1])
    return {"venues": venues, "teachers": teachers, "grades": catalog.grades(sess), "categories": catalog.CATEGORIES,
            "periods": catalog.periods(school)}


def me_page():
    kids = family_view(session())
    if not kids:
        abort(404)
    return render_template("afterschool/me.html", kids=kids, tabs=tabs(None), student=me().person_kind == "student")


def windows_page():
    school = school_for(A.READ, A.NAME)
    rows = session().scalars(sa.select(Window).order_by(Window.opens_at.desc(), Window.id.desc())).all()
    courses = [{"id": c.id, "title": c.title} for c in catalog.term_courses(session(), catalog.term_of(utcnow().date()))]
    return render_template("afterschool/windows.html", windows=[window_view(w) for w in rows], tabs=tabs(school),
                           grades=catalog.grades(session()), courses=courses, can_manage=me().can(A.MANAGE, school))


def window_page(window_id: int):
    school = school_for(A.READ, A.NAME)
    sess = session()
    w = sess.get(Window, window_id) if 0 < window_id < 2**31 else None
    if w is None:
        abort(404)
    lots = sess.scalars(sa.select(Lottery).where(Lottery.window_id == w.id).order_by(Lottery.id)).all()
    p = me()
    return render_template("afterschool/window.html", w=window_view(w), tabs=tabs(school),
                           lotteries=[{"id": x.id, "seed": x.seed, "ran_at": x.ran_at, "ran_by": x.ran_by,
                                       "hash": x.outcome_hash, "applicants": len(x.inputs["applicants"])} for x in lots],
                           can_manage=p.can(A.MANAGE, school), can_audit=p.can(A.AUDIT, school))


def attendance_page():
    school = school_for(A.ATTEND, A.NAME)
    sess = session()
    p = me()
    mine = my_courses(sess, p.person_id if p.person_kind == "staff" else None)
    if p.can(A.MANAGE, school):
        mine = catalog.term_courses(sess, catalog.term_of(utcnow().date()))
    today = utcnow().date().isoweekday()
    rows = courses_view(sess, school, mine)
    return render_template("afterschool/attendance.html", courses=rows, today=today, tabs=tabs(school))


def roll_page(course_id: int):
    from plugins.afterschool.api import _teacher_course

    try:
        course = _teacher_course(course_id)
    except (Forbidden, NotFound):
        abort(404)
    view = courses_view(session(), course.school_id, [course])[0]
    return render_template("afterschool/roll.html", course=view, tabs=tabs(course.school_id),
                           day=utcnow().date().isoformat())


@district_view
def district_page():
    p = me()
    if not (p.is_district and p.can("district.figures.read")):
        abort(404)
    from foundation.plugin_api import OrgUnit

    ou = OrgUnit.__table__.c
    schools = [{"id": r.id, "name": r.name, "name_en": r.name_en} for r in session().execute(
        sa.select(ou.id, ou.name, ou.name_en).where(ou.kind == "school").order_by(ou.seq, ou.id))]
    return render_template("afterschool/district.html", schools=schools, term=catalog.term_of(utcnow().date()))


