"""The web shell: a Flask blueprint over foundation's services (login, navigation by role, org tree,
class roster, student record). Registered through the ``jizuo.web`` entry-point group."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from admin import (  # noqa: F401  (routes register on import)
        views,
        views_alerts,
        views_apps,
        views_audit,
        views_clients,
        views_cockpit,
        views_flow_editor,
        views_flows,
        views_forms,
        views_messages,
        views_people,
        views_security,
        views_square,
        views_standards,
        views_upstream,
    )
    from admin.blueprint import bp
    from admin.context import init_context

    init_context(app)
    app.register_blueprint(bp)
    from admin.cockpit_plan import plan  # the enrolment forecast and the balanced-development map (issue 21)

    app.register_blueprint(plan)
