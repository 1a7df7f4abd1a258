"""The alert engine (预警): one engine for every plugin and low-code app.

Rules come from code (:func:`register_rule`), from plugins (the ``jizuo_alert_rules`` hook) or as a dict
passed to :func:`trigger`. A trigger opens one case per (student, rule) — or raises the open case's count —
assigns the homeroom teacher and the roles the rule names, sets deadlines on the school's clock (red: around
the clock; yellow: school days), and tells the assignees. :func:`tick` runs scans, escalation and automatic
evaluation on a schedule. See docs/alerts.md.
"""
from __future__ import annotations

import json
from pathlib import Path

from foundation.alerts.actions import ActionError, act
from foundation.alerts.engine import trigger, trigger_many
from foundation.alerts.escalation import sweep
from foundation.alerts.rules import Rule, RuleError, all_rules, get_rule, register_rule, unregister_rule
from foundation.alerts.schedule import evaluate_due, run_scans, tick
from foundation.i18n import add_messages

for _lang in ("zh", "en"):
    add_messages(_lang, json.loads((Path(__file__).parent / "locales" / f"{_lang}.json").read_text("utf-8")))

__all__ = ["ActionError", "Rule", "RuleError", "act", "all_rules", "evaluate_due", "get_rule", "register_rule",
           "run_scans", "sweep", "tick", "trigger", "trigger_many", "unregister_rule"]
