"""The REST API under ``/api/v1/``: thin routes over the services, marshmallow in and out,
an OpenAPI document built from the same schemas at ``/api/v1/openapi.json``."""
from __future__ import annotations

from flask import Flask

from foundation.api.blueprint import bp, doc


def init_app(app: Flask) -> None:
    from foundation.api import (  # noqa: F401  (routes register on import)
        alerts,
        alerts_school,
        apps,
        audit,
        clients,
        district,
        federation,
        flows,
        forms,
        governance,
        me,
        messages,
        org,
        people,
        plugins,
        profile,
        records,
        search,
        square,
    )

    app.register_blueprint(bp)


__all__ = ["bp", "doc", "init_app"]
