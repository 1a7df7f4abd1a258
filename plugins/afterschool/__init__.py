"""课后服务 (After-school services): a first-party plugin registered through the ``jizuo.plugins`` entry point like any
vendor's; it imports only ``foundation.plugin_api``. docs/afterschool.md says what it does."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from foundation.plugin_api import hookimpl

HERE = Path(__file__).parent


class Afterschool:
    @hookimpl
    def jizuo_manifest(self) -> dict[str, Any]:
        return {
            "name": "afterschool", "version": "0.1.0", "vendor": "Jizuo",
            "title": {"zh": "课后服务", "en": "After-school services"},
            "description": {"zh": "课后服务课程、家长选课（先到先得或公平抽签）、考勤请假、评价和区级监管。",
                            "en": "After-school courses, selection by families (first come or a fair lottery), attendance and leave, ratings and district supervision."},
            "foundation": ">=0.1,<1.0",
            "capabilities": [],
            "config_schema": {"type": "object", "additionalProperties": False, "properties": {}},
            "default_config": {},
        }


plugin = Afterschool()
