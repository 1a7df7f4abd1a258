"""Conversions between JSON values and the strings of HTML form controls."""
from __future__ import annotations

import json
import math
import re
from datetime import datetime, timedelta, timezone
from typing import Any


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()  # "no value here" (distinct from JSON null)


def option_value(value: Any) -> str:
    """The form string for an enum value ("a", "1", "2.5", "true", "null", JSON for the rest)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def number_text(value: Any) -> str:
    if isinstance(value, bool) or value is None or value is MISSING:
        return ""
    if isinstance(value, int | float):
        return json.dumps(value)
    return str(value)


def to_number(text: str, integer: bool) -> Any:
    """An int or float for a submitted number; the text itself when it is not one (the validator says so)."""
    text = text.strip()
    if re.fullmatch(r"[+-]?\d+", text):
        return int(text)
    try:
        number = float(text)
    except ValueError:
        return text
    if not math.isfinite(number):
        return text
    return int(number) if integer and number.is_integer() else number


def offset_tz(utc_offset: str) -> timezone:
    match = re.fullmatch(r"([+-])(\d\d):?(\d\d)", utc_offset or "")
    if not match:
        raise ValueError(f"utc_offset must look like +08:00, not {utc_offset!r}")
    delta = timedelta(hours=int(match[2]), minutes=int(match[3]))
    return timezone(delta if match[1] == "+" else -delta)


def to_local_input(value: Any, utc_offset: str) -> str:
    """An RFC 3339 date-time as the value of <input type=datetime-local>, in the given UTC offset."""
    if not isinstance(value, str) or not value:
        return ""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is not None:
        moment = moment.astimezone(offset_tz(utc_offset))
    # isoformat, not strftime: years before 1000 keep four digits; fractions of a second are kept
    spec = "microseconds" if moment.microsecond else "seconds" if moment.second else "minutes"
    return moment.replace(tzinfo=None).isoformat(timespec=spec)


def from_local_input(text: str, utc_offset: str) -> str:
    """``2024-05-01T08:30`` from <input type=datetime-local> as ``2024-05-01T08:30:00+08:00``."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=offset_tz(utc_offset))
    return moment.isoformat(timespec="microseconds" if moment.microsecond else "seconds")
