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
def jizuo_roles() -> list[dict[str, Any]]:
    """Roles the plugin brings (a school admin then grants them to people at an org unit)::

        [{"name": "aid_officer", "zh": "资助专员", "en": "Aid officer", "reach": "school",
          "capabilities": ["people.student.read", "people.guardian.read"]}]

    ``reach``: ``school`` (the whole school), ``class`` (held at a class or grade), ``self`` or
    ``children``. ``capabilities`` are the core's a plugin's role may hold (reading people and records,
    handling alert cases: ``permissions.PLUGIN_ROLE_CORE_CAPS``); the plugin's own capabilities for the role
    come from :func:`jizuo_role_grants`. A core role cannot be redeclared; a bad declaration leaves the
    plugin out. Declared roles are known only while the plugin is loaded; people holding one get its
    capabilities only in schools where the plugin is enabled."""


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
def jizuo_student_profile() -> list[dict[str, Any]]:
    """Sections the plugin adds to one student's profile (一生一档), each behind a capability::

        [{"key": "points.conduct", "title": {"zh": "德育积分", "en": "Conduct"}, "capability": "points.rank.read",
          "order": 20, "sensitive": False,
          "data": callable(session, student, principal) -> dict | None,
          "template": "points/_profile.html"}]

    Shown only where the plugin is enabled in the student's school and the viewer holds ``capability``
    there (and reaches the student: the platform looked them up through the viewer's scope). ``student`` is
    a ``plugin_api.StudentRef``; ``data`` returns what the section shows (None: nothing for this viewer),
    JSON-able: ``GET /api/v1/students/<id>/profile`` answers it as is, and the student page renders it
    with ``template`` (a template of the plugin's blueprint, given ``data``, ``student`` and ``t``). A
    ``sensitive`` section's every read is audited. See foundation/profile.py."""


@hookspec
def jizuo_jobs() -> list[dict[str, Any]]:
    """Periodic work ``jizuo worker`` runs for each school where the plugin is enabled::

        [{"key": "learning.refit", "title": {"zh": "夜间重新拟合", "en": "Nightly refit"},
          "every": 86400, "at": "02:00", "run": callable(session, school_id) -> dict | None}]

    ``every`` is the period in seconds (at least 60); ``at`` (optional, "HH:MM" in the school's time zone)
    starts daily jobs at that time. ``run`` acts for one school (its session sees that school only); its
    writes commit per school, a failure rolls that school's back and is recorded. Each (job, period) runs
    once however many workers there are (the run is claimed in the database; with Redis the workers also
    skip a claimed period without asking it). ``jizuo jobs list`` / ``jizuo jobs run KEY`` for operators."""


@hookspec
def jizuo_district_figures() -> list[dict[str, Any]]:
    """Figures the plugin offers the district (局长看板), computed per school and desensitised by the
    platform before any district person sees them::

        [{"key": "points.score_bands", "title": {"zh": "德育积分分布", "en": "Conduct score bands"},
          "sensitive": False, "unit": "students",
          "compute": callable(session, school_id) -> [{"group": {"band": "≥950"}, "count": 87,
                                                       "value": 971.2?}, ...]}]

    For the cockpits (docs/cockpit.md) a spec may add ``"tile"`` (people, conduct, alerts, aid, wellbeing,
    learning, afterschool, communication, apps), ``"chart"`` (bar, stacked, line, interval), ``"periods":
    True`` (then ``compute(session, school_id, period)`` gets ``{"start": date, "end": date, "label": str}``,
    local dates, end exclusive, for a term or a month) and ``"rollup": "none"`` (keep per-school cells and
    their intervals above school level); cells may add ``low``/``high`` (an interval around ``value``) and
    ``grade``/``class`` in their group, which the principal's cockpit shows and the district's rolls up
    (counts summed, values count-weighted) before anything is suppressed.

    ``group`` holds categories only: a figure whose groups name a student (``student_id``, ``student_no``,
    ``name``…) is refused. Cells of fewer than 5 students are suppressed (count and value), and so is the
    next smallest cell of the same school when one alone would be recoverable from the school's total
    (complementary suppression). ``GET /api/v1/district/figures`` serves them to district staff, audited.
    See foundation/district_figures.py."""


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
