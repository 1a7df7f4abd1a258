"""The audit log page: who read or changed what, for the schools the viewer may audit."""
from __future__ import annotations

import sqlalchemy as sa
from flask import g, render_template

from admin.blueprint import bp
from foundation import db
from foundation.models import AuditEntry
from foundation.permissions import require


@bp.get("/audit")
def audit():
    p = g.principal
    require(p, "audit.read")
    stmt = sa.select(AuditEntry).order_by(AuditEntry.id.desc()).limit(200)
    if not p.is_district:
        stmt = stmt.where(AuditEntry.school_id.in_([s for s in p.school_ids() if p.can("audit.read", s)]))
    return render_template("admin/audit.html", entries=db.session().scalars(stmt).all())
