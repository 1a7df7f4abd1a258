"""智慧资助 (Hidden financial-aid identification): finds students in possible financial difficulty from their
campus-card and canteen records, so that no child has to expose themself by applying; the homeroom teacher
and the aid officer review each candidate, talk with the family, recommend grants and work-study posts and
record the outcome. The label is never visible to the student, the family or other staff. A first-party
plugin registered through the ``jizuo.plugins`` entry point like any vendor's; it imports only
``foundation.plugin_api``. docs/aid.md says what it does."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from foundation.plugin_api import add_messages, hookimpl, lazy_hooks, load_catalogue

HERE = Path(__file__).parent
for _lang in ("zh", "en"):
    add_messages(_lang, load_catalogue(HERE / "locales", _lang))

_PCT = {"type": "integer", "minimum": 1, "maximum": 100}
CONFIG_SCHEMA = {
    "type": "object", "additionalProperties": False,
    "properties": {
        "spend_below_pct": _PCT, "cheap_share_pct": _PCT, "low_meals_pct": _PCT, "min_canteen_day_pct": _PCT,
        "max_away_pct": _PCT, "fall_pct": _PCT,
        "min_school_days": {"type": "integer", "minimum": 1, "maximum": 23},
        "fall_days": {"type": "integer", "minimum": 7, "maximum": 31},
        "baseline_days": {"type": "integer", "minimum": 14, "maximum": 90},
        "min_baseline_per_day": {"type": "integer", "minimum": 0, "maximum": 500},
        "dismiss_months": {"type": "integer", "minimum": 0, "maximum": 12},
    },
}


class Aid(lazy_hooks(jizuo_capabilities="plugins.aid.caps:CAPABILITIES",
                     jizuo_roles="plugins.aid.caps:ROLES",
                     jizuo_role_grants="plugins.aid.caps:GRANTS",
                     jizuo_blueprints="[plugins.aid.views:blueprint()]",
                     jizuo_form_templates="plugins.aid.faces:form_templates()",
                     jizuo_student_profile="plugins.aid.faces:profile_sections()",
                     jizuo_district_figures="plugins.aid.faces:district_figures()",
                     jizuo_dashboard_widgets="plugins.aid.faces:widgets()",
                     jizuo_jobs="plugins.aid.faces:jobs()",
                     jizuo_alert_rules="[plugins.aid.alerting:rule_spec()]")):
    @hookimpl
    def jizuo_manifest(self) -> dict[str, Any]:
        from plugins.aid.caps import CAPABILITIES
        from plugins.aid.identify import DEFAULTS

        return {
            "name": "aid", "version": "0.1.0", "vendor": "Jizuo",
            "title": {"zh": "智慧资助", "en": "Hidden financial-aid identification"},
            "description": {"zh": "从校园卡与食堂消费中无感识别潜在困难学生，班主任与资助专干复核、谈话、推荐资助并记录结果。",
                            "en": "Finds students in possible financial difficulty from campus-card and canteen records, without anyone applying; homeroom teachers and aid officers review, talk with the family and record the aid given."},
            "foundation": ">=0.1,<1.0",
            "capabilities": sorted(CAPABILITIES),
            "reads": ["attendance", "canteen_meal", "card_transaction"],
            "config_schema": CONFIG_SCHEMA,
            "default_config": dict(DEFAULTS),
        }

    @hookimpl
    def jizuo_migrations(self) -> str:
        return str(HERE / "migrations")

    @hookimpl
    def jizuo_nav_items(self) -> list[dict[str, Any]]:
        return [{"endpoint": "aid.home", "zh": "资助复核", "en": "Aid review", "capability": "aid.candidate.review"},
                {"endpoint": "aid.coverage", "zh": "资助覆盖", "en": "Aid coverage", "capability": "aid.coverage.read"}]

    @hookimpl
    def jizuo_event_subscriptions(self) -> dict[str, Any]:
        from plugins.aid.faces import on_flow_finished, on_submission

        return {"lowcode.submission.created": on_submission, "lowcode.flow.finished": on_flow_finished}

    @hookimpl
    def jizuo_demo_data(self, session: Any, school_id: int, seed: int) -> None:
        from plugins.aid.demo import fill

        fill(session, school_id, seed)

    @hookimpl
    def jizuo_uninstall(self, school_id: int, purge: bool) -> None:
        if purge:
            import sqlalchemy as sa

            from foundation.plugin_api import session
            from plugins.aid.models import TABLES

            for table in TABLES:  # the platform runs this for the one school uninstalling
                session().execute(sa.delete(table))


plugin = Aid()
