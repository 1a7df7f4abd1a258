"""A low-code app's alert rules as the alert engine knows them: one rule spec per rule of an app's latest
published version that raises an alert, known only in the app's school (a district-level app's: in every
school). Read from the published apps, so every process knows them and no other school sees them; the
alert engine (foundation/alerts/rules.py) asks here and checks the specs like any rule."""
from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.models import FormVersion, LowcodeForm

KEY = re.compile(r"^lowcode\.f(\d+)\.(.+)$")


def rule_key(form_id: int, rule: dict[str, Any]) -> str:
    return f"lowcode.f{form_id}.{rule['key']}"


def rule_spec(form: LowcodeForm, rule: dict[str, Any]) -> dict[str, Any]:
    """The engine's rule spec (``jizuo_alert_rules`` shape) for one app rule that raises an alert."""
    title = form.title.get("zh", "")
    rule_title = (rule.get("title") or {}).get("zh") or rule["key"]
    spec = {"key": rule_key(form.id, rule), "level": rule["then"]["alert"]["level"],
            "title": {"zh": f"{title}：{rule_title}",
                      "en": f"{form.title.get('en', title)}: {(rule.get('title') or {}).get('en') or rule['key']}"},
            "category": "lowcode", "assign": ["homeroom_teacher"], "evaluation_days": 7, "sensitive": False}
    return spec


def school_rule_specs(sess: so.Session, school_id: int, key: str | None = None) -> list[dict[str, Any]]:
    """The alert rule specs of the apps of ``school_id`` (and the district's), or the one named ``key``."""
    forms = sa.select(LowcodeForm).where(sa.or_(LowcodeForm.school_id == school_id, LowcodeForm.school_id.is_(None)))
    if key is not None:
        match = KEY.match(key)
        if match is None:
            return []
        forms = forms.where(LowcodeForm.id == int(match.group(1)))
    latest = sa.select(FormVersion.form_id, sa.func.max(FormVersion.version).label("v")) \
        .group_by(FormVersion.form_id).subquery()
    rows = sess.execute(forms.add_columns(FormVersion.app)
                        .join(latest, latest.c.form_id == LowcodeForm.id)
                        .join(FormVersion, sa.and_(FormVersion.form_id == LowcodeForm.id,
                                                   FormVersion.version == latest.c.v)))
    out = []
    for form, app in rows:
        for rule in (app or {}).get("rules") or []:
            if "alert" in (rule.get("then") or {}) and (key is None or rule_key(form.id, rule) == key):
                out.append(rule_spec(form, rule))
    return out
