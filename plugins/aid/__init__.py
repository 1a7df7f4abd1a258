"""智慧资助 (Hidden financial-aid identification): a first-party plugin registered through the ``jizuo.plugins`` entry point like any
vendor's; it imports only ``foundation.plugin_api``. docs/aid.md says what it does."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from foundation.plugin_api import hookimpl

HERE = Path(__file__).parent


class Aid:
    @hookimpl
    def jizuo_manifest(self) -> dict[str, Any]:
        return {
            "name": "aid", "version": "0.1.0", "vendor": "Jizuo",
            "title": {"zh": "智慧资助", "en": "Hidden financial-aid identification"},
            "description": {"zh": "从校园卡与食堂消费中无感识别潜在困难学生，班主任与资助专干复核、谈话、推荐资助并记录结果。",
                            "en": "Finds students in possible financial difficulty from campus-card and canteen records, without anyone applying; homeroom teachers and aid officers review, talk with the family and record the aid given."},
            "foundation": ">=0.1,<1.0",
            "capabilities": [],
            "config_schema": {"type": "object", "additionalProperties": False, "properties": {}},
            "default_config": {},
        }


plugin = Aid()
