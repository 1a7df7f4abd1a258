"""The plugin's pages (Jinja, extending the shell) and its blueprint. Each page asks ``access.py`` first and
shows what the API would give the same person: the psychology staff's workbench (screenings, cases, live),
a homeroom teacher's view of their own classes (levels and deadlines only), a student's screening and the
supportive page after it, a guardian's consent page."""
from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from flask import Blueprint, render_template

from foundation.plugin_api import NotFound, OrgUnit, audit, family_students, me, session
from plugins.wellbeing import access as A
from plugins.wellbeing import api, scales, screening
from plugins.wellbeing.models import Response
from plugins.wellbeing.scoring import instrument

HERE = Path(__file__).parent


def blueprint() -> Blueprint:
    """A new blueprint per app: the host adds its per-school gate to it."""
    bp = Blueprint("wellbeing", __name__, url_prefix="/wellbeing", template_folder=str(HERE / "templates"),
                   static_folder=str(HERE / "static"), static_url_path="/static")
    r = bp.add_url_rule
    r("/", "home", home)
    r("/classes", "classes", home)
    r("/screenings/<int:screening_id>", "screening", screening_page)
    r("/students/<int:student_id>", "student", student_page)
    r("/me", "mine", mine)
    r("/screenings/<int:screening_id>/fill", "fill", fill)
    r("/thanks", "thanks", thanks)
    r("/consent", "consent", consent_page)
    api.register(bp)
    return bp


def home():
    school, kind = A.staff_school()
    sess, p = session(), me()
    items = api.cases_for(sess, school, kind, p)
    audit("wellbeing.cases.read", "school", school, school_id=school, detail={"shown": len(items), "kind": kind})
    screenings, classes, grades, clones = [], [], [], []
    if kind == "full":
        screenings = api.list_screenings().get_json()["items"]
        clones = scales.clones(sess, school)
        ou = OrgUnit.__table__.c
        units = sess.execute(sa.select(ou.id, ou.name, ou.kind, ou.parent_id).where(
            ou.school_id == school, ou.kind.in_(("grade", "class"))).order_by(ou.code, ou.id)).all()
        grades = [u for u in units if u.kind == "grade"]
        classes = [u for u in units if u.kind == "class"]
    return render_template("wellbeing/home.html", kind=kind, cases=items, screenings=screenings, grades=grades,
                           classes=classes, clones=clones, today=screening.today(sess, school).isoformat())


def screening_page(screening_id: int):
    data = api.get_screening(screening_id).get_json()
    return render_template("wellbeing/screening.html", s=data)


def student_page(student_id: int):
    data = api.student(student_id).get_json()
    scales = {k: instrument(k) for k in ("phq9", "gad7")}
    return render_template("wellbeing/student.html", d=data, scales=scales)


def _me_student():
    p = me()
    kid = next((k for k in family_students(A.NAME) if p.person_kind == "student" and k.id == p.person_id), None)
    if kid is None or not p.can(A.FILL, kid.school_id):
        raise NotFound("page")
    return kid


def mine():
    kid = _me_student()
    sess = session()
    done = sess.scalar(sa.select(sa.func.count()).select_from(Response).where(Response.student_id == kid.id))
    rows = screening.open_for(sess, kid)
    waiting = screening.state({"birth_date": _birth(kid.id)}, rows[0], False,
                              _consent(kid.id)) if rows else None
    return render_template("wellbeing/mine.html", screenings=rows, done=done, waiting=waiting)


def _birth(student_id: int):
    from foundation.plugin_api import Student

    return session().scalar(sa.select(Student.birth_date).where(Student.id == student_id))


def _consent(student_id: int):
    from plugins.wellbeing.consent import states

    return states(session(), [student_id]).get(student_id)


def fill(screening_id: int):
    kid = _me_student()
    row = next((s for s in screening.open_for(session(), kid) if s.id == screening_id), None)
    if row is None:
        raise NotFound("screening")
    blocked = screening.state({"birth_date": _birth(kid.id)}, row, False, _consent(kid.id)) != "not_yet"
    return render_template("wellbeing/fill.html", s=row, scale=instrument(row.instrument), blocked=blocked)


def thanks():
    kid = _me_student()
    return render_template("wellbeing/thanks.html", support=api.support(kid.school_id))


def consent_page():
    if me().person_kind != "guardian":
        raise NotFound("page")
    return render_template("wellbeing/consent.html", kids=api.consent_children())
