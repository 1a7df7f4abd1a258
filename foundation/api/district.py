"""The figures plugins offer the district (``jizuo_district_figures``), desensitised by the platform:
every school side by side, no student identifier, small cells suppressed. District staff only, audited."""
from __future__ import annotations

import sqlalchemy as sa
from flask import jsonify, request

from foundation import db
from foundation.api.blueprint import bp, doc
from foundation.api.common import principal
from foundation.audit import record
from foundation.district_figures import MIN_CELL, figures_for
from foundation.models import OrgUnit
from foundation.permissions import Forbidden


@bp.get("/district/figures")
@doc("Plugins' figures for the district, per school, desensitised (cells under 5 students suppressed); "
     "?key= picks figures (repeatable)", tags=["district"])
def district_figures():
    p = principal()
    if not (p.is_district and p.can("district.figures.read")):
        raise Forbidden("district.figures.read")
    schools = list(db.session().scalars(sa.select(OrgUnit.id).where(OrgUnit.kind == "school").order_by(OrgUnit.id)))
    keys = set(request.args.getlist("key")) or None
    items = figures_for(db.session(), schools, keys)
    record("district.figures.read", "district", None, detail={"figures": [f["key"] for f in items]})
    return jsonify({"items": items, "min_cell": MIN_CELL, "schools": schools})
