"""学情追踪 (Learning tracking): knowledge maps and the Q-matrix, mastery per student and knowledge point by
Bayesian Knowledge Tracing (updated live as each response arrives, refitted nightly), the learning map,
resource pushes (一生一案), value-added evaluation and the weak-point alert. A first-party plugin registered
through the ``jizuo.plugins`` entry point like any vendor's; it imports only ``foundation.plugin_api``.
docs/learning.md says what it does."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from foundation.plugin_api import add_messages, hookimpl, lazy_hooks, load_catalogue

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


class Learning(lazy_hooks(jizuo_capabilities="plugins.learning.caps:CAPABILITIES",
                          jizuo_role_grants="plugins.learning.caps:GRANTS",
                          jizuo_blueprints="[plugins.learning.views:blueprint()]",
                          jizuo_message_types="plugins.learning.push:TYPES",
                          jizuo_event_subscriptions="plugins.learning.mastery:SUBSCRIPTIONS",
                          jizuo_student_profile="plugins.learning.faces:profile_sections()",
                          jizuo_district_figures="plugins.learning.faces:district_figures()",
                          jizuo_jobs="plugins.learning.faces:jobs()",
                          jizuo_alert_rules="[plugins.learning.alerting:rule_spec()]")):
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
    def jizuo_migrations(self) -> str:
        return str(HERE / "migrations")

    @hookimpl
    def jizuo_nav_items(self) -> list[dict[str, Any]]:
        return [{"endpoint": "learning.home", "zh": "学情追踪", "en": "Learning", "capability": "learning.map.read"},
                {"endpoint": "learning.me", "zh": "学习图谱", "en": "Learning map", "capability": "learning.own.read"}]

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
