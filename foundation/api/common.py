"""Helpers every route uses: scoped lookups (404 across schools), input loading, pagination."""
from __future__ import annotations

from typing import Any, TypeVar

import sqlalchemy as sa
from flask import current_app, g, request
from marshmallow import Schema
from marshmallow import ValidationError as MMValidationError

from foundation import db
from foundation.errors import NotFound, ValidationFailed
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


def _nul_fields(data: Any, prefix: str = "") -> dict[str, list[str]]:
    """Fields whose text holds a NUL character (PostgreSQL cannot store it; no person types it)."""
    out: dict[str, list[str]] = {}
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else []
    for key, value in items:
        name = f"{prefix}{key}"
        if isinstance(value, str) and "\x00" in value:
            out[name] = ["field.control_char"]
        elif isinstance(value, dict | list):
            out.update(_nul_fields(value, name + "."))
    return out


def load_body(schema: Schema, partial: bool = False) -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ValidationFailed({"_body": ["body.not_json_object"]})
    if bad := _nul_fields(data):
        raise ValidationFailed(bad)
    try:
        return schema.load(data, partial=partial)
    except MMValidationError as err:
        raise ValidationFailed(err.normalized_messages()) from err


def load_query(schema: Schema) -> dict[str, Any]:
    if bad := _nul_fields(request.args.to_dict()):
        raise ValidationFailed(bad)
    try:
        return schema.load(request.args.to_dict())
    except MMValidationError as err:
        raise ValidationFailed(err.normalized_messages()) from err


def paginate(stmt: sa.Select, args: dict[str, Any], dump: Any) -> dict[str, Any]:
    page = args.get("page", 1)
    per_page = min(args.get("per_page", 50), current_app.config["API_MAX_PER_PAGE"])
    sess = db.session()
    total = sess.scalar(sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery()))
    rows = sess.scalars(stmt.limit(per_page).offset((page - 1) * per_page)).unique().all()
    return {"items": dump(rows), "total": total, "page": page, "per_page": per_page}
