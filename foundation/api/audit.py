"""Reading the audit log (school admins: their school; district admins: the district)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import jsonify

from foundation.api.blueprint import bp, doc
from foundation.api.common import load_query, paginate, principal
from foundation.api.org import filters_or_404
from foundation.api.schemas import AuditOut, AuditQuery
from foundation.models import AuditEntry
from foundation.permissions import require


@bp.get("/audit")
@doc("Audit log entries, newest first", tags=["audit"], query=AuditQuery, response=AuditOut, many=True)
def list_audit():
    args = load_query(AuditQuery())
    p = principal()
    require(p, "audit.read")
    filters_or_404(args)
    stmt = sa.select(AuditEntry).order_by(AuditEntry.id.desc())
    if not p.is_district:
        # a school admin reads the entries of their own schools only
        stmt = stmt.where(AuditEntry.school_id.in_([s for s in p.school_ids() if p.can("audit.read", s)]))
    for key in ("action", "resource_type", "resource_id", "school_id"):
        if key in args:
            stmt = stmt.where(getattr(AuditEntry, key) == args[key])
    return jsonify(paginate(stmt, args, AuditOut(many=True).dump))
