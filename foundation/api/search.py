"""Finding a student by what a teacher remembers: part of the name, the pinyin initials (张小明 → zxm) or the
start of the student number. Staff only, within their reach: the searchable pickers of the web pages
(admin/static/picker.js) ask here as the teacher types."""
from __future__ import annotations

from functools import lru_cache

import sqlalchemy as sa
from flask import current_app, jsonify, url_for
from marshmallow import Schema, fields, validate
from pypinyin import Style, lazy_pinyin

from foundation import db
from foundation.api.blueprint import bp, doc
from foundation.api.common import load_query
from foundation.api.schemas import Strict, _id
from foundation.audit import record
from foundation.errors import ValidationFailed
from foundation.i18n import current_lang, t
from foundation.models import OrgUnit, Student
from foundation.permissions import Forbidden
from foundation.reach import class_or_404, classes_in_reach, school_for, whole_school

MAX_LIMIT = 50


class StudentSearchQuery(Strict):
    q = fields.String(validate=validate.Length(max=40, error="field.length:{max}"), load_default="")
    class_id = _id()
    school_id = _id()
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_LIMIT, error="field.range:{min}-{max}"))


class StudentHit(Schema):
    id = fields.Integer()
    name = fields.String()
    student_no = fields.String()
    class_id = fields.Integer(allow_none=True)
    class_name = fields.String(allow_none=True)


# surnames whose reading as a surname differs from the character's usual one (曾 zēng, not céng): a name's
# initials are taken both ways, so a teacher typing either finds the student
SURNAME_INITIAL = {"曾": "z", "单": "s", "解": "x", "区": "o", "仇": "q", "查": "z", "覃": "q", "乐": "y", "翟": "z",
                   "朴": "p", "繁": "p", "种": "c", "召": "s", "句": "g", "宓": "f", "秘": "b", "员": "y", "隗": "w"}


@lru_cache(maxsize=100_000)
def initials(name: str) -> tuple[str, ...]:
    """The pinyin initials of a name (张小明 → ``("zxm",)``; 曾小明 → ``("cxm", "zxm")``). Cached per name:
    searching a 600-student school then costs a loop, not 600 conversions."""
    usual = "".join(lazy_pinyin(name, style=Style.FIRST_LETTER, errors="ignore")).lower()
    surname = SURNAME_INITIAL.get(name[:1])
    return (usual, surname + usual[1:]) if surname and usual[:1] != surname else (usual,)


def _rank(q: str, name: str, number: str) -> int | None:
    """How well a student matches: 0 exact, 1 a prefix (name, initials, number), 2 inside the name or the
    initials, None not at all."""
    low = name.lower()
    if q in (low, number.lower()):
        return 0
    heads = initials(name)
    if low.startswith(q) or number.lower().startswith(q) or any(h.startswith(q) for h in heads):
        return 1
    if q in low or any(q in h for h in heads):
        return 2
    return None


@bp.get("/students/search")
@doc("Find students you reach as staff by name, pinyin initials (张小明 → zxm) or the start of the student "
     "number; up to `limit` hits, best first. Families cannot search (403).", tags=["people"],
     query=StudentSearchQuery, response=StudentHit, many=True)
def search_students():
    args = load_query(StudentSearchQuery())
    q = " ".join(args["q"].split()).lower()
    school = school_for("people.student.read")  # the school the caller acts for; the session sees it only
    classes = classes_in_reach(school)
    if not classes:  # a parent or a student reaches records, never a list to search
        raise Forbidden("people.student.search")
    st = Student.__table__.c
    stmt = sa.select(st.id, st.name, st.student_no, st.class_id)
    if "class_id" in args:
        stmt = stmt.where(st.class_id == class_or_404(args["class_id"]).id)
    elif not whole_school(school):  # the classes taught, not a teacher's own children elsewhere in the school
        stmt = stmt.where(st.class_id.in_([c.id for c in classes]))
    if not q and "class_id" not in args:
        raise ValidationFailed({"q": ["field.required"]})
    if q.isdigit():
        stmt = stmt.where(st.student_no.startswith(q, autoescape=True))
    elif not q.isascii():
        stmt = stmt.where(st.name.contains(q, autoescape=True))
    # else letters: initials are not in the database, so rank what the caller reaches in Python
    ranked = []
    for row in db.session().execute(stmt):
        rank = _rank(q, row.name, row.student_no) if q else 1
        if rank is not None:
            ranked.append((rank, row.class_id or 0, row.student_no, row))
    ranked.sort(key=lambda r: r[:3])
    hits = [r[3] for r in ranked[:args["limit"]]]
    names = _class_names({h.class_id for h in hits if h.class_id})
    items = [{"id": h.id, "name": h.name, "student_no": h.student_no, "class_id": h.class_id,
              "class_name": names.get(h.class_id)} for h in hits]
    record("people.student.search", "student", None, school_id=school,
           detail={"q": q, "class_id": args.get("class_id"), "returned": [h.id for h in hits]})
    return jsonify({"items": StudentHit(many=True).dump(items), "total": len(ranked), "limit": args["limit"]})


def _class_names(ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    ou, en = OrgUnit.__table__.c, current_lang() == "en"
    rows = db.session().execute(sa.select(ou.id, ou.name, ou.name_en).where(ou.id.in_(sorted(ids))))
    return {r.id: (r.name_en if en and r.name_en else r.name) for r in rows}


PICKER_WORDS = ("placeholder", "chosen", "chosen_one", "remove", "none", "searching", "more", "failed", "required",
                "show_all")


def student_picker() -> dict:
    """What a page needs to turn a field into a searchable student picker (``data-picker="students"``): the
    search API's URL, the picker's texts in the viewer's language, and its script and style, which the web
    front end offers (``Shell.extra["student_picker"]``: name → (endpoint, filename)); without a front end
    offering one they are None and the page keeps its plain field."""
    shell = current_app.extensions.get("jizuo.shell")
    assets = (shell.extra if shell else {}).get("student_picker") or {}
    out: dict = {"search": url_for("api.search_students"), "script": None, "style": None,
                 "words": {k: t(f"search.picker.{k}") for k in PICKER_WORDS}}
    out.update({k: url_for(endpoint, filename=name) for k, (endpoint, name) in assets.items() if k in ("script", "style")})
    return out
