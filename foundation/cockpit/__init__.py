"""The cockpits (局长看板 for the district, 校长看板 for a school): every figure offered through
``jizuo_district_figures`` and the core's own (``core_figures.CORE_FIGURES``), per tile, for a term or a
month; computed per school and cached (``cache``), rolled up and suppressed above school level
(``pipeline``, ``suppress``), exported with the same suppression (``export``). docs/cockpit.md."""
from __future__ import annotations

TILES: list[tuple[str, dict[str, str]]] = [
    ("people", {"zh": "师生规模", "en": "Students and staff"}),
    ("conduct", {"zh": "德育", "en": "Conduct"}),
    ("alerts", {"zh": "预警处置", "en": "Alerts"}),
    ("aid", {"zh": "资助", "en": "Aid"}),
    ("wellbeing", {"zh": "心理健康", "en": "Wellbeing"}),
    ("learning", {"zh": "学业增值", "en": "Learning"}),
    ("afterschool", {"zh": "课后服务", "en": "After school"}),
    ("communication", {"zh": "家校沟通", "en": "Home-school communication"}),
    ("apps", {"zh": "低代码应用", "en": "Low-code apps"}),
]
TILE_KEYS = [k for k, _ in TILES]
