"""This front end's part of the page shell (foundation/shell): its navigation by role and its links."""
from __future__ import annotations

from pathlib import Path

from flask import Flask

from foundation import db
from foundation.i18n import add_messages, load_catalogue, t
from foundation.permissions import ROLES

_HERE = Path(__file__).parent
for _lang in ("zh", "en"):
    add_messages(_lang, load_catalogue(_HERE / "locales", _lang))

# (endpoint, label key, capability it checks, who it is for). Each entry mirrors its route's guard, so that a
# link is drawn only where it opens: "staff" = people holding a role over a school, its classes or the district
# (not parents, students nor student cadres, who are "family"); "school" = staff acting inside one school.
NAV = [
    ("admin.home", "nav.home", None, "all"),
    ("admin.my_classes", "nav.classes", "people.student.read", "school"),
    ("admin.my_children", "nav.children", None, "family"),
    ("admin.messages_inbox", "nav.messages", None, "all"),
    ("admin.alerts_inbox", "nav.alerts", "alerts.case.read", "school"),
    ("admin.forms_list", "nav.forms", "lowcode.form.read", "all"),
    ("admin.flow_approvals", "nav.approvals", "lowcode.approve", "school"),
    ("admin.flow_mine", "nav.my_submissions", "lowcode.form.submit", "all"),
    ("admin.org_tree", "nav.org", "org.read", "staff"),
    ("admin.audit", "nav.audit", "audit.read", "staff"),
    ("admin.app_square", "nav.square", None, "staff"),
    ("admin.standards", "nav.standards", None, "staff"),
    ("admin.conflicts", "nav.conflicts", "conflicts.resolve", "staff"),
    ("admin.apps", "nav.apps", "clients.manage", "staff"),
    ("admin.upstreams", "nav.upstreams", "district.cross_school", "staff"),
    ("admin.cockpit", "nav.cockpit", None, "school_wide"),  # the principal's cockpit (校长看板), issue 21
]
STAFF_REACH = ("district", "school", "class")


def is_staff(p) -> bool:
    """Does ``p`` hold a role over a school, some of its classes or the district (not only over a family)?"""
    return any(ROLES[g.role].reach in STAFF_REACH for g in p.grants if g.role in ROLES)


def _for(p, audience: str) -> bool:
    outside = p.is_district and not p.district_school_id  # district level: no school's rows, no school's tools
    if audience == "family":
        return bool(p.children_ids) or p.person_kind == "student"
    if audience == "staff":
        return is_staff(p)
    if audience == "school":
        return is_staff(p) and not outside
    if audience == "school_wide":  # staff who see a whole school: what the cockpit's guard asks (views_cockpit)
        return is_staff(p) and not outside and bool(p.scope().full_school_ids)
    return True


def nav_items(p) -> list[dict]:
    items = []
    for endpoint, label, cap, audience in NAV:
        if not _for(p, audience) or (cap and not p.can(cap)):
            continue
        if endpoint == "admin.my_children" and p.person_kind == "student":
            label = "nav.me"
        items.append({"endpoint": endpoint, "label": t(label)})
    return items


def init_context(app: Flask) -> None:
    """The shell's links and this front end's navigation (foundation/shell draws the page)."""
    from foundation.shell import configure

    shell = configure(app, home="/", nav=_nav_with_badge, account="admin.account_security", logout="admin.logout",
                      leave_school="admin.district_leave")
    # the searchable student picker is this front end's (static/picker.js); plugins' pages find it through
    # plugin_api.student_picker()
    shell.extra["student_picker"] = {"script": ("admin.static", "picker.js"), "style": ("admin.static", "picker.css")}


def _nav_with_badge(p) -> list[dict]:
    """The entries, with the unread count next to 消息."""
    from foundation.messaging import inbox

    items = nav_items(p)
    for item in items:
        if item["endpoint"] == "admin.messages_inbox":
            item["badge"] = inbox.unread_count(db.session(), p.account_id) if p.account_id else 0
            item["badge_id"] = "nav-unread"
    return items
