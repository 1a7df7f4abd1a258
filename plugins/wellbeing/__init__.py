"""心理风险预警 (Wellbeing and psychological risk warning): a first-party plugin registered through the ``jizuo.plugins`` entry point like any
vendor's; it imports only ``foundation.plugin_api``. docs/wellbeing.md says what it does."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from foundation.plugin_api import hookimpl

HERE = Path(__file__).parent


class Wellbeing:
    @hookimpl
    def jizuo_manifest(self) -> dict[str, Any]:
        return {
            "name": "wellbeing", "version": "0.1.0", "vendor": "Jizuo",
            "title": {"zh": "心理风险预警", "en": "Wellbeing and psychological risk warning"},
            "description": {"zh": "PHQ-9/GAD-7 心理筛查与日常行为信号，高危一小时内联系、24 小时内辅导方案，只对需要知道的人可见。",
                            "en": "PHQ-9 and GAD-7 screening with daily behaviour signals; a student at risk is contacted within the hour and has a counselling plan within a day, seen only by those who need to know."},
            "foundation": ">=0.1,<1.0",
            "capabilities": [],
            "config_schema": {"type": "object", "additionalProperties": False, "properties": {}},
            "default_config": {},
        }


plugin = Wellbeing()
