"""Checks of our own that schemathesis runs beside its defaults (loaded through ``SCHEMATHESIS_HOOKS``)."""
from __future__ import annotations

import json
import re
from typing import Any

import schemathesis

# a date and a time of day with no zone after it: "2026-03-01T08:00:00" or "2026-03-01 08:00:00.123"; or a
# time as Flask writes a bare datetime, "Sun, 01 Mar 2026 08:00:00 GMT" (not ISO 8601)
NAIVE = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$"
                   r"|^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$")


def naive_times(value: Any, path: str = "") -> list[str]:
    """The paths of the strings in a JSON value that are times without their zone (or not in ISO 8601)."""
    if isinstance(value, str):
        return [f"{path or '/'} = {value!r}"] if NAIVE.match(value) else []
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else []
    return [hit for key, item in items for hit in naive_times(item, f"{path}/{key}")]


@schemathesis.hook
def before_load_schema(context, raw_schema):
    """The run signs in as a browser does (cookie + CSRF header, given on the command line): the fuzzer's copy
    of the document drops the other ways in, or it would send made-up bearer tokens, and a request with a bad
    token is a 401 before it reaches anything (tests/test_auth.py holds that)."""
    for item in raw_schema.get("paths", {}).values():
        for op in item.values():
            if isinstance(op, dict) and "security" in op:
                op["security"] = []


@schemathesis.check
def timestamps_carry_their_zone(ctx, response, case):
    """Every time the API gives out is ISO 8601 with `Z` or an offset: a client must never guess the zone."""
    if "json" not in ",".join(response.headers.get("content-type", [])).lower() or not response.content:
        return None
    try:
        body = json.loads(response.content)
    except ValueError:
        return None
    found = naive_times(body)
    if found:
        raise AssertionError("times without a zone: " + "; ".join(found[:5]))
    return None
