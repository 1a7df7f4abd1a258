"""The rule registry: rules registered in code (:func:`register_rule`), declared by plugins through the
``jizuo_alert_rules`` hook, or passed as a dict to ``trigger`` (a low-code app's rule, registered on first
use). A rule says what it watches, its level, its category, whom to assign and how to judge recovery."""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from foundation.permissions import ROLES

KEY = re.compile(r"^[a-z0-9][a-z0-9_.:-]{2,119}$")
CATEGORY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
# roles a case may be assigned or escalated to: staff of the school (not parents, students or the district)
ASSIGNABLE = tuple(r for r, role in ROLES.items() if role.reach in ("school", "class"))


class RuleError(ValueError):
    """A rule spec is malformed (a programming error in the plugin or app that declared it)."""


@dataclass(frozen=True)
class Rule:
    key: str
    title: dict[str, str]
    level: str
    category: str
    assign: tuple[str, ...] = ("homeroom_teacher",)
    sensitive: bool = False
    evaluation_days: int = 30
    evaluate: Callable[[Any, Any], bool | None] | None = None
    scan: Callable[[Any, int], Any] | None = None
    plugin: str | None = None  # declared by this plugin: scanned only where it is enabled
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def label(self, lang: str) -> str:
        return self.title.get(lang) or self.title.get("zh") or self.key


_RULES: dict[str, Rule] = {}


def parse(spec: dict[str, Any], plugin: str | None = None) -> Rule:
    """Check a rule dict (the shape of ``jizuo_alert_rules``) and build a :class:`Rule`."""
    if not isinstance(spec, dict):
        raise RuleError("a rule is a dict")
    key = spec.get("key")
    if not isinstance(key, str) or not KEY.match(key):
        raise RuleError(f"rule key {key!r}: 3-120 characters of a-z 0-9 _ . : -")
    title = spec.get("title", key)
    if isinstance(title, str):
        title = {"zh": title, "en": title}
    if not isinstance(title, dict) or not all(isinstance(title.get(k), str) and title[k] for k in ("zh", "en")):
        raise RuleError(f"rule {key}: title needs zh and en")
    level = spec.get("level")
    if level not in ("red", "yellow"):
        raise RuleError(f"rule {key}: level is red or yellow")
    category = spec.get("category", "general")
    if not isinstance(category, str) or not CATEGORY.match(category):
        raise RuleError(f"rule {key}: category is a short lowercase word")
    assign = spec.get("assign") or ["homeroom_teacher"]
    if not isinstance(assign, list | tuple) or not all(r in ASSIGNABLE for r in assign):
        raise RuleError(f"rule {key}: assign lists roles among {', '.join(ASSIGNABLE)}")
    days = spec.get("evaluation_days", 30)
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 366:
        raise RuleError(f"rule {key}: evaluation_days is 1-366")
    for name in ("evaluate", "scan"):
        if spec.get(name) is not None and not callable(spec[name]):
            raise RuleError(f"rule {key}: {name} must be callable")
    sensitive = spec.get("sensitive", category == "psychology")
    known = {"key", "title", "level", "category", "assign", "sensitive", "evaluation_days", "evaluate", "scan"}
    return Rule(key=key, title={"zh": title["zh"], "en": title["en"]}, level=level, category=category,
                assign=tuple(dict.fromkeys(["homeroom_teacher", *assign])), sensitive=bool(sensitive),
                evaluation_days=days, evaluate=spec.get("evaluate"), scan=spec.get("scan"), plugin=plugin,
                extra={k: v for k, v in spec.items() if k not in known})


def register_rule(spec: dict[str, Any]) -> Rule:
    """Register (or replace) a rule in this process. Returns the checked rule."""
    rule = parse(spec)
    _RULES[rule.key] = rule
    return rule


def unregister_rule(key: str) -> None:
    _RULES.pop(key, None)


def _plugin_rules() -> dict[str, Rule]:
    """Rules declared by the loaded plugins (through the app's plugin host), when there is an app."""
    from flask import current_app, has_app_context

    if not has_app_context() or "jizuo.plugins" not in current_app.extensions:
        return {}
    host = current_app.extensions["jizuo.plugins"]
    cache = current_app.extensions.setdefault("jizuo.alert_rules", {})
    marker = tuple(sorted(host.loaded))
    if cache.get("marker") != marker:
        found: dict[str, Rule] = {}
        for name, specs in host.each("jizuo_alert_rules"):
            for spec in specs or []:
                rule = parse(spec, plugin=name)
                found[rule.key] = rule
        cache.update(marker=marker, rules=found)
    return cache["rules"]


def all_rules() -> dict[str, Rule]:
    return {**_plugin_rules(), **_RULES}


def get_rule(key: str) -> Rule | None:
    return _RULES.get(key) or _plugin_rules().get(key)


def resolve(rule: str | dict[str, Any]) -> Rule:
    """A registered rule by key, or a rule dict checked and registered on first use."""
    if isinstance(rule, dict):
        known = get_rule(rule.get("key", "")) if isinstance(rule.get("key"), str) else None
        parsed = parse(rule)
        if known is None or known != parsed:
            _RULES[parsed.key] = parsed
        return parsed
    found = get_rule(rule) if isinstance(rule, str) else None
    if found is None:
        raise RuleError(f"unknown alert rule {rule!r}")
    return found


# A staff member's own concern about a student (raised from the API or the pages); level given per case.
register_rule({"key": "core.manual", "title": {"zh": "教师关注", "en": "Teacher's concern"}, "level": "yellow",
               "category": "general", "evaluation_days": 30})
