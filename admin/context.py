"""This front end's part of the page shell (foundation/shell): its navigation by role and its links."""
from __future__ import annotations

from pathlib import Path

from flask import Flask

from foundation import db
from foundation.i18n import add_messages, load_catalogue, t

_HERE = Path(__file__).parent
for _lang in ("zh", "en"):
    add_messages(_lang, load_catalogue(_HERE / "locales", _lang))

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


def nav_items(p) -> list[dict]:
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
        items.append({"endpoint": endpoint, "label": t(label)})
    return items


def init_context(app: Flask) -> None:
    """The shell's links and this front end's navigation (foundation/shell draws the page)."""
    from foundation.shell import configure

    configure(app, home="/", nav=_nav_with_badge, account="admin.account_security", logout="admin.logout",
              leave_school="admin.district_leave")


def _nav_with_badge(p) -> list[dict]:
    """The entries, with the unread count next to 消息."""
    from foundation.messaging import inbox

    items = nav_items(p)
    for item in items:
        if item["endpoint"] == "admin.messages_inbox":
            item["badge"] = inbox.unread_count(db.session(), p.account_id) if p.account_id else 0
            item["badge_id"] = "nav-unread"
    return items
