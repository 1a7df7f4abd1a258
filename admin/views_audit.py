"""The audit log page, in words: who did what to which record, when, in the reader's language; filters by
kind of action, person, dates, resource and (district) school; pages of 50. The same query and words as
``GET /api/v1/audit`` (foundation/api/audit.py, foundation/audit.py)."""
from __future__ import annotations

import math
from urllib.parse import urlencode

import sqlalchemy as sa
from flask import g, render_template, request
from marshmallow import ValidationError

from admin.blueprint import bp
from foundation import db
from foundation.api.audit import AuditFilter, audit_query, note_reading
from foundation.audit import AREAS, area_words, describe
from foundation.errors import APIError
from foundation.i18n import current_lang
from foundation.models import OrgUnit
from foundation.permissions import require

PER_PAGE = 50
FILTERS = ("kind", "who", "since", "until", "resource_type", "resource_id", "school_id")
RESOURCE_TYPES = ("student", "class", "guardian", "staff", "account", "alert_case", "form", "plugin", "listing",
                  "school", "message")


def _areas(lang: str) -> list[tuple[str, str]]:
    """The kinds of action to filter by: the core's areas, then each loaded plugin (its actions carry its name)."""
    from foundation.plugin_runtime import host

    areas = set(AREAS) | set(host().loaded)
    return sorted(((a, area_words(a, lang)) for a in areas), key=lambda x: x[1])


@bp.get("/audit")
def audit():
    p = g.principal
    require(p, "audit.read")
    lang = current_lang()
    raw = {k: request.args[k].strip() for k in FILTERS if request.args.get(k, "").strip()}
    errors: dict[str, str] = {}
    try:
        args = AuditFilter().load(raw | {"page": request.args.get("page", "1")})
    except ValidationError as err:
        errors = {k: (v[0] if isinstance(v, list) else str(v)) for k, v in err.normalized_messages().items()}
        args = {"page": 1}
    stmt = None
    try:
        stmt = audit_query(p, args) if not errors else None
    except APIError as err:  # a school out of reach, an end before the start
        errors = {k: (v[0] if isinstance(v, list) else str(v)) for k, v in err.fields.items()} or {"school_id": err.code}
    rows, total = [], 0
    if stmt is not None:
        sess = db.session()
        total = sess.scalar(sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery()))
        page = min(args["page"], max(1, math.ceil(total / PER_PAGE)))
        entries = sess.scalars(stmt.limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all()
        rows = describe(entries, lang)
        note_reading(p, {k: v for k, v in args.items() if k != "page"})
    else:
        page = 1
    pages = max(1, math.ceil(total / PER_PAGE))

    def link(**change) -> str:
        """This page's address with some filters changed (None drops one); back to page 1 unless a page is given."""
        merged = {k: v for k, v in (raw | {"page": None} | change).items() if v not in (None, "")}
        return "?" + urlencode(merged) if merged else "?"

    schools = []
    if p.is_district:
        schools = db.session().execute(sa.select(OrgUnit.id, OrgUnit.name, OrgUnit.name_en)
                                       .where(OrgUnit.kind == "school").order_by(OrgUnit.seq, OrgUnit.id)).all()
    status = 422 if errors else 200
    return render_template("admin/audit.html", rows=rows, total=total, page=page, pages=pages, link=link, raw=raw,
                           errors=errors, areas=_areas(lang), resource_types=RESOURCE_TYPES, schools=schools,
                           district=p.is_district, per_page=PER_PAGE), status

