"""学情追踪 (Learning tracking): a first-party plugin registered through the ``jizuo.plugins`` entry point like any
vendor's; it imports only ``foundation.plugin_api``. docs/learning.md says what it does."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from foundation.plugin_api import hookimpl

HERE = Path(__file__).parent


class Learning:
    @hookimpl
    def jizuo_manifest(self) -> dict[str, Any]:
        return {
            "name": "learning", "version": "0.1.0", "vendor": "Jizuo",
            "title": {"zh": "学情追踪", "en": "Learning tracking"},
            "description": {"zh": "知识点掌握度（贝叶斯知识追踪）、学习图谱、微课推送（一生一案）和增值评价。",
                            "en": "Knowledge-point mastery by Bayesian Knowledge Tracing, the learning map, micro-lesson pushes (personal plans) and value-added evaluation."},
            "foundation": ">=0.1,<1.0",
            "capabilities": [],
            "config_schema": {"type": "object", "additionalProperties": False, "properties": {}},
            "default_config": {},
        }


plugin = Learning()
