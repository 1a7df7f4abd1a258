"""课后服务 (After-school services): courses with teacher, venue, weekly slots and capacity; selection windows in
which families choose (first come first served, or a seeded, recorded, re-runnable lottery at the deadline);
waiting lists that move up by themselves; attendance on a phone, leave through a low-code template, an absence
without leave told to the parents at once; ratings; and the district's supervision of every school's offer. A
first-party plugin registered through the ``jizuo.plugins`` entry point like any vendor's; it imports only
``foundation.plugin_api``. docs/afterschool.md says what it does."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from foundation.plugin_api import add_messages, hookimpl, lazy_hooks, load_catalogue

HERE = Path(__file__).parent
for _lang in ("zh", "en"):
    add_messages(_lang, load_catalogue(HERE / "locales", _lang))

CONFIG_SCHEMA = {
    "type": "object", "additionalProperties": False,
    "properties": {
        "periods": {"type": "array", "minItems": 1, "maxItems": 4,
                    "items": {"type": "array", "minItems": 2, "maxItems": 2,
                              "items": {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"}}},
    },
}


class Afterschool(lazy_hooks(jizuo_capabilities="plugins.afterschool.caps:CAPABILITIES",
                             jizuo_role_grants="plugins.afterschool.caps:GRANTS",
                             jizuo_blueprints="[plugins.afterschool.views:blueprint()]",
                             jizuo_message_types="plugins.afterschool.notify:TYPES",
                             jizuo_district_figures="plugins.afterschool.figures:district_figures()",
                             jizuo_student_profile="plugins.afterschool.figures:profile_sections()",
                             jizuo_jobs="plugins.afterschool.figures:jobs()")):
    @hookimpl
    def jizuo_manifest(self) -> dict[str, Any]:
        from plugins.afterschool.caps import CAPABILITIES
        from plugins.afterschool.catalog import PERIODS

        return {
            "name": "afterschool", "version": "1.0.0", "vendor": "Jizuo",
            "title": {"zh": "课后服务", "en": "After-school services"},
            "description": {"zh": "课后服务课程、家长选课（先到先得或公平抽签）、考勤请假、评价和区级监管。",
                            "en": "After-school courses, selection by families (first come or a fair lottery), attendance and leave, ratings and district supervision."},
            "foundation": ">=0.1,<1.0",
            "capabilities": sorted(CAPABILITIES),
            "config_schema": CONFIG_SCHEMA,
            "default_config": {"periods": PERIODS},
        }

    @hookimpl
    def jizuo_migrations(self) -> str:
        return str(HERE / "migrations")

    @hookimpl
    def jizuo_nav_items(self) -> list[dict[str, Any]]:
        return [{"endpoint": "afterschool.home", "zh": "课后服务", "en": "After-school", "capability": "afterschool.course.read"},
                {"endpoint": "afterschool.me", "zh": "课后服务", "en": "After-school", "capability": "afterschool.choice.create"}]

    @hookimpl
    def jizuo_event_subscriptions(self) -> dict[str, Any]:
        from plugins.afterschool.figures import on_submission
        from plugins.afterschool.selection import FREED, on_seat_freed
        from plugins.afterschool.sessions import READ, SAVED, on_roll

        return {"lowcode.submission.created": on_submission, FREED: on_seat_freed, READ: on_roll, SAVED: on_roll}

    @hookimpl
    def jizuo_form_templates(self) -> list[dict[str, Any]]:
        return [json.loads((HERE / "forms" / "leave.json").read_text("utf-8"))]

    @hookimpl
    def jizuo_demo_data(self, session: Any, school_id: int, seed: int) -> None:
        from plugins.afterschool.demo import fill

        fill(session, school_id, seed)

    @hookimpl
    def jizuo_uninstall(self, school_id: int, purge: bool) -> None:
        if purge:
            import sqlalchemy as sa

            from foundation.plugin_api import session
            from plugins.afterschool.models import TABLES

            for table in TABLES:  # the platform runs this for the one school uninstalling
                session().execute(sa.delete(table))


plugin = Afterschool()
