"""The plugin's pages (Jinja, extending the page shell): the candidate list (sortable, with reasons), one
student's review page (figures, reasons, declaration, steps, aid; forms for each step), the school's coverage
with a chart. Pages render what the API returns for the same person; the forms post to the API
(static/aid.js). Anyone who is not a review role for a student meets 404, as on the API."""
from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from flask import Blueprint, abort, render_template, request

from foundation.plugin_api import (
    Forbidden,
    NotFound,
    OrgUnit,
    ValidationFailed,
    audit,
    current_lang,
    district_view,
    me,
    school_for,
    session,
)
from plugins.aid import caps as A
from plugins.aid import review

HERE = Path(__file__).parent


def blueprint() -> Blueprint:
    """A new blueprint per app: the host adds its per-school gate to it."""
    from plugins.aid import api

    bp = Blueprint("aid", __name__, url_prefix="/aid", template_folder=str(HERE / "templates"),
                   static_folder=str(HERE / "static"), static_url_path="/static")
    bp.add_url_rule("/", "home", home)
    bp.add_url_rule("/students/<int:student_id>", "student", student_page)
    bp.add_url_rule("/coverage", "coverage", coverage_page)
    bp.add_url_rule("/district", "district", district_page)
    api.register(bp)
    return bp


def _tabs(school: int) -> list[tuple[str, str]]:
    p = me()
    tabs = [("aid.home", "aid.nav.candidates")] if p.can(A.REVIEW, school) else []
    if p.can(A.COVERAGE, school):
        tabs.append(("aid.coverage", "aid.nav.coverage"))
    return tabs


def home():
    from plugins.aid.api import _month

    try:
        school = school_for(A.REVIEW, A.NAME)
        month = _month(request.args.get("month") or None)
    except (Forbidden, NotFound):
        abort(404)
    except ValidationFailed:
        abort(404)
    status = request.args.get("status", "candidate")
    status = status if status in ("candidate", "insufficient", "all") else "candidate"
    sort = request.args.get("sort", "score")
    sort = sort if sort in ("score", "spend", "class") else "score"
    p = me()
    out = review.candidate_list(session(), school, p, month, status, sort)
    audit("aid.candidate.list", "school", school, school_id=school,
          detail={"month": out["month"], "status": status, "students": [i["student_id"] for i in out["items"]]})
    return render_template("aid/list.html", data=out, status=status, sort=sort, tabs=_tabs(school),
                           officer=A.officer_in(p, school))


def student_page(student_id: int):
    from plugins.aid.api import AWARD_KINDS, METHODS, reviewed_student

    st = reviewed_student(student_id)
    body = review.student_view(session(), st)
    audit("aid.candidate.read", "student", st.id, school_id=st.school_id,
          detail={"months": [i["month"] for i in body["months"]], "page": True})
    return render_template("aid/student.html", s=body, tabs=_tabs(st.school_id), methods=METHODS,
                           award_kinds=AWARD_KINDS)


def coverage_page():
    try:
        school = school_for(A.COVERAGE, A.NAME)
    except (Forbidden, NotFound):
        abort(404)
    return render_template("aid/coverage.html", c=review.coverage(session(), school), tabs=_tabs(school))


@district_view
def district_page():
    """The district's view: every school's outcomes and coverage, counts only, as the platform desensitised
    them (``GET /api/v1/district/figures``, read by the page's script): small cells suppressed, no names."""
    p = me()
    if not (p.is_district and p.can("district.figures.read")):
        abort(404)
    ou = OrgUnit.__table__.c
    schools = {r.id: (r.name_en if current_lang() == "en" and r.name_en else r.name) for r in session().execute(
        sa.select(ou.id, ou.name, ou.name_en).where(ou.kind == "school").order_by(ou.seq, ou.id))}
    return render_template("aid/district.html", schools=schools, tabs=[])
