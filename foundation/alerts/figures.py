"""Timeliness and effect, the two things a school measures about its alerts:

- share handled within deadline — of the cases whose deadlines are decided (all met, or one missed), how
  many met every one;
- median time to contact — from opening to the first contact, plan or follow-up;
- share recovered at evaluation — of the evaluated cases, how many recovered.

Grouped per school, per rule, per class or per teacher (each account assigned at opening). Work attached
to a red case counts within that case, not on its own.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from statistics import median
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.alerts import clock
from foundation.models import Account, AlertAssignee, AlertCase, OrgUnit
from foundation.tenancy import unscoped

# the caller (foundation/api/alerts_school.py) has checked which schools' figures it may see
FIGURES = unscoped("alert figures of the schools the caller was checked for (the district: side by side)")

GROUPS = ("school", "rule", "class", "teacher")


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def figures(sess: so.Session, school_ids: list[int], by: str = "school", since: datetime | None = None,
            lang: str = "zh") -> list[dict[str, Any]]:
    """One row per group, largest first."""
    if by not in GROUPS:
        raise ValueError(by)
    c = AlertCase
    cols = [c.id, c.school_id, c.rule_key, c.rule_title, c.class_id, c.opened_at, c.first_action_at, c.missed,
            c.next_due_at, c.closed_at, c.recovered, c.contact_due_at, c.contact_at, c.plan_due_at, c.plan_at,
            c.follow_due_at, c.follow_at]
    stmt = sa.select(*cols).where(c.school_id.in_(school_ids), c.parent_case_id.is_(None))
    if since is not None:
        stmt = stmt.where(c.opened_at >= since)
    rows = sess.execute(stmt, execution_options=FIGURES).all()
    keys: dict[int, list[Any]] = {}
    labels: dict[Any, str] = {}
    if by == "teacher":
        for case_id, account, name in sess.execute(
                sa.select(AlertAssignee.case_id, Account.id, Account.display_name)
                .join(Account, Account.id == AlertAssignee.account_id)
                .join(c, c.id == AlertAssignee.case_id)
                .where(c.school_id.in_(school_ids), AlertAssignee.reason == "assigned"),
                execution_options=FIGURES):
            keys.setdefault(case_id, []).append(account)
            labels[account] = name
    else:
        units = {r.class_id for r in rows} | {r.school_id for r in rows}
        if units:
            labels.update(dict(sess.execute(sa.select(OrgUnit.id, OrgUnit.name if lang == "zh" else sa.func.coalesce(
                OrgUnit.name_en, OrgUnit.name)).where(OrgUnit.id.in_([u for u in units if u])),
                execution_options=FIGURES).all()))
    now = clock.now()
    acc: dict[Any, dict[str, Any]] = defaultdict(lambda: {"cases": 0, "open": 0, "overdue": 0, "decided": 0,
                                                         "within": 0, "minutes": [], "evaluated": 0, "recovered": 0})
    for r in rows:
        if by == "teacher":
            groups = keys.get(r.id, [])
        else:
            groups = [{"school": r.school_id, "rule": r.rule_key, "class": r.class_id}[by]]
            if by == "rule":
                labels[r.rule_key] = (r.rule_title or {}).get(lang) or r.rule_key
        pairs = ((r.contact_due_at, r.contact_at), (r.plan_due_at, r.plan_at), (r.follow_due_at, r.follow_at))
        all_done = all(done is not None for due, done in pairs if due is not None)
        for g in groups:
            a = acc[g]
            a["cases"] += 1
            if r.closed_at is None:
                a["open"] += 1
                a["overdue"] += int(r.next_due_at is not None and r.next_due_at < now)
            if r.missed or all_done:
                a["decided"] += 1
                a["within"] += int(not r.missed)
            if r.first_action_at is not None:
                a["minutes"].append((r.first_action_at - r.opened_at).total_seconds() / 60)
            if r.recovered is not None:
                a["evaluated"] += 1
                a["recovered"] += int(r.recovered)
    out = []
    for g, a in acc.items():
        out.append({"key": g, "label": labels.get(g, str(g)), "cases": a["cases"], "open": a["open"],
                    "overdue": a["overdue"], "decided": a["decided"], "within_deadline": a["within"],
                    "within_share": _share(a["within"], a["decided"]),
                    "median_minutes_to_contact": round(median(a["minutes"]), 1) if a["minutes"] else None,
                    "evaluated": a["evaluated"], "recovered": a["recovered"],
                    "recovered_share": _share(a["recovered"], a["evaluated"])})
    return sorted(out, key=lambda x: (-x["cases"], str(x["label"])))
