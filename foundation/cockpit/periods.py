"""The periods a cockpit page offers: terms (autumn: 1 September to 1 February; spring: 1 February to
1 September) and months, in the district's local dates (Asia/Shanghai), end exclusive. A period's key is
what the page's selector sends and what the cache stores: ``2026-1`` (the 2026–27 school year's first
term), ``2025-2`` (the 2025–26 school year's second term), ``2026-11`` (a month)."""
from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

LOCAL = ZoneInfo("Asia/Shanghai")
_TERM = re.compile(r"^(20\d\d)-([12])$")
_MONTH = re.compile(r"^(20\d\d)-(0[1-9]|1[0-2])$")


class PeriodError(ValueError):
    """Not a period key (the page answers 400 naming ``period``)."""


def local_today() -> date:
    return datetime.now(LOCAL).date()


def _term(year: int, half: int) -> dict[str, Any]:
    if half == 1:
        start, end = date(year, 9, 1), date(year + 1, 2, 1)
    else:
        start, end = date(year + 1, 2, 1), date(year + 1, 9, 1)
    label = {"zh": f"{year}–{year + 1}学年第{'一' if half == 1 else '二'}学期",
             "en": f"{year}–{str(year + 1)[2:]} {'autumn' if half == 1 else 'spring'} term"}
    return {"key": f"{year}-{half}", "start": start, "end": end, "labels": label}


def _month(year: int, month: int) -> dict[str, Any]:
    end = date(year + (month == 12), month % 12 + 1, 1)
    return {"key": f"{year}-{month:02d}", "start": date(year, month, 1), "end": end,
            "labels": {"zh": f"{year}年{month}月", "en": date(year, month, 1).strftime("%b %Y")}}


def term_of(day: date) -> dict[str, Any]:
    """The term ``day`` falls in, as a figure's ``period``: ``{"start", "end", "label"}``."""
    return as_arg(_term_containing(day))


def _term_containing(day: date) -> dict[str, Any]:
    if day.month >= 9:
        return _term(day.year, 1)
    if day.month == 1:
        return _term(day.year - 1, 1)
    return _term(day.year - 1, 2)


def as_arg(period: dict[str, Any], lang: str = "zh") -> dict[str, Any]:
    """What a figure's compute gets: exactly start, end and label."""
    return {"start": period["start"], "end": period["end"], "label": period["labels"].get(lang, period["key"])}


def parse(key: str | None, today: date | None = None) -> dict[str, Any]:
    """A period from its key (None or empty: the term under way). Raises :class:`PeriodError`."""
    today = today or local_today()
    if not key:
        return _term_containing(today)
    if m := _TERM.match(key):
        found = _term(int(m.group(1)), int(m.group(2)))
    elif m := _MONTH.match(key):
        found = _month(int(m.group(1)), int(m.group(2)))
    else:
        raise PeriodError("period is a term (2026-1, 2026-2) or a month (2026-11)")
    if found["start"] > today:
        raise PeriodError("period has not begun")
    return found


def options(today: date | None = None) -> list[dict[str, Any]]:
    """What the selector lists: the term under way and the three before it, then the last six months."""
    today = today or local_today()
    terms, term = [], _term_containing(today)
    for _ in range(4):
        terms.append(term)
        year, half = (int(x) for x in term["key"].split("-"))
        term = _term(year - 1, 2) if half == 1 else _term(year, 1)
    months, y, m = [], today.year, today.month
    for _ in range(6):
        months.append(_month(y, m))
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return terms + months
