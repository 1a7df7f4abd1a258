"""Wiring loaded plugins into the app, per school: their capabilities and role grants, scopes, blueprints
(404 where the plugin is not enabled), and event subscriptions (only payloads of enabled schools)."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Flask, abort, current_app, g

from foundation import db, events
from foundation.models import PluginInstall
from foundation.permissions import CAPABILITIES
from foundation.pluginhost import PluginHost

SYSTEM = {"jizuo_all_schools": True}


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
                execution_options=SYSTEM):
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
    def check() -> None:
        p = g.get("principal")
        if p is None:
            return None  # the blueprint's own login handling answers
        if not (p.school_ids() & enabled_schools(name)):
            abort(404)  # not installed (or disabled) for this school: as if it did not exist
        return None

    return check


def config(plugin: str, school_id: int) -> dict[str, Any] | None:
    """A school's configuration of ``plugin`` (None when not installed)."""
    return db.session().scalar(sa.select(PluginInstall.config).where(
        PluginInstall.plugin == plugin, PluginInstall.school_id == school_id), execution_options=SYSTEM)


def _filtered(name: str, handler: Any, app: Flask):
    def deliver(event: str, payloads: list[dict]) -> None:
        from flask import has_app_context

        if has_app_context() and current_app._get_current_object() is not app:
            return  # the bus is per process; another app (a test's, a second instance) owns this event
        schools = enabled_schools(name)
        mine = [p for p in payloads if p.get("school_id") in schools]
        if mine:
            handler(event, mine)

    return deliver


def init_app(app: Flask, plugin_host: PluginHost) -> None:
    from foundation.oidc.scopes import declare_scope

    app.extensions["jizuo.plugins"] = plugin_host
    for name, caps in plugin_host.each("jizuo_capabilities"):
        for cap, labels in (caps or {}).items():
            if cap.split(".")[0] == name:
                CAPABILITIES.setdefault(cap, labels)
    for _, scopes in plugin_host.each("jizuo_scopes"):
        for sc in scopes or []:
            declare_scope(sc["name"], sc["zh"], sc["en"], set(sc.get("capabilities", [])))
    for name, blueprints in plugin_host.each("jizuo_blueprints"):
        for bp in blueprints or []:
            bp.before_request(_gate(name))
            app.register_blueprint(bp)
    unsubscribe = []
    for name, subs in plugin_host.each("jizuo_event_subscriptions"):
        for pattern, handler in (subs or {}).items():
            unsubscribe.append(events.subscribe(pattern, _filtered(name, handler, app)))
    app.extensions["jizuo.plugin_unsubscribe"] = unsubscribe
