"""Wiring loaded plugins into the app, per school: their capabilities and role grants, scopes, blueprints
(404 where the plugin is not enabled), and event subscriptions (only payloads of enabled schools)."""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from flask import Flask, abort, current_app, g, redirect, request

from foundation import db, events
from foundation.errors import APIError
from foundation.models import PluginInstall
from foundation.permissions import CAPABILITIES
from foundation.pluginhost import PluginHost
from foundation.tenancy import unscoped

# which schools enabled which plugin: the district's registry, read for every request's grants and gates
INSTALLS = unscoped("the plugin registry: which schools enabled a plugin, and a school's configuration of it")
# a plugin's code the platform runs for one school (an event subscriber, demo data, a job) sees that school only,
# whoever caused it to run (a parent's form, a vendor's feed, the scheduler)
FOR_SCHOOL = unscoped("the platform runs a plugin's code for one school: event subscribers, demo data, jobs")


def host() -> PluginHost:
    return current_app.extensions["jizuo.plugins"]


def enabled_schools(plugin: str) -> set[int]:
    """Schools where ``plugin`` is installed and enabled. One query per request serves every plugin (the
    role grants, gates and event filters of each request all ask)."""
    cache = g.get("plugin_schools") if _has_g() else None
    if cache is None:
        cache = {}
        for name, school in db.session().execute(
                sa.select(PluginInstall.plugin, PluginInstall.school_id).where(PluginInstall.enabled.is_(True)),
                execution_options=INSTALLS):
            cache.setdefault(name, set()).add(school)
        if _has_g():
            g.plugin_schools = cache
    return cache.get(plugin, set())


def _has_g() -> bool:
    from flask import has_app_context

    return has_app_context()


def plugin_caps(roles_by_school: dict[int, set[str]]) -> dict[int, set[str]]:
    """Capabilities plugins grant to the roles a person holds, per school where each plugin is enabled."""
    out: dict[int, set[str]] = {}
    for name, grants in host().each("jizuo_role_grants"):
        if not grants:
            continue
        schools = enabled_schools(name)
        for school, roles in roles_by_school.items():
            if school in schools:
                for role in roles:
                    out.setdefault(school, set()).update(grants.get(role, []))
    return out


def _gate(name: str):
    def check() -> Any:
        p = g.get("principal")
        if p is None:  # nobody signed in: an API answers 401, a page sends them to sign in
            if "/api/" in request.path:
                raise APIError("unauthorized", 401)
            if "/static/" in request.path:
                return None
            return redirect("/login?next=" + quote(request.full_path.rstrip("?")))
        if not (p.school_ids() & enabled_schools(name)):
            from foundation.district_views import is_district_view

            if p.is_district and enabled_schools(name) and (
                    (request.endpoint or "").endswith(".static")
                    or is_district_view(current_app.view_functions.get(request.endpoint))):
                return None  # a district page (``plugin_api.district_view``, and its files): it checks its capability
            abort(404)  # not installed (or disabled) for this school: as if it did not exist
        return None

    return check


def demo_data(plugin: str, school_ids: list[int], seed: int) -> None:
    """Let ``plugin`` fill its demo data in each school (``jizuo_demo_data``), acting for that school,
    committed school by school."""
    sess = db.session()
    for school in school_ids:
        with FOR_SCHOOL.for_school(sess, school):
            host().call(plugin, "jizuo_demo_data", session=sess, school_id=school, seed=seed)
        sess.commit()


def config(plugin: str, school_id: int) -> dict[str, Any] | None:
    """A school's configuration of ``plugin``: the manifest's ``default_config`` with what the school set
    on top (so a key a newer version adds has its default), or None when not installed there."""
    saved = db.session().scalar(sa.select(PluginInstall.config).where(
        PluginInstall.plugin == plugin, PluginInstall.school_id == school_id), execution_options=INSTALLS)
    if saved is None:
        return None
    loaded = host().loaded.get(plugin)
    defaults = loaded.manifest.get("default_config", {}) if loaded else {}
    return {**defaults, **saved}


def _filtered(name: str, handler: Any, app: Flask):
    """Deliver to a plugin's subscriber once per school where the plugin is enabled, acting for that school
    (its queries see that school and nothing else), each school in a savepoint of its own."""
    def deliver(event: str, payloads: list[dict]) -> None:
        from flask import has_app_context

        if has_app_context() and current_app._get_current_object() is not app:
            return  # the bus is per process; another app (a test's, a second instance) owns this event
        schools = enabled_schools(name)
        by_school: dict[int, list[dict]] = {}
        for p in payloads:
            if p.get("school_id") in schools:
                by_school.setdefault(p["school_id"], []).append(p)
        for school, mine in sorted(by_school.items()):
            def run(school: int = school, mine: list[dict] = mine) -> None:
                if not has_app_context():
                    handler(event, mine)
                    return
                with FOR_SCHOOL.for_school(db.session(), school):
                    handler(event, mine)

            events.isolated(f"{name}: {event}", run)

    deliver.jizuo_isolates = True
    return deliver


def _declare_roles(plugin_host: PluginHost) -> None:
    """Roles plugins bring (``jizuo_roles``); a plugin whose declaration is refused is left out."""
    from foundation.permissions import RoleError, declare_role

    for name, specs in plugin_host.each("jizuo_roles"):
        try:
            for spec in specs or []:
                declare_role(spec, name)
        except RoleError as err:
            plugin_host.unregister(name)
            plugin_host._fail(name, f"roles: {err}")


def init_app(app: Flask, plugin_host: PluginHost) -> None:
    from foundation.oidc.scopes import declare_scope

    app.extensions["jizuo.plugins"] = plugin_host
    _declare_roles(plugin_host)
    for name, caps in plugin_host.each("jizuo_capabilities"):
        for cap, labels in (caps or {}).items():
            if cap.split(".")[0] == name:
                CAPABILITIES.setdefault(cap, labels)
    for _, scopes in plugin_host.each("jizuo_scopes"):
        for sc in scopes or []:
            declare_scope(sc["name"], sc["zh"], sc["en"], set(sc.get("capabilities", [])))
    owners = app.extensions.setdefault("jizuo.plugin_blueprints", {})
    for name, blueprints in plugin_host.each("jizuo_blueprints"):
        for bp in blueprints or []:
            bp.before_request(_gate(name))
            app.register_blueprint(bp)
            owners[bp.name] = name  # the isolation probe and the OpenAPI document find plugins' routes here
    unsubscribe = []
    for name, subs in plugin_host.each("jizuo_event_subscriptions"):
        for pattern, handler in (subs or {}).items():
            unsubscribe.append(events.subscribe(pattern, _filtered(name, handler, app)))
    app.extensions["jizuo.plugin_unsubscribe"] = unsubscribe
