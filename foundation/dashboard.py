"""Dashboard widgets: the few figures each person sees first on their home page — their open alert cases,
unread messages, submissions waiting for their approval, and whatever the school's enabled plugins add
through ``jizuo_dashboard_widgets``.

A widget is a dict::

    {"key": "points.class_average", "title": {"zh": …, "en": …}, "capability": "points.score.read" | None,
     "order": 50, "data": callable(session, principal) -> dict | None}

``data`` returns ``{"value": 3, "link": "/alerts", "tone": "red" | "yellow" | None,
"bars": [[label, number], …] (optional, drawn as a small bar chart), "note": {"zh", "en"} (optional)}``
or None when the widget has nothing to say to this person. A widget that fails is logged and left out:
one plugin's bug never takes the home page down.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.i18n import t
from foundation.permissions import Principal

log = logging.getLogger("jizuo.dashboard")
_CORE: list[dict[str, Any]] = []


def register(widget: dict[str, Any]) -> None:
    """A core widget (plugins use the hook)."""
    _CORE[:] = [w for w in _CORE if w["key"] != widget["key"]] + [widget]


def widgets_for(sess: so.Session, p: Principal, plugin_widgets: list[tuple[str, list[dict]]],
                enabled: Callable[[str], set[int]]) -> list[dict[str, Any]]:
    """The widgets ``p`` sees, each with its data, in order. ``plugin_widgets`` are the hook's results per
    plugin; a plugin's widgets show only to people in a school where it is enabled."""
    candidates = list(_CORE)
    for plugin, widgets in plugin_widgets:
        if widgets and p.school_ids() & enabled(plugin):
            candidates += widgets
    out = []
    for w in sorted(candidates, key=lambda w: (w.get("order", 50), w["key"])):
        if w.get("capability") and not p.can(w["capability"]):
            continue
        try:
            data = w["data"](sess, p)
        except Exception:  # noqa: BLE001 - a widget's bug must not take the home page down
            log.exception("dashboard widget %s failed", w["key"])
            sess.rollback()
            continue
        if data is not None:
            out.append({"key": w["key"], "title": w["title"], **data})
    return out


def _pending_approvals(sess: so.Session, p: Principal) -> dict | None:
    from foundation.lowcode.flow import tasks_for

    mine = tasks_for(sess, p)
    if not mine:
        return None
    return {"value": len(mine), "link": "/approvals", "tone": "yellow"}


register({"key": "lowcode.pending_approvals", "title": {"zh": "待我审批", "en": "Awaiting my approval"},
          "capability": "lowcode.form.read", "order": 30, "data": _pending_approvals})


def _my_cases(sess: so.Session, p: Principal) -> dict | None:
    """Open alert cases assigned to me, by level (red first): the work that has a deadline."""
    from foundation.alerts import access
    from foundation.models import AlertCase

    rows = sess.execute(sa.select(AlertCase.level, sa.func.count()).where(
        access.visible_where(p), AlertCase.id.in_(access.assigned_ids(p)), AlertCase.closed_at.is_(None),
        AlertCase.parent_case_id.is_(None)).group_by(AlertCase.level)).all()
    counts = dict(rows)
    total = sum(counts.values())
    if not total:
        return None
    return {"value": total, "link": "/alerts", "tone": "red" if counts.get("red") else "yellow",
            "bars": [[t(f"alerts.level.{k}"), counts[k]] for k in ("red", "yellow") if counts.get(k)]}


def _unread(sess: so.Session, p: Principal) -> dict | None:
    from foundation.messaging.inbox import unread_count

    n = unread_count(sess, p.account_id) if p.account_id else 0
    return {"value": n, "link": "/messages"} if n else None


register({"key": "alerts.my_cases", "title": {"zh": "我的预警", "en": "My alert cases"},
          "capability": "alerts.case.read", "order": 10, "data": _my_cases})
register({"key": "messages.unread", "title": {"zh": "未读消息", "en": "Unread messages"},
          "capability": None, "order": 20, "data": _unread})
