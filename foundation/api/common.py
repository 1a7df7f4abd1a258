"""Helpers every route uses: scoped lookups (404 across schools), input loading, pagination (one reading of
``page`` and ``per_page``). A request's characters and depth are checked before (foundation/inputs.py)."""
from __future__ import annotations

from typing import Any, TypeVar

import sqlalchemy as sa
from flask import current_app, g, request
from marshmallow import Schema
from marshmallow import ValidationError as MMValidationError

from foundation import db
from foundation.errors import NotFound, ValidationFailed
from foundation.inputs import json_body
from foundation.permissions import Principal

INT_MAX = 2**31 - 1

T = TypeVar("T")


def principal() -> Principal:
    return g.principal


def get_or_404(model: type[T], ident: int, what: str) -> T:
    """Load through a SELECT (never ``Session.get``, whose identity map would skip the tenant criteria).
    A row of another school is simply not found."""
    if not 0 < ident <= INT_MAX:
        raise NotFound(what)
    obj = db.session().scalar(sa.select(model).where(model.id == ident))  # type: ignore[attr-defined]
    if obj is None:
        raise NotFound(what)
    return obj


def load_body(schema: Schema, partial: bool | tuple[str, ...] = False) -> dict[str, Any]:
    data = json_body()  # its text checked where it is parsed (foundation/inputs.py)
    try:
        return schema.load(data, partial=partial)
    except MMValidationError as err:
        raise ValidationFailed(err.normalized_messages()) from err


def load_query(schema: Schema) -> dict[str, Any]:
    try:
        return schema.load(request.args.to_dict())
    except MMValidationError as err:
        raise ValidationFailed(err.normalized_messages()) from err


def page_args(per_page: int = 50, most: int | None = None) -> dict[str, int]:
    """``page`` and ``per_page`` of the query (``per_page`` up to ``most``, else ``API_MAX_PER_PAGE``): 422
    naming whichever of the two is not a whole number in its range."""
    bounds = {"page": (1, 1_000_000), "per_page": (per_page, most or current_app.config["API_MAX_PER_PAGE"])}
    out: dict[str, int] = {}
    bad: dict[str, list[str]] = {}
    for name, (default, top) in bounds.items():
        raw = request.args.get(name, "").strip()
        value = int(raw) if raw.isdecimal() and len(raw) < 10 else (default if raw == "" else 0)
        if not 1 <= value <= top:
            bad[name] = [f"field.range:1-{top}"]
        out[name] = value
    if bad:
        raise ValidationFailed(bad)
    return out


def paginate(stmt: sa.Select, args: dict[str, Any], dump: Any) -> dict[str, Any]:
    page = args.get("page", 1)
    per_page = min(args.get("per_page", 50), current_app.config["API_MAX_PER_PAGE"])
    sess = db.session()
    total = sess.scalar(sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery()))
    rows = sess.scalars(stmt.limit(per_page).offset((page - 1) * per_page)).unique().all()
    return {"items": dump(rows), "total": total, "page": page, "per_page": per_page}
