"""Points (德育千分制): moral conduct on a 1000-point scale — a school's versioned rulebook, an append-only
ledger fed automatically by attendance, practical-training, activity and hygiene-form records, live scores
and rankings for staff, a band at most for families, appeals and reversals, eligibility lists and a yellow
alert when a score falls fast. A first-party plugin registered through the ``jizuo.plugins`` entry point
like any vendor's; it imports only ``foundation.plugin_api``."""
from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from foundation.plugin_api import add_messages, hookimpl, lazy_hooks, load_catalogue

HERE = Path(__file__).parent
log = logging.getLogger("jizuo.plugins.points")
for _lang in ("zh", "en"):
    add_messages(_lang, load_catalogue(HERE / "locales", _lang))  # <lang>.json plus <lang>/*.json

CONFIG_SCHEMA = {
    "type": "object", "additionalProperties": False,
    "properties": {
        "drop_threshold": {"type": "integer", "minimum": 5, "maximum": 500},
        "drop_days": {"type": "integer", "minimum": 1, "maximum": 31},
        "baseline_weeks": {"type": "integer", "minimum": 1, "maximum": 12},
        "baseline_factor": {"type": "integer", "minimum": 2, "maximum": 10},
        "baseline_min_drop": {"type": "integer", "minimum": 5, "maximum": 500},
        "show_band": {"type": "boolean"},
    },
}


class Points(lazy_hooks(jizuo_capabilities="plugins.points.caps:CAPABILITIES",
                        jizuo_role_grants="plugins.points.caps:GRANTS",
                        jizuo_blueprints="[plugins.points.views:blueprint()]",
                        jizuo_message_types="plugins.points.notify:TYPES",
                        jizuo_dashboard_widgets="plugins.points.widgets:widgets()",
                        jizuo_event_subscriptions="plugins.points.collect:SUBSCRIPTIONS",
                        jizuo_student_profile="plugins.points.faces:profile_sections()",
                        jizuo_district_figures="plugins.points.faces:district_figures()",
                        jizuo_jobs="plugins.points.faces:jobs()",
                        jizuo_alert_rules="[plugins.points.alerting:rule_spec()]")):
    @hookimpl
    def jizuo_manifest(self) -> dict[str, Any]:
        from plugins.points.alerting import DEFAULTS
        from plugins.points.caps import CAPABILITIES

        return {
            "name": "points", "version": "1.0.0", "vendor": "Jizuo",
            "title": {"zh": "德育千分制", "en": "Conduct points (1000-point scale)"},
            "description": {"zh": "学校德育积分细则、自动采集考勤与实训扣分、实时积分与排名（仅教职工）、申诉与冲正、评优资格和周降预警。",
                            "en": "A school's conduct rulebook, automatic deductions from attendance and training "
                                  "records, live scores and staff-only rankings, appeals and reversals, award "
                                  "eligibility and a weekly-drop alert."},
            "foundation": ">=0.1,<1.0",
            "capabilities": sorted(CAPABILITIES),
            "config_schema": CONFIG_SCHEMA,
            "default_config": dict(DEFAULTS),
        }

    @hookimpl
    def jizuo_scopes(self) -> list[dict[str, Any]]:
        from plugins.points.caps import RANK

        return [{"name": "points.read", "zh": "读取德育积分与排名", "en": "Read conduct scores and rankings",
                 "capabilities": [RANK]}]

    @hookimpl
    def jizuo_migrations(self) -> str:
        return str(HERE / "migrations")

    @hookimpl
    def jizuo_nav_items(self) -> list[dict[str, Any]]:
        return [{"endpoint": "points.home", "zh": "德育积分", "en": "Conduct points", "capability": "points.rank.read"},
                # a parent reads their child's score here, a student their own: a label true for both
                {"endpoint": "points.me", "zh": "德育积分", "en": "Conduct points", "capability": "points.own.read"}]

    @hookimpl
    def jizuo_form_templates(self) -> list[dict[str, Any]]:
        return [json.loads((HERE / "forms" / "hygiene_score.json").read_text("utf-8"))]

    @hookimpl
    def jizuo_demo_data(self, session: Any, school_id: int, seed: int) -> None:
        from plugins.points.demo import fill

        fill(session, school_id, seed)

    @hookimpl
    def jizuo_install(self, school_id: int, config: dict[str, Any]) -> None:
        from plugins.points.setup import install

        install(school_id)

    @hookimpl
    def jizuo_uninstall(self, school_id: int, purge: bool) -> None:
        if purge:
            from plugins.points.setup import purge as purge_school

            purge_school(school_id)


plugin = Points()
