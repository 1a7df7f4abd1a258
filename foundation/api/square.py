"""The app square (应用广场) through the API."""
from __future__ import annotations

import sqlalchemy as sa
from flask import jsonify, request

from foundation import db
from foundation.api.blueprint import bp, doc
from foundation.api.common import get_or_404, principal
from foundation.audit import record
from foundation.errors import NotFound, ValidationFailed
from foundation.inputs import clean_text
from foundation.models import AppListing, AppListingStep
from foundation.permissions import require
from foundation.services import square


def _visible():
    """The district sees everything; others see what is published (or deprecated: still running
    somewhere) and their own school's submissions."""
    p = principal()
    stmt = sa.select(AppListing).order_by(AppListing.kind, AppListing.key)
    if p.can("square.review"):
        return stmt
    return stmt.where(sa.or_(AppListing.status.in_(("published", "deprecated")),
                             AppListing.owner_school_id.in_(p.school_ids())))


def view(row: AppListing, history: bool = False) -> dict:
    out = {"id": row.id, "kind": row.kind, "key": row.key, "title": row.title, "description": row.description,
           "version": row.version, "status": row.status, "level": row.level,
           "owner_school_id": row.owner_school_id, "reuse": square.reuse(db.session(), row)}
    if history:
        out["history"] = [{"action": s.action, "from": s.from_status, "to": s.to_status, "by": s.by_name,
                           "reason": s.reason, "at": s.at.isoformat() + "Z"}
                          for s in db.session().scalars(sa.select(AppListingStep).where(
                              AppListingStep.listing_id == row.id).order_by(AppListingStep.id))]
    return out


@bp.get("/square")
@doc("The app square: listings you may see, with their status and reuse", tags=["square"])
def square_list():
    from foundation.plugin_runtime import host

    square.list_plugins(db.session(), host().loaded)
    rows = db.session().scalars(_visible()).all()
    status = request.args.get("status")
    items = [view(r) for r in rows if status is None or r.status == status]
    return jsonify({"items": items, "total": len(items)})


@bp.get("/square/<int:listing_id>")
@doc("One listing with its lifecycle history (who did each step and why)", tags=["square"])
def square_get(listing_id: int):
    row = db.session().scalar(_visible().where(AppListing.id == listing_id)) \
        if 0 < listing_id < 2**31 else None
    if row is None:
        raise NotFound("listing")
    return jsonify(view(row, history=True))


@bp.post("/square/<int:listing_id>/<action>")
@doc("A lifecycle step: review, publish, return, deprecate, restore, retire, promote (district)", tags=["square"],
     body="OptionalReasonIn")
def square_step(listing_id: int, action: str):
    p = principal()
    require(p, "square.review")
    row = get_or_404(AppListing, listing_id, "listing")
    body = request.get_json(silent=True)
    reason = clean_text(body.get("reason") if isinstance(body, dict) else None, "reason", required=False, limit=300)
    try:
        square.step(db.session(), row, action[:20], account_id=p.account_id, name=p.username, reason=reason)
    except square.SquareError as err:
        raise ValidationFailed({err.field: [err.key]}) from err
    record(f"square.{action[:20]}", "listing", row.id, detail={"key": row.key, "to": row.status, "reason": reason})
    return jsonify(view(row, history=True))
