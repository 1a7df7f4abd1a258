"""学情追踪 (Learning tracking): knowledge maps and the Q-matrix, mastery per student and knowledge point by
Bayesian Knowledge Tracing (updated live as each response arrives, refitted nightly), the learning map,
resource pushes (一生一案), value-added evaluation and the weak-point alert. A first-party plugin registered
through the ``jizuo.plugins`` entry point like any vendor's; it imports only ``foundation.plugin_api``.
docs/learning.md says what it does."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from foundation.plugin_api import add_messages, hookimpl, load_catalogue

HERE = Path(__file__).parent
for _lang in ("zh", "en"):
    add_messages(_lang, load_catalogue(HERE / "locales", _lang))

CONFIG_SCHEMA = {
    "type": "object", "additionalProperties": False,
    "properties": {
        "weak_threshold": {"type": "number", "minimum": 0.1, "maximum": 0.95},  # mastery.MAX_THRESHOLD
        "min_attempts": {"type": "integer", "minimum": 1, "maximum": 50},
        "pushes_per_week": {"type": "integer", "minimum": 0, "maximum": 20},
        "alert_days": {"type": "integer", "minimum": 1, "maximum": 120},
        "alert_min_gain": {"type": "number", "minimum": 0, "maximum": 1},
    },
}


class Learning:
    @hookimpl
    def jizuo_manifest(self) -> dict[str, Any]:
        from plugins.learning.caps import CAPABILITIES
        from plugins.learning.mastery import DEFAULTS

        return {
            "name": "learning", "version": "1.0.0", "vendor": "Jizuo",
            "title": {"zh": "学情追踪", "en": "Learning tracking"},
            "description": {"zh": "知识点掌握度（贝叶斯知识追踪）、学习图谱、微课推送（一生一案）和增值评价。",
                            "en": "Knowledge-point mastery by Bayesian Knowledge Tracing, the learning map, "
                                  "micro-lesson pushes (personal plans) and value-added evaluation."},
            "foundation": ">=0.1,<1.0",
            "capabilities": sorted(CAPABILITIES),
            "config_schema": CONFIG_SCHEMA,
            "default_config": dict(DEFAULTS),
        }

    @hookimpl
    def jizuo_capabilities(self) -> dict[str, dict[str, str]]:
        from plugins.learning.caps import CAPABILITIES

        return CAPABILITIES

    @hookimpl
    def jizuo_role_grants(self) -> dict[str, list[str]]:
        from plugins.learning.caps import GRANTS

        return GRANTS

    @hookimpl
    def jizuo_migrations(self) -> str:
        return str(HERE / "migrations")

    @hookimpl
    def jizuo_blueprints(self) -> list[Any]:
        from plugins.learning.views import blueprint

        return [blueprint()]

    @hookimpl
    def jizuo_nav_items(self) -> list[dict[str, Any]]:
        return [{"endpoint": "learning.home", "zh": "学情追踪", "en": "Learning", "capability": "learning.map.read"},
                {"endpoint": "learning.me", "zh": "学习图谱", "en": "Learning map", "capability": "learning.own.read"}]

    @hookimpl
    def jizuo_message_types(self) -> list[dict[str, Any]]:
        from plugins.learning.push import TYPES

        return TYPES

    @hookimpl
    def jizuo_event_subscriptions(self) -> dict[str, Any]:
        from plugins.learning.mastery import SUBSCRIPTIONS

        return dict(SUBSCRIPTIONS)

    @hookimpl
    def jizuo_student_profile(self) -> list[dict[str, Any]]:
        from plugins.learning.faces import profile_sections

        return profile_sections()

    @hookimpl
    def jizuo_district_figures(self) -> list[dict[str, Any]]:
        from plugins.learning.faces import district_figures

        return district_figures()

    @hookimpl
    def jizuo_jobs(self) -> list[dict[str, Any]]:
        from plugins.learning.faces import jobs

        return jobs()

    @hookimpl
    def jizuo_alert_rules(self) -> list[dict[str, Any]]:
        from plugins.learning.alerting import rule_spec

        return [rule_spec()]

    @hookimpl
    def jizuo_demo_data(self, session: Any, school_id: int, seed: int) -> None:
        from plugins.learning.demo import fill

        fill(session, school_id, seed)

    @hookimpl
    def jizuo_install(self, school_id: int, config: dict[str, Any]) -> None:
        from foundation.plugin_api import session
        from plugins.learning.catalogue import seed

        seed(session(), school_id)  # the platform runs this acting for the one school installing

    @hookimpl
    def jizuo_uninstall(self, school_id: int, purge: bool) -> None:
        if purge:
            from foundation.plugin_api import session
            from plugins.learning.models import TABLES

            for table in TABLES:  # the platform runs this for the one school uninstalling
                session().execute(table.delete())


plugin = Learning()
