"""The application factory."""
from __future__ import annotations

import logging
from importlib.metadata import entry_points
from typing import Any

from flask import Flask, Response, g

from foundation import auth, config, db, errors, health, inputs
from foundation.csrf import csrf
from foundation.security import headers

log = logging.getLogger("jizuo")


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then the environment, then ``test_config``; then the web front-ends
    registered in the ``jizuo.web`` entry-point group (admin/ is one)."""
    cfg = config.load(test_config)
    app = Flask("jizuo", instance_path=cfg["INSTANCE_PATH"], instance_relative_config=True)
    app.config.update(cfg)
    app.json.ensure_ascii = False  # Chinese stays readable in JSON answers

    inputs.init_app(app)  # first: body limits and bad characters, before anything reads the request
    db.init_app(app)
    csrf.init_app(app)
    errors.init_app(app)
    auth.init_app(app)
    health.init_app(app)

    from foundation import federation, oidc
    from foundation.api import init_app as init_api
    from foundation.oidc.scopes import declare_library_scopes
    from foundation.standards import catalog

    standard = catalog()  # loaded and validated at start: a broken standard stops the app, loudly
    if standard.problems:
        raise RuntimeError("the data standard has problems (jizuo standards check):\n" +
                           "\n".join(f"{p.file}: {p.path}: {p.message}" for p in standard.problems[:20]))
    declare_library_scopes(standard.libraries)

    oidc.init_app(app)
    federation.init_app(app)
    init_api(app)

    from foundation import plugin_runtime
    from foundation.pluginhost import discover

    plugin_runtime.init_app(app, (test_config or {}).get("PLUGIN_HOST") or discover())

    @app.after_request
    def _commit(resp: Response) -> Response:
        sess = g.get("db_session")
        if sess is not None:
            if resp.status_code < 400:
                sess.commit()
            else:
                sess.rollback()
        return resp

    headers.init_app(app)  # CSP, no-store, nosniff, framing (foundation/security/headers.py)

    from foundation import shell

    shell.init_app(app)
    for ep in entry_points(group="jizuo.web"):
        if test_config and ep.name in test_config.get("DISABLED_FRONTENDS", ()):
            continue
        ep.load()(app)
    return app
