"""The two scales and how they are scored: PHQ-9 (nine items 0–3, total 0–27) and GAD-7 (seven items, total
0–21), their published bands, and the school's levels. Item 9 of PHQ-9 (thoughts of self-harm) above 0 is
red whatever the total, and no setting turns that off. Pure functions: the bulk path and the benchmark score
in process, and tests/wellbeing/test_scoring.py checks every answer pattern against the rules written out
again independently."""
from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
INSTRUMENTS = ("phq9", "gad7")
# (lowest total, band) from the scales' publications, highest first
BANDS = {
    "phq9": ((20, "severe"), (15, "moderately_severe"), (10, "moderate"), (5, "mild"), (0, "minimal")),
    "gad7": ((15, "severe"), (10, "moderate"), (5, "mild"), (0, "minimal")),
}
# the default levels: red at a severe total, yellow from moderate (a school may set PHQ-9's at 11, the
# cutoff validated for adolescents); settings live in the plugin's configuration
DEFAULT_LEVELS = {"phq9_yellow_at": 10, "phq9_red_at": 20, "gad7_yellow_at": 10, "gad7_red_at": 15}
SELF_HARM_ITEM = 8  # PHQ-9 item 9, zero-based


@cache
def instrument(key: str) -> dict[str, Any]:
    """The scale's definition (forms/<key>.json): title, stem, options and items in zh and en."""
    if key not in INSTRUMENTS:
        raise KeyError(key)
    return json.loads((HERE / "forms" / f"{key}.json").read_text("utf-8"))


def check(key: str, answers: Any) -> str | None:
    """Why ``answers`` cannot be scored (a catalogue key), or None: one integer 0–3 per scored item."""
    n = instrument(key)["scored_items"]
    if not isinstance(answers, list) or len(answers) != n:
        return "wellbeing.error.answers_count"
    if not all(isinstance(a, int) and not isinstance(a, bool) and 0 <= a <= 3 for a in answers):
        return "wellbeing.error.answer_value"
    return None


def band(key: str, total: int) -> str:
    return next(name for low, name in BANDS[key] if total >= low)


def level(key: str, total: int, item9: int | None, levels: dict[str, int] | None = None) -> tuple[str | None, list[str]]:
    """The level (``red``, ``yellow`` or None) and its reason codes, under the school's ``levels``."""
    cfg = {**DEFAULT_LEVELS, **(levels or {})}
    reasons = []
    if key == "phq9" and item9:
        reasons.append("item9")
    if total >= cfg[f"{key}_red_at"]:
        reasons.append("total_red")
    if reasons:
        return "red", reasons
    if total >= cfg[f"{key}_yellow_at"]:
        return "yellow", ["total_yellow"]
    return None, []


def score(key: str, answers: list[int], levels: dict[str, int] | None = None) -> dict[str, Any]:
    """``{"total", "band", "item9", "level", "reasons"}`` of checked answers."""
    total = sum(answers)
    item9 = answers[SELF_HARM_ITEM] if key == "phq9" else None
    lvl, reasons = level(key, total, item9, levels)
    return {"total": total, "band": band(key, total), "item9": item9, "level": lvl, "reasons": reasons}
