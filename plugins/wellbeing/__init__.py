"""心理风险预警 (Wellbeing and psychological risk warning): PHQ-9 and GAD-7 screening with daily behaviour
signals; a student at risk is contacted within the hour, with a plan within a day, and only those who need to
know ever see why. A first-party plugin registered through the ``jizuo.plugins`` entry point like any
vendor's; it imports only ``foundation.plugin_api``. docs/wellbeing.md says what it does."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from foundation.plugin_api import add_messages, hookimpl, lazy_hooks, load_catalogue

HERE = Path(__file__).parent
for _lang in ("zh", "en"):
    add_messages(_lang, load_catalogue(HERE / "locales", _lang))

_INT = {"type": "integer"}
CONFIG_SCHEMA = {
    "type": "object", "additionalProperties": False,
    "properties": {
        # levels (item 9 of PHQ-9 above 0 is always red: there is no setting for it)
        "phq9_yellow_at": {**_INT, "minimum": 5, "maximum": 27}, "phq9_red_at": {**_INT, "minimum": 10, "maximum": 28},
        "gad7_yellow_at": {**_INT, "minimum": 5, "maximum": 21}, "gad7_red_at": {**_INT, "minimum": 10, "maximum": 22},
        "retention_days": {**_INT, "minimum": 30, "maximum": 3650},
        "help_line": {"type": "string", "minLength": 1, "maxLength": 120},
        "counselling_contacts": {"type": "string", "minLength": 1, "maxLength": 300},
        # behaviour signals
        "curfew": {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"},
        "late_returns": {**_INT, "minimum": 1, "maximum": 14}, "late_days": {**_INT, "minimum": 1, "maximum": 31},
        "spending_drop_pct": {**_INT, "minimum": 10, "maximum": 100},
        "baseline_weeks": {**_INT, "minimum": 1, "maximum": 12},
        "spending_min_baseline": {**_INT, "minimum": 0, "maximum": 10000},
        "missed_activities": {**_INT, "minimum": 1, "maximum": 20}, "absences": {**_INT, "minimum": 1, "maximum": 14},
        "signals_needed": {**_INT, "minimum": 1, "maximum": 4},
    },
}


def _defaults() -> dict[str, Any]:
    from plugins.wellbeing.scoring import DEFAULT_LEVELS
    from plugins.wellbeing.signals import DEFAULTS

    return {**DEFAULT_LEVELS, **DEFAULTS, "retention_days": 1095,
            "help_line": "12355 青少年服务台（24 小时）", "counselling_contacts": "学校心理辅导室：周一至周五 12:00–13:00、16:30–17:30"}


class Wellbeing(lazy_hooks(jizuo_capabilities="plugins.wellbeing.access:CAPABILITIES",
                           jizuo_roles="plugins.wellbeing.access:ROLES",
                           jizuo_role_grants="plugins.wellbeing.access:GRANTS",
                           jizuo_blueprints="[plugins.wellbeing.views:blueprint()]",
                           jizuo_message_types="plugins.wellbeing.notify:TYPES",
                           jizuo_event_subscriptions="plugins.wellbeing.alerting:SUBSCRIPTIONS",
                           jizuo_form_templates="plugins.wellbeing.scales:templates()",
                           jizuo_alert_rules="plugins.wellbeing.alerting:rules()",
                           jizuo_student_profile="plugins.wellbeing.faces:profile_sections()",
                           jizuo_district_figures="plugins.wellbeing.faces:district_figures()",
                           jizuo_jobs="plugins.wellbeing.faces:jobs()")):
    @hookimpl
    def jizuo_manifest(self) -> dict[str, Any]:
        from plugins.wellbeing.access import CAPABILITIES

        return {
            "name": "wellbeing", "version": "1.0.0", "vendor": "Jizuo",
            "title": {"zh": "心理风险预警", "en": "Wellbeing and psychological risk warning"},
            "description": {"zh": "PHQ-9/GAD-7 心理筛查与日常行为信号，高危一小时内联系、24 小时内辅导方案，只对需要知道的人可见。",
                            "en": "PHQ-9 and GAD-7 screening with daily behaviour signals; a student at risk is contacted within the hour and has a counselling plan within a day, seen only by those who need to know."},
            "foundation": ">=0.1,<1.0",
            "capabilities": sorted(CAPABILITIES),
            "reads": ["dorm_access", "card_transaction", "activity", "attendance"],
            "config_schema": CONFIG_SCHEMA,
            "default_config": _defaults(),
        }

    @hookimpl
    def jizuo_migrations(self) -> str:
        return str(HERE / "migrations")

    @hookimpl
    def jizuo_nav_items(self) -> list[dict[str, Any]]:
        return [{"endpoint": "wellbeing.home", "zh": "心理关注", "en": "Wellbeing", "capability": "wellbeing.answers.read"},
                {"endpoint": "wellbeing.classes", "zh": "心理关注", "en": "Wellbeing", "capability": "wellbeing.level.read"},
                {"endpoint": "wellbeing.mine", "zh": "心理健康筛查", "en": "Wellbeing screening",
                 "capability": "wellbeing.screening.fill"},
                {"endpoint": "wellbeing.consent", "zh": "心理筛查同意", "en": "Screening consent",
                 "capability": "wellbeing.consent.answer"}]

    @hookimpl
    def jizuo_demo_data(self, session: Any, school_id: int, seed: int) -> None:
        from plugins.wellbeing.demo import fill

        fill(session, school_id, seed)

    @hookimpl
    def jizuo_uninstall(self, school_id: int, purge: bool) -> None:
        if purge:
            from foundation.plugin_api import session
            from plugins.wellbeing.faces import uninstall_purge

            uninstall_purge(session())


plugin = Wellbeing()
