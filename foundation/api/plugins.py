"""Per-school plugin management: install, enable, disable, configure, uninstall. Disabling and uninstalling
take a written reason, kept in the audit log and shown in the plugin's history for the school."""
from __future__ import annotations

from typing import Any

import jsonschema
import sqlalchemy as sa
from flask import current_app, jsonify, request

from foundation import db
from foundation.api.blueprint import bp, doc
from foundation.api.common import principal
from foundation.audit import record
from foundation.errors import NotFound, ValidationFailed
from foundation.inputs import text_field
from foundation.models import Account, AuditEntry, PluginInstall
from foundation.permissions import Forbidden, require
from foundation.plugin_runtime import host
from foundation.tenancy import narrowed


def _school() -> int:
    """The school the admin acts for: their only school, or ``school_id`` when they have several."""
    p = principal()
    schools = sorted(s for s in p.school_ids() if p.can("plugins.manage", s))
    wanted = request.args.get("school_id", type=int)
    if wanted is not None:
        if wanted not in schools:
            raise NotFound("school")
        return wanted
    if len(schools) != 1:
        if not schools:
            raise Forbidden("plugins.manage")
        raise ValidationFailed({"school_id": ["field.required"]})
    return schools[0]


def _plugin(name: str):
    loaded = host().loaded.get(name[:40])
    if loaded is None:
        raise NotFound("plugin")
    return loaded


def _validate_config(manifest: dict, config: Any) -> dict:
    if not isinstance(config, dict):
        raise ValidationFailed({"config": ["plugin.config_object"]})
    merged = {**manifest.get("default_config", {}), **config}
    schema = manifest.get("config_schema")
    if schema:
        errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(merged), key=lambda e: list(e.path))
        if errors:
            raise ValidationFailed({"config." + ".".join(str(x) for x in e.path) if e.path else "config": [e.message]
                                    for e in errors})
    return merged


def _view(loaded, install: PluginInstall | None) -> dict:
    m = loaded.manifest
    return {"name": loaded.name, "version": m["version"], "title": m["title"], "description": m["description"],
            "origin": loaded.origin, "vendor": m.get("vendor"), "reads": m.get("reads", []),
            "capabilities": m.get("capabilities", []),
            "config_schema": m.get("config_schema"),
            "install": None if install is None else {"enabled": install.enabled, "config": install.config,
                                                     "version": install.version, "school_id": install.school_id}}


def _install_row(name: str, school: int) -> PluginInstall | None:
    return db.session().scalar(sa.select(PluginInstall).where(PluginInstall.plugin == name,
                                                              PluginInstall.school_id == school))


@bp.get("/plugins")
@doc("Plugins the district offers, with this school's installation state, and those left out", tags=["plugins"])
def list_plugins():
    p = principal()
    require(p, "plugins.manage")
    from foundation.services.square import list_plugins as list_in_square

    list_in_square(db.session(), host().loaded)
    school = _school() if not p.is_district else request.args.get("school_id", type=int)
    items = [_view(loaded, _install_row(name, school) if school else None)
             for name, loaded in sorted(host().loaded.items())]
    failures = [{"name": f.name, "reason": f.reason} for f in host().failures]
    return jsonify({"items": items, "left_out": failures})


@bp.post("/plugins/<name>/install")
@doc("Install a plugin for the school (runs its migrations; config validated by its schema)", tags=["plugins"],
     body="PluginInstallIn", status=201)
def install_plugin(name: str):
    p = principal()
    loaded = _plugin(name)
    school = _school()
    require(p, "plugins.manage", school)
    if _install_row(loaded.name, school) is not None:
        raise ValidationFailed({"plugin": ["plugin.installed"]})
    from foundation.models import AppListing
    from foundation.services.square import list_plugins as list_in_square

    list_in_square(db.session(), host().loaded)
    listing = db.session().scalar(sa.select(AppListing.status).where(AppListing.kind == "plugin",
                                                                    AppListing.key == loaded.name))
    if listing != "published":  # only what the district reviewed and published (准入、审核)
        raise ValidationFailed({"plugin": ["plugin.not_published"]})
    body = request.get_json(silent=True) or {}
    config = _validate_config(loaded.manifest, body.get("config", {}) if isinstance(body, dict) else None)
    from foundation.services.plugins import install

    row = install(db.session(), host(), loaded, school, config, database_url=current_app.config["DATABASE_URL"],
                  account_id=p.account_id)
    record("plugins.install", "plugin", loaded.name, school_id=school, detail={"version": row.version})
    return jsonify(_view(loaded, row)), 201


def _change(name: str, action: str):
    p = principal()
    loaded = _plugin(name)
    school = _school()
    require(p, "plugins.manage", school)
    row = _install_row(loaded.name, school)
    if row is None:
        raise NotFound("plugin_install")
    return loaded, school, row


def _reason(required: bool) -> str | None:
    """The body's ``reason``: why a school switches a plugin off (422 ``reason`` when it is missing)."""
    body = request.get_json(silent=True)
    data = body if isinstance(body, dict) else {}
    value = data.get("reason")
    if not isinstance(value, str) or not value.strip():
        if required:
            raise ValidationFailed({"reason": ["plugin.reason_required"]})
        return None
    return text_field(data, "reason", limit=REASON_MAX)


REASON_MAX = 300
HISTORY = ("plugins.install", "plugins.enable", "plugins.disable", "plugins.configure", "plugins.uninstall")


def history(name: str, school: int, limit: int = 20) -> list[dict]:
    """What the school did with the plugin, newest first: who, when, and why (the audit log's own rows)."""
    sess = db.session()
    rows = sess.execute(
        sa.select(AuditEntry.action, AuditEntry.at, AuditEntry.username, AuditEntry.detail, Account.display_name)
        .outerjoin(Account, Account.id == AuditEntry.account_id)
        .where(AuditEntry.resource_type == "plugin", AuditEntry.resource_id == name[:40],
               AuditEntry.school_id == school, AuditEntry.action.in_(HISTORY))
        .order_by(AuditEntry.id.desc()).limit(limit)).all()
    return [{"action": r.action.removeprefix("plugins."), "at": r.at, "by": r.display_name or r.username,
             "reason": (r.detail or {}).get("reason"), "purge": (r.detail or {}).get("purge")} for r in rows]


@bp.post("/plugins/<name>/<action>")
@doc('Enable or disable a plugin for the school; disabling takes a reason: `{"reason": "…"}`', tags=["plugins"],
     body="OptionalReasonIn", path={"action": {"type": "string", "enum": ["enable", "disable"]}})
def toggle_plugin(name: str, action: str):
    if action not in ("enable", "disable"):
        raise NotFound("action")
    loaded, school, row = _change(name, action)
    reason = _reason(required=action == "disable")
    row.enabled = action == "enable"
    row.updated_at = db.utcnow()
    record(f"plugins.{action}", "plugin", loaded.name, school_id=school, detail={"reason": reason} if reason else None)
    return jsonify(_view(loaded, row))


@bp.get("/plugins/<name>/history")
@doc("What the school did with a plugin (install, enable, disable, configure, uninstall), who and why", tags=["plugins"],
     response="PluginHistoryOut")
def plugin_history(name: str):
    p = principal()
    loaded = _plugin(name)
    school = _school()
    require(p, "plugins.manage", school)
    return jsonify({"items": [h | {"at": h["at"].isoformat() + "Z"} for h in history(loaded.name, school)]})


@bp.put("/plugins/<name>/config")
@doc("Configure a plugin for the school (validated by its config schema)", tags=["plugins"],
     body="PluginConfigIn")
def configure_plugin(name: str):
    loaded, school, row = _change(name, "config")
    body = request.get_json(silent=True)
    config = _validate_config(loaded.manifest, body.get("config") if isinstance(body, dict) else None)
    old, row.config, row.updated_at = row.config, config, db.utcnow()
    with narrowed(db.session(), school):
        host().call(loaded.name, "jizuo_configure", school_id=school, old=old, new=config)
    record("plugins.configure", "plugin", loaded.name, school_id=school)
    return jsonify(_view(loaded, row))


@bp.delete("/plugins/<name>")
@doc('Uninstall a plugin for the school with a reason, `{"reason": "…"}`; its data stays unless ?purge=true',
     tags=["plugins"], body="ReasonIn", status=204)
def uninstall_plugin(name: str):
    loaded, school, row = _change(name, "uninstall")
    reason = _reason(required=True)
    purge = request.args.get("purge", "false").lower() == "true"
    db.session().delete(row)
    with narrowed(db.session(), school):
        host().call(loaded.name, "jizuo_uninstall", school_id=school, purge=purge)
    record("plugins.uninstall", "plugin", loaded.name, school_id=school, detail={"purge": purge, "reason": reason})
    return "", 204
