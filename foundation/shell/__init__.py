"""The page shell: the layout every web page extends (``{% extends "jizuo/page.html" %}``), the core's front
end and plugins' pages alike. It carries the header, the navigation for the person (the front end's
entries, then the entries of plugins enabled in the person's school that they hold the capability for),
the language switch, the person and their roles, and the district admin's "current school" banner.

A front end registers what the shell links to and its navigation with :func:`configure`; plugins add
navigation through the ``jizuo_nav_items`` hook and page-specific CSS or JS in ``{% block head %}`` and
``{% block scripts %}``. Blocks: ``title``, ``head``, ``main``, ``scripts``.

On every page: ``static/shell.js`` (``jizuo.toast(text, kind)``, flashed messages as toasts, the phone menu,
tables as cards on phones), the design tokens of ``static/app.css`` and the favicon. Error pages are
``jizuo/error.html`` (foundation/errors.py). docs/ui.md is the guide for plugin authors.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Flask, g, redirect, request, url_for
from werkzeug.routing import BuildError

from foundation.csrf import generate_csrf
from foundation.i18n import LANGS, add_messages, current_lang, load_catalogue, t
from foundation.permissions import ROLES, Principal

log = logging.getLogger("jizuo.shell")


@dataclass
class Shell:
    """What the front end gives the shell: the URL of its home, the endpoints of its account page, logout and
    "leave the school", and its own navigation entries
    (``nav(principal) → [{"endpoint" | "href", "label", "badge"?, "badge_id"?}]``)."""

    home: str = "/"
    account: str | None = None
    logout: str | None = None
    leave_school: str | None = None
    nav: Callable[[Principal], list[dict[str, Any]]] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def configure(app: Flask, **kw: Any) -> Shell:
    shell = app.extensions.setdefault("jizuo.shell", Shell())
    for key, value in kw.items():
        setattr(shell, key, value)
    return shell


def _href(item: dict[str, Any]) -> str | None:
    """Where an entry leads; None (and the entry left out) when its endpoint is not served, e.g. a plugin's
    blueprint that failed to load: a broken entry must not take every page down."""
    if item.get("href"):
        return item["href"]
    try:
        return url_for(item["endpoint"])
    except BuildError:
        log.warning("navigation entry %s leads nowhere; left out", item.get("endpoint"))
        return None


def plugin_nav(p: Principal) -> list[dict[str, Any]]:
    """Entries plugins declare (``jizuo_nav_items``), for plugins enabled in one of the person's schools and
    capabilities the person holds there."""
    from foundation.plugin_runtime import enabled_schools, host

    lang, out = current_lang(), []
    for plugin, entries in host().each("jizuo_nav_items"):
        schools = p.school_ids() & enabled_schools(plugin)
        for e in entries or []:
            if schools and (not e.get("capability") or any(p.can(e["capability"], s) for s in schools)):
                out.append({"endpoint": e["endpoint"], "label": e.get(lang) or e.get("zh")})
    return out


def navigation(app: Flask, p: Principal | None) -> list[dict[str, Any]]:
    if p is None:
        return []
    shell: Shell = app.extensions.get("jizuo.shell") or Shell()
    items = list(shell.nav(p)) if shell.nav else []
    outside = p.is_district and not p.district_school_id  # district level: no school's capabilities
    if not outside:
        items[1:1] = plugin_nav(p)  # a school's capabilities come right after the home page
    out = []
    for i in items:
        href = _href(i)
        if href is not None:
            out.append({"href": href, "label": i["label"], "endpoint": i.get("endpoint"), "badge": i.get("badge"),
                        "badge_id": i.get("badge_id"),
                        "active": bool(i.get("endpoint")) and request.endpoint == i.get("endpoint")})
    return out


def _links(shell: Shell) -> dict[str, str | None]:
    return {"home": shell.home, **{k: url_for(getattr(shell, k)) if getattr(shell, k) else None
                                    for k in ("account", "logout", "leave_school")}}


def local_time(value: Any, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored UTC time (a datetime, or the API's ISO text with or without ``Z``) on the district's clock,
    as every page shows times: ``{{ e.occurred_at|local_time('%m-%d') }}``. A late arrival at 07:50 in
    Shanghai is stored as 23:50 UTC the day before; people must read 07:50."""
    from datetime import UTC, datetime

    from foundation.audit import LOCAL

    if not value:
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.removesuffix("Z"))
        except ValueError:
            return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(LOCAL).strftime(fmt)


def init_app(app: Flask) -> None:
    from pathlib import Path

    here = Path(__file__).parent
    for lang in LANGS:
        add_messages(lang, load_catalogue(here / "locales", lang))
    shell_bp = Blueprint("shell", __name__, template_folder=str(here / "templates"),
                         static_folder=str(here / "static"), static_url_path="/static/shell")

    @shell_bp.route("/favicon.ico")
    def favicon():
        """Browsers ask for /favicon.ico whatever the page links: answer with the SVG, never a 404."""
        return redirect(url_for("shell.static", filename="favicon.svg"), 301)

    app.register_blueprint(shell_bp)
    configure(app)
    app.add_template_filter(local_time, "local_time")

    @app.context_processor
    def _shell_context() -> dict[str, Any]:
        p = g.get("principal")
        lang = current_lang()
        school_name = None
        bare = g.get("shell_bare", False)  # an error page about a fault: nothing that reads the database
        if p is not None and p.is_district and p.district_school_id and not bare:
            from foundation import db
            from foundation.models import OrgUnit

            school_name = db.session().scalar(sa.select(OrgUnit.name).where(OrgUnit.id == p.district_school_id))
        from foundation.audit import LOCAL

        return {"t": t, "lang": lang, "principal": p, "csrf_token": generate_csrf, "current_school": school_name,
                "district_tz": LOCAL.key,
                "shell": _links(app.extensions["jizuo.shell"]), "nav": [] if bare else navigation(app, p),
                "role_titles": [getattr(ROLES[r], lang) for r in (p.roles if p else []) if r in ROLES]}

    @app.after_request
    def _remember_lang(resp):
        chosen = request.args.get("lang")
        if chosen in ("zh", "en"):
            resp.set_cookie("lang", chosen, max_age=365 * 86400, samesite="Lax", httponly=True)
        return resp
