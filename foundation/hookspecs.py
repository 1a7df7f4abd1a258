"""Every hook a plugin can implement, in one place. Plugins import ``hookimpl`` from here (re-exported by
``foundation.plugin_api``), never pluggy itself. Each hook is called per plugin; a plugin implements
only what it needs. Hook names carry the ``jizuo_`` prefix; ``check_pending`` at start fails loudly on a
misspelt one."""
from __future__ import annotations

from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("jizuo")
hookimpl = pluggy.HookimplMarker("jizuo")


@hookspec
def jizuo_manifest() -> dict[str, Any]:
    """Called once when the plugin loads. Return the manifest (schemas/plugin-manifest.schema.json):
    name, version, titles and descriptions in zh and en, capabilities, config schema, the range of
    foundation versions it works with. A plugin whose manifest is invalid or out of range is left out."""


@hookspec
def jizuo_capabilities() -> dict[str, dict[str, str]]:
    """Capabilities the plugin declares, ``{"points.entry.create": {"zh": …, "en": …}}``; names must start
    with the plugin's name."""


@hookspec
def jizuo_role_grants() -> dict[str, list[str]]:
    """Which of the plugin's capabilities each existing role holds, ``{"homeroom_teacher": [...]}``, in
    schools where the plugin is enabled."""


@hookspec
def jizuo_scopes() -> list[dict[str, Any]]:
    """OAuth scopes for the plugin's API: ``[{"name", "zh", "en", "capabilities": [...]}]``."""


@hookspec
def jizuo_migrations() -> str | None:
    """The folder of the plugin's own Alembic versions (a branch labelled with the plugin's name), applied
    on install and on upgrade. Plugin tables carry the plugin's name as prefix."""


@hookspec
def jizuo_blueprints() -> list[Any]:
    """Flask blueprints (pages and API). Their routes answer only for schools where the plugin is enabled;
    elsewhere they are 404."""


@hookspec
def jizuo_nav_items() -> list[dict[str, Any]]:
    """Navigation entries: ``[{"endpoint", "zh", "en", "capability"}]``."""


@hookspec
def jizuo_event_subscriptions() -> dict[str, Any]:
    """Event pattern → handler ``(event, payloads)``. Payloads are only of schools where the plugin is
    enabled."""


@hookspec
def jizuo_form_templates() -> list[dict[str, Any]]:
    """Called when templates are seeded (``jizuo init``, ``jizuo demo``). Return low-code form and app
    templates teachers clone and adapt: ``[{"id", "title": {"zh", "en"}, "schema", "ui_schema", "app"}]``
    — ``app`` (optional) follows schemas/lowcode-app.schema.json (audience, views, rules, approval). Each
    is checked like a teacher's definition and published as a district-level form."""


@hookspec
def jizuo_alert_rules() -> list[dict[str, Any]]:
    """Alert rules (red / yellow) the plugin declares for the alert engine (foundation/alerts), each a dict:

    ``key`` (e.g. ``"points.weekly_drop"``), ``title`` ``{"zh", "en"}``, ``level`` ``"red"`` | ``"yellow"``,
    ``category`` (``"conduct"``, ``"psychology"``, ``"aid"``, ``"learning"``…: a yellow case joins an open red
    case of the same category), ``assign`` (roles besides the homeroom teacher, e.g.
    ``["psychology_teacher"]``), ``sensitive`` (notes visible to assigned staff only; default for
    ``psychology``), ``evaluation_days`` (the agreed period before judging recovery, default 30), optional
    ``evaluate(session, case) -> bool | None`` (did the indicator recover?) and optional
    ``scan(session, school_id) -> iterable of {"student_id", "value"?, "detail"?, "level"?}`` (run on the
    schedule, only in schools where the plugin is enabled). Event-driven rules call ``raise_alert`` from
    the plugin's event handler instead of (or as well as) scanning."""


@hookspec
def jizuo_dashboard_widgets() -> list[dict[str, Any]]:
    """Called for each home-page view, for plugins enabled in one of the viewer's schools. Return widgets:
    ``[{"key", "title": {"zh", "en"}, "capability"?, "order"?, "data": callable(session, principal)}]``
    where ``data`` returns ``{"value", "link"?, "tone"?: "red"|"yellow", "bars"?: [[label, n]], "note"?}``
    or None (nothing to show this person). See foundation/dashboard.py."""


@hookspec
def jizuo_message_types() -> list[dict[str, Any]]:
    """Message types for the message center (docs/messages.md), each a dict::

        {"key": "points.weekly_report", "title": {"zh": "…", "en": "…"},
         "template": {"zh": {"subject": "…{student_name}…", "body": "…"}, "en": {"subject": …, "body": …}},
         "variables": ["student_name", …],      # every {name} in a template must be listed here
         "mandatory": False,                    # True: nobody can switch its channels off (red alerts)
         "channels": ["inbox", "push", "email"]}   # optional (the default); add "webhook" to reach the portal

    Collected once per app when a type is first looked up; a malformed spec is logged and left out.
    Send with ``plugin_api.send_message(sess, key, recipients=[…], variables={…}, school_id=…)``."""


@hookspec
def jizuo_demo_data(session: Any, school_id: int, seed: int) -> None:
    """Fill demo data for one demo school (``jizuo demo``), deterministic per ``seed``. ``session`` acts for
    that school (its queries see it and nothing else); write with the ORM, Core or ``plugin_api.bulk_insert``
    and flush, the platform commits after each school."""


@hookspec
def jizuo_install(school_id: int, config: dict[str, Any]) -> None:
    """A school installed the plugin (after its migrations ran)."""


@hookspec
def jizuo_configure(school_id: int, old: dict[str, Any], new: dict[str, Any]) -> None:
    """A school changed the plugin's configuration (already validated against its config schema)."""


@hookspec
def jizuo_uninstall(school_id: int, purge: bool) -> None:
    """A school uninstalled the plugin. Data is kept unless ``purge`` (an admin confirmed it)."""
