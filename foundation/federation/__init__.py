"""Federated login from upstream OpenID providers (the city portal 随申办, parent portals) and the safe
linking of those identities to people: by a verified claim the district maps, or by a binding code."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from foundation.federation.routes import bp

    app.register_blueprint(bp)
