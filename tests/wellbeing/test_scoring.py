"""Every answer pattern of both scales (4⁹ PHQ-9 and 4⁷ GAD-7) scored by the plugin and by the published
rules, written out again here without the plugin's tables: totals, bands, item 9 and the default levels,
plus a school's adolescent cutoff. In process, a couple of seconds."""
from __future__ import annotations

from itertools import product

from plugins.wellbeing import scoring


def phq9_band(total: int) -> str:
    # Kroenke, Spitzer & Williams (2001): 0-4 minimal, 5-9 mild, 10-14 moderate, 15-19 moderately severe, 20-27 severe
    if total <= 4:
        return "minimal"
    if total <= 9:
        return "mild"
    if total <= 14:
        return "moderate"
    if total <= 19:
        return "moderately_severe"
    return "severe"


def gad7_band(total: int) -> str:
    # Spitzer et al. (2006): 0-4 minimal, 5-9 mild, 10-14 moderate, 15-21 severe
    if total <= 4:
        return "minimal"
    if total <= 9:
        return "mild"
    if total <= 14:
        return "moderate"
    return "severe"


def test_every_phq9_pattern():
    seen_bands, reds_by_item9 = set(), 0
    for answers in product(range(4), repeat=9):
        got = scoring.score("phq9", list(answers))
        total = answers[0] + answers[1] + answers[2] + answers[3] + answers[4] + answers[5] + answers[6] \
            + answers[7] + answers[8]
        assert got["total"] == total and 0 <= total <= 27
        assert got["band"] == phq9_band(total), answers
        assert got["item9"] == answers[8]
        # item 9 above 0 is red whatever the total; else red at a severe total, yellow from moderate
        want = "red" if answers[8] > 0 or total >= 20 else "yellow" if total >= 10 else None
        assert got["level"] == want, answers
        assert ("item9" in got["reasons"]) == (answers[8] > 0)
        seen_bands.add(got["band"])
        reds_by_item9 += answers[8] > 0 and total < 10
    assert len(seen_bands) == 5 and reds_by_item9 > 0


def test_every_gad7_pattern():
    for answers in product(range(4), repeat=7):
        got = scoring.score("gad7", list(answers))
        total = sum(answers)
        assert got["total"] == total and got["band"] == gad7_band(total), answers
        assert got["item9"] is None
        assert got["level"] == ("red" if total >= 15 else "yellow" if total >= 10 else None), answers


def test_adolescent_cutoff_moves_yellow_but_never_item9():
    strict = {"phq9_yellow_at": 11}
    assert scoring.score("phq9", [2, 2, 2, 2, 2, 0, 0, 0, 0], strict)["level"] is None  # 10 < 11
    assert scoring.score("phq9", [2, 2, 2, 2, 2, 1, 0, 0, 0], strict)["level"] == "yellow"
    # even a school that set red unreachably high keeps item 9 red
    lax = {"phq9_yellow_at": 27, "phq9_red_at": 28}
    assert scoring.score("phq9", [0, 0, 0, 0, 0, 0, 0, 0, 1], lax)["level"] == "red"


def test_answers_are_checked():
    assert scoring.check("phq9", [0] * 8) == "wellbeing.error.answers_count"
    assert scoring.check("phq9", [0] * 8 + [4]) == "wellbeing.error.answer_value"
    assert scoring.check("gad7", [0] * 6 + [True]) == "wellbeing.error.answer_value"
    assert scoring.check("gad7", "0000000") == "wellbeing.error.answers_count"
    assert scoring.check("gad7", [3] * 7) is None
