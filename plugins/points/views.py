"""The plugin's pages (Jinja, extending the web shell's layout) and its blueprint. Pages render what the
API would return for the same person; the class board and the family page refresh themselves from the
JSON API every few seconds, so a new check-in shows without a reload."""
from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from flask import Blueprint, abort, redirect, render_template, request, url_for

from foundation.plugin_api import (
    Forbidden,
    NotFound,
    OrgUnit,
    classes_in_reach,
    is_staff_for,
    me,
    narrow_to,
    require_family,
    school_for,
    session,
    student_or_404,
    student_picker,
    whole_school,
)
from plugins.points import caps as A
from plugins.points import rulebook as rb
from plugins.points import standing

HERE = Path(__file__).parent


def blueprint() -> Blueprint:
    """A new blueprint per app: the host adds its per-school gate to it."""
    from plugins.points import api

    bp = Blueprint("points", __name__, url_prefix="/points", template_folder=str(HERE / "templates"),
                   static_folder=str(HERE / "static"), static_url_path="/static")
    r = bp.add_url_rule
    r("/", "home", home)
    r("/me", "me", me_page)
    r("/classes/<int:class_id>", "board", board)
    r("/rankings", "rankings", rankings_page)
    r("/students/<int:student_id>", "archive", archive_page)
    r("/students/<int:student_id>/report", "report", report_page)
    r("/entry", "entry", entry_page)
    r("/appeals", "appeals", appeals_page)
    r("/rulebook", "rulebook", rulebook_page)
    r("/eligibility", "eligibility", eligibility_page)
    api.register(bp)
    return bp


def _classes(school: int) -> list[dict]:
    """Classes the caller reaches as staff, in the school's order."""
    return [{"id": c.id, "name": c.name, "parent_id": c.grade_id} for c in classes_in_reach(school, A.NAME)]


def _tabs(school: int | None) -> list[tuple[str, str]]:
    p = me()
    if school is None:
        return [("points.me", "points.nav.me")]
    tabs = [("points.home", "points.nav.board")]
    if whole_school(school, p):
        tabs.append(("points.rankings", "points.nav.rankings"))
    for cap, endpoint, label in ((A.ENTRY, "points.entry", "points.nav.entry"),
                                 (A.DECIDE, "points.appeals", "points.nav.appeals"),
                                 (A.ELIGIBLE, "points.eligibility", "points.nav.eligible"),
                                 (A.RANK, "points.rulebook", "points.nav.rulebook")):
        if p.can(cap, school):
            tabs.append((endpoint, label))
    return tabs


def _staff_school() -> int | None:
    try:
        return school_for(A.RANK, A.NAME)
    except Forbidden:
        return None


def home():
    school = _staff_school()
    if school is None:
        return redirect(url_for("points.me"))
    classes = _classes(school)
    if not classes:
        abort(404)
    return redirect(url_for("points.board", class_id=classes[0]["id"]))


def me_page():
    from plugins.points.present import family_kids, family_view

    kids = [family_view(kid) for kid in family_kids()]
    if not kids:
        abort(404)
    return render_template("points/me.html", kids=kids, tabs=_tabs(None), dims=rb.DIMENSIONS)


def board(class_id: int):
    from plugins.points.present import class_school

    school = class_school(class_id)
    classes = _classes(school)
    klass = next((c for c in classes if c["id"] == class_id), {"name": "", "name_en": ""})
    return render_template("points/board.html", class_id=class_id, klass=klass, classes=classes,
                           tabs=_tabs(school))


def rankings_page():
    school = school_for(A.RANK, A.NAME)
    if not whole_school(school):
        abort(404)
    ou = OrgUnit.__table__.c
    grades = [dict(r._mapping) for r in session().execute(sa.select(ou.id, ou.name).where(
        ou.kind == "grade").order_by(ou.seq))]  # the request sees the school it acts for
    grade = request.args.get("grade", type=int)
    level = "grade" if grade in {x["id"] for x in grades} else "school"
    rows = standing.ranking(session(), [school], level, grade if level == "grade" else None, limit=300)
    return render_template("points/rankings.html", rows=rows, grades=grades, grade=grade, level=level,
                           tabs=_tabs(school))


def archive_page(student_id: int):
    kid = student_or_404(student_id, A.NAME)
    narrow_to(kid.school_id)
    p = me()
    staff = is_staff_for(p, kid, A.RANK)
    if not staff:
        require_family(kid, A.OWN)
    sess = session()
    book = rb.current(sess, kid.school_id)
    return render_template("points/archive.html", kid=kid, staff=staff, tabs=_tabs(kid.school_id if staff else None),
                           can_reverse=staff and p.can(A.REVERSE, kid.school_id),
                           can_appeal=not staff and p.can(A.APPEAL, kid.school_id), dims=rb.DIMENSIONS,
                           term=book["body"]["term"] if book else None)


def report_page(student_id: int):
    from plugins.points import report

    kid = student_or_404(student_id, A.NAME)

    narrow_to(kid.school_id)
    p = me()
    staff = is_staff_for(p, kid, A.RANK)
    if not staff:
        require_family(kid, A.OWN)
    data = report.build(session(), kid, staff=staff)
    if not data:
        abort(404)
    return render_template("points/report.html", r=data, staff=staff, dims=rb.DIMENSIONS,
                           tabs=_tabs(kid.school_id if staff else None))


def entry_page():
    """One rule item for one student or several at once: a searchable picker, the class list with a box per
    student and "whole class", one confirmation, one request (``api_entries.create_batch``)."""
    school = school_for(A.ENTRY, A.NAME)
    classes = _classes(school)
    book = rb.current(session(), school)
    items = [i for i in book["body"]["items"] if i.get("active", True)] if book else []
    chosen, class_id = [], request.args.get("class_id", type=int)
    preset = request.args.get("student_id", type=int)
    if preset:  # "登记" from a student's page: that student is already picked, their class listed
        try:
            kid = student_or_404(preset, A.NAME)
        except NotFound:
            kid = None
        if kid is not None and is_staff_for(me(), kid, A.ENTRY):
            names = {c["id"]: c["name"] for c in classes}
            chosen = [{"id": kid.id, "name": kid.name, "student_no": kid.student_no,
                       "class_name": names.get(kid.class_id, "")}]
            class_id = kid.class_id
    if class_id not in {c["id"] for c in classes}:
        class_id = classes[0]["id"] if classes else None
    return render_template("points/entry.html", items=items, classes=classes, class_id=class_id, chosen=chosen,
                           tabs=_tabs(school), levels=rb.LEVELS, picker=student_picker())


def appeals_page():
    school = school_for(A.DECIDE, A.NAME)
    return render_template("points/appeals.html", tabs=_tabs(school))


def rulebook_page():
    school = school_for(A.RANK, A.NAME)
    sess = session()
    book = rb.current(sess, school)
    if book is None:
        abort(404)
    return render_template("points/rulebook.html", book=book, history=rb.history(sess, school), tabs=_tabs(school),
                           editable=me().can(A.RULEBOOK, school), dims=rb.DIMENSIONS, kinds=rb.KINDS,
                           levels=rb.LEVELS)


def eligibility_page():
    school = school_for(A.ELIGIBLE, A.NAME)
    sess = session()
    book = rb.current(sess, school)
    rules = book["body"].get("eligibility", []) if book else []
    key = request.args.get("key") or (rules[0]["key"] if rules else None)
    rule, rows = standing.eligible(sess, school, key) if key else (None, [])  # the students the caller reaches
    return render_template("points/eligibility.html", rules=rules, rule=rule, rows=rows, tabs=_tabs(school))
