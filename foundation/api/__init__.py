"""The REST API under ``/api/v1/``: thin routes over the services, marshmallow in and out,
an OpenAPI document built from the same schemas at ``/api/v1/openapi.json``."""
from __future__ import annotations

from flask import Blueprint, Flask, g, jsonify, request

from foundation.api.openapi import build_spec, doc
from foundation.errors import APIError

bp = Blueprint("api", __name__, url_prefix="/api/v1")

PUBLIC_ENDPOINTS = {"api.openapi"}


@bp.before_request
def _require_login() -> None:
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    if g.get("principal") is None:
        raise APIError("unauthorized", 401)


@bp.get("/openapi.json")
def openapi():
    return jsonify(build_spec(bp.name))


def init_app(app: Flask) -> None:
    from foundation.api import (  # noqa: F401  (routes register on import)
        alerts,
        alerts_school,
        apps,
        audit,
        clients,
        district,
        federation,
        forms,
        governance,
        me,
        messages,
        org,
        people,
        plugins,
        profile,
        records,
        square,
    )

    app.register_blueprint(bp)


__all__ = ["bp", "doc", "init_app"]
