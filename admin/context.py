"""Template context: language, labels, navigation by role."""
from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa
from flask import Flask, g, request

from foundation import db
from foundation.csrf import generate_csrf
from foundation.i18n import add_messages, current_lang, t
from foundation.permissions import ROLES

_HERE = Path(__file__).parent
for _lang in ("zh", "en"):
    add_messages(_lang, json.loads((_HERE / "locales" / f"{_lang}.json").read_text("utf-8")))

# (endpoint, label key, capability needed, district-only?)
NAV = [
    ("admin.home", "nav.home", None),
    ("admin.org_tree", "nav.org", "org.read"),
    ("admin.my_classes", "nav.classes", "people.student.read"),
    ("admin.my_children", "nav.children", None),
    ("admin.messages_inbox", "nav.messages", None),
    ("admin.alerts_inbox", "nav.alerts", "alerts.case.read"),
    ("admin.audit", "nav.audit", "audit.read"),
    ("admin.forms_list", "nav.forms", "lowcode.form.read"),
    ("admin.app_square", "nav.square", "org.read"),
    ("admin.standards", "nav.standards", "org.read"),
    ("admin.conflicts", "nav.conflicts", "conflicts.resolve"),
    ("admin.apps", "nav.apps", "clients.manage"),
    ("admin.upstreams", "nav.upstreams", "district.cross_school"),
]


def nav_items() -> list[dict]:
    p = g.get("principal")
    if p is None:
        return []
    items = []
    outside = p.is_district and not p.district_school_id  # district level: only the tree and the audit log
    for endpoint, label, cap in NAV:
        if outside and endpoint in ("admin.my_classes", "admin.my_children"):
            continue
        if endpoint == "admin.my_children":
            if p.person_kind == "student":
                label = "nav.me"
            elif not p.children_ids:
                continue
        if endpoint == "admin.my_classes" and (p.children_ids or p.person_kind == "student"):
            continue
        if cap and not p.can(cap):
            continue
        items.append({"endpoint": endpoint, "label": t(label), "active": request.endpoint == endpoint})
    if not outside:
        items[1:1] = _plugin_items(p)  # a school's capabilities come right after the home page
    return items


def _plugin_items(p) -> list[dict]:
    """Entries plugins declare (``jizuo_nav_items``), for plugins enabled in one of the person's schools and
    capabilities the person holds there."""
    from foundation.plugin_runtime import enabled_schools, host

    lang, out = current_lang(), []
    for plugin, entries in host().each("jizuo_nav_items"):
        schools = p.school_ids() & enabled_schools(plugin)
        for e in entries or []:
            if schools and (not e.get("capability") or any(p.can(e["capability"], s) for s in schools)):
                out.append({"endpoint": e["endpoint"], "label": e.get(lang) or e.get("zh"),
                            "active": request.endpoint == e["endpoint"]})
    return out


def init_context(app: Flask) -> None:
    @app.context_processor
    def _ctx() -> dict:
        p = g.get("principal")
        lang = current_lang()
        school_name = None
        if p is not None and p.is_district and p.district_school_id:
            from foundation.models import OrgUnit

            unit = db.session().scalar(sa.select(OrgUnit).where(OrgUnit.id == p.district_school_id))
            school_name = unit.name if unit else None
        return {
            "t": t, "lang": lang, "current_school": school_name, "principal": p, "nav": nav_items(), "csrf_token": generate_csrf,
            "role_titles": [getattr(ROLES[r], lang) for r in (p.roles if p else [])],
        }

    @app.after_request
    def _remember_lang(resp):
        chosen = request.args.get("lang")
        if chosen in ("zh", "en"):
            resp.set_cookie("lang", chosen, max_age=365 * 86400, samesite="Lax", httponly=True)
        return resp
