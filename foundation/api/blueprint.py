"""The ``/api/v1`` blueprint every API module registers its routes on: signed-in callers only (the OpenAPI
document excepted), and the OpenAPI document itself."""
from __future__ import annotations

from flask import Blueprint, g, jsonify, request

from foundation.api.openapi import build_spec, doc
from foundation.errors import APIError

__all__ = ["bp", "doc"]

bp = Blueprint("api", __name__, url_prefix="/api/v1")

PUBLIC_ENDPOINTS = {"api.openapi"}


@bp.before_request
def _require_login() -> None:
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    if g.get("principal") is None:
        raise APIError("unauthorized", 401)


@bp.get("/openapi.json")
@doc("This document (OpenAPI 3.0)", tags=["meta"], public=True, forbidden=False)
def openapi():
    return jsonify(build_spec(bp.name))
