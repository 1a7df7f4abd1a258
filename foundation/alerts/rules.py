"""The rule registry, per school: rules registered in code (:func:`register_rule`, every school), declared by
plugins through the ``jizuo_alert_rules`` hook (only in schools where the plugin is enabled), and the rules
of a school's low-code apps (only in that school; read from the published apps, so every process knows
them). A rule says what it watches, its level, its category, whom to assign and how to judge recovery."""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from foundation.permissions import ROLES
from foundation.tenancy import unscoped

KEY = re.compile(r"^[a-z0-9][a-z0-9_.:-]{2,119}$")
CATEGORY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
# roles a case may be assigned or escalated to: staff of the school (not parents, students or the district)
def assignable() -> tuple[str, ...]:
    """Roles a case may be assigned or escalated to: the school's staff (core roles and plugins')."""
    return tuple(r for r, role in ROLES.items() if role.reach in ("school", "class"))
# a rule's scan and evaluation are plugin code: they see the one school they run for, whoever asked
FOR_SCHOOL = unscoped("a rule's scan or evaluation (a plugin's code) runs for one school")


# categories whose cases only their assignees see, unless a rule says otherwise: who is in difficulty or at
# risk is need-to-know, not for a grade head or the school's overview (their figures stay counts)
RESTRICTED_CATEGORIES = frozenset({"psychology", "aid"})


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
    chain: tuple[str, ...] | None = None  # the rule's own escalation chain (else the school's)
    restricted: bool = False  # its cases are seen by their assignees only (aid, psychology: need to know)
    evaluate: Callable[[Any, Any], bool | None] | None = None
    scan: Callable[[Any, int], Any] | None = None
    plugin: str | None = None  # declared by this plugin: known only where it is enabled
    school_id: int | None = None  # a low-code app's rule: known only in that school (None: the district's)
    lowcode: bool = False
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def label(self, lang: str) -> str:
        return self.title.get(lang) or self.title.get("zh") or self.key

    def run_scan(self, sess: Any, school_id: int) -> list[dict[str, Any]]:
        """The rule's scan of one school, acting for that school only."""
        with FOR_SCHOOL.for_school(sess, school_id):
            return list(self.scan(sess, school_id) or []) if self.scan else []

    def judge(self, sess: Any, case: Any) -> bool | None:
        """Did the case's indicator recover? (None: the rule cannot tell; a person judges.)"""
        if self.evaluate is None:
            return None
        with FOR_SCHOOL.for_school(sess, case.school_id):
            return self.evaluate(sess, case)


_RULES: dict[str, Rule] = {}


def parse(spec: dict[str, Any], plugin: str | None = None, school_id: int | None = None,
          lowcode: bool = False) -> Rule:
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
    if not isinstance(assign, list | tuple) or not all(r in assignable() for r in assign):
        raise RuleError(f"rule {key}: assign lists roles among {', '.join(assignable())}")
    days = spec.get("evaluation_days", 30)
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 366:
        raise RuleError(f"rule {key}: evaluation_days is 1-366")
    for name in ("evaluate", "scan"):
        if spec.get(name) is not None and not callable(spec[name]):
            raise RuleError(f"rule {key}: {name} must be callable")
    chain = spec.get("chain")
    if chain is not None and (not isinstance(chain, list | tuple) or not 1 <= len(chain) <= 8
                              or len(set(chain)) != len(chain) or not all(r in assignable() for r in chain)):
        raise RuleError(f"rule {key}: chain lists 1-8 distinct roles among {', '.join(assignable())}")
    sensitive = spec.get("sensitive", category == "psychology")
    restricted = spec.get("restricted", category in RESTRICTED_CATEGORIES)
    if not isinstance(restricted, bool):
        raise RuleError(f"rule {key}: restricted is true or false")
    known = {"key", "title", "level", "category", "assign", "sensitive", "evaluation_days", "evaluate", "scan",
             "chain", "restricted"}
    return Rule(key=key, title={"zh": title["zh"], "en": title["en"]}, level=level, category=category,
                assign=tuple(dict.fromkeys(["homeroom_teacher", *assign])), sensitive=bool(sensitive),
                evaluation_days=days, chain=tuple(chain) if chain else None, restricted=restricted,
                evaluate=spec.get("evaluate"), scan=spec.get("scan"), plugin=plugin,
                school_id=school_id, lowcode=lowcode, extra={k: v for k, v in spec.items() if k not in known})


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
    """Every rule of code and plugins, whatever the school (the CLI's list, the scheduler's scans)."""
    return {**_plugin_rules(), **_RULES}


def rules_for(sess: Any, school_id: int) -> dict[str, Rule]:
    """The rules known in one school: the code's, those of plugins enabled there, its low-code apps'."""
    from foundation.plugin_runtime import enabled_schools

    out = {k: r for k, r in _plugin_rules().items() if school_id in enabled_schools(r.plugin)}
    out.update(_RULES)
    out.update({r.key: r for r in lowcode_rules(sess, school_id)})
    return out


def lowcode_rules(sess: Any, school_id: int, key: str | None = None) -> list[Rule]:
    """The rules of the school's low-code apps (foundation/lowcode/rules.py), checked like any rule."""
    from foundation.lowcode.rules import school_rule_specs

    return [parse(spec, school_id=school_id, lowcode=True) for spec in school_rule_specs(sess, school_id, key)]


def get_rule(key: str, school_id: int | None = None, sess: Any = None) -> Rule | None:
    """A rule by key. With ``school_id``, only a rule known in that school (a plugin's where it is
    enabled, a low-code app's of that school)."""
    if key in _RULES:
        return _RULES[key]
    rule = _plugin_rules().get(key)
    if rule is not None:
        if school_id is None:
            return rule
        from foundation.plugin_runtime import enabled_schools

        return rule if school_id in enabled_schools(rule.plugin) else None
    if school_id is None or not key.startswith("lowcode."):
        return None
    from foundation import db

    return next(iter(lowcode_rules(sess or db.session(), school_id, key=key)), None)


def resolve(rule: str | dict[str, Any] | Rule, school_id: int | None = None) -> Rule:
    """A rule object, a registered rule by key (known in ``school_id``), or a rule dict checked on use."""
    if isinstance(rule, Rule):
        return rule
    if isinstance(rule, dict):
        return parse(rule, school_id=school_id)
    found = get_rule(rule, school_id) if isinstance(rule, str) else None
    if found is None:
        raise RuleError(f"unknown alert rule {rule!r}")
    return found


# A staff member's own concern about a student (raised from the API or the pages); level given per case.
register_rule({"key": "core.manual", "title": {"zh": "教师关注", "en": "Teacher's concern"}, "level": "yellow",
               "category": "general", "evaluation_days": 30})
