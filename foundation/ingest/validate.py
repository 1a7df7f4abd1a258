"""Validation of records against a library of the standard, compiled once per library version.

A library's elements become a list of small checker functions; validating a record is one pass over them
(no per-record schema interpretation), which is what lets a million card transactions through quickly.
Each problem is a message key (foundation/locales) per field, so the caller can say which field and why.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

CST = timezone(timedelta(hours=8))  # Asia/Shanghai has no DST: a fixed offset is exact
Checker = Callable[[Any], Any]  # returns the clean value or raises Invalid


class Invalid(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _string(opts: dict) -> Checker:
    max_len = opts.get("max_length", 255)
    pattern = re.compile(opts["pattern"]) if opts.get("pattern") else None

    def check(v: Any) -> str:
        if isinstance(v, int | float) and not isinstance(v, bool):
            v = str(v)
        if not isinstance(v, str):
            raise Invalid("ingest.type_string")
        v = v.strip()
        if len(v) > max_len:
            raise Invalid(f"ingest.too_long:{max_len}")
        if "\x00" in v:
            raise Invalid("field.control_char")
        if pattern is not None and not pattern.fullmatch(v):
            raise Invalid("ingest.pattern")
        return v

    return check


def _integer(opts: dict) -> Checker:
    lo, hi = opts.get("minimum", -(2**31)), opts.get("maximum", 2**31 - 1)

    def check(v: Any) -> int:
        if isinstance(v, bool):
            raise Invalid("ingest.type_integer")
        if isinstance(v, str):
            v = v.strip()
            if not re.fullmatch(r"-?\d{1,12}", v):
                raise Invalid("ingest.type_integer")
            v = int(v)
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        if not isinstance(v, int):
            raise Invalid("ingest.type_integer")
        if not lo <= v <= hi:
            raise Invalid(f"ingest.range:{lo}–{hi}")
        return v

    return check


def _decimal(opts: dict) -> Checker:
    lo, hi, scale = opts.get("minimum"), opts.get("maximum"), opts.get("scale", 2)
    quantum = Decimal(1).scaleb(-scale)

    def check(v: Any) -> str:
        if isinstance(v, bool) or not isinstance(v, int | float | str):
            raise Invalid("ingest.type_decimal")
        try:
            d = Decimal(str(v).strip())
        except InvalidOperation:
            raise Invalid("ingest.type_decimal") from None
        if not d.is_finite():
            raise Invalid("ingest.type_decimal")
        if (lo is not None and d < Decimal(str(lo))) or (hi is not None and d > Decimal(str(hi))):
            raise Invalid(f"ingest.range:{lo}–{hi}")
        return str(d.quantize(quantum))

    return check


_TRUE = {True, "true", "True", "TRUE", "1", "是", "y", "Y", "yes"}
_FALSE = {False, "false", "False", "FALSE", "0", "否", "n", "N", "no"}


def _boolean(opts: dict) -> Checker:
    def check(v: Any) -> bool:
        if v in _TRUE and not (isinstance(v, int) and not isinstance(v, bool) and v not in (0, 1)):
            return True
        if v in _FALSE:
            return False
        raise Invalid("ingest.type_boolean")

    return check


def _date(opts: dict) -> Checker:
    not_future, not_before = opts.get("not_future"), opts.get("not_before")

    def check(v: Any) -> str:
        if not isinstance(v, str):
            raise Invalid("ingest.type_date")
        try:
            d = date.fromisoformat(v.strip()[:10]) if len(v.strip()) == 10 else None
        except ValueError:
            d = None
        if d is None:
            raise Invalid("ingest.type_date")
        if not_future and d > datetime.now(CST).date():
            raise Invalid("ingest.future")
        if not_before and d.isoformat() < not_before:
            raise Invalid(f"ingest.before:{not_before}")
        return d.isoformat()

    return check


def parse_datetime(v: Any) -> datetime:
    """An aware datetime from ISO 8601 (China Standard Time assumed when no offset) → naive UTC."""
    if not isinstance(v, str):
        raise Invalid("ingest.type_datetime")
    try:
        dt = datetime.fromisoformat(v.strip().replace("Z", "+00:00"))
    except ValueError:
        raise Invalid("ingest.type_datetime") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=CST)
    return dt.astimezone(UTC).replace(tzinfo=None)


def _datetime(opts: dict) -> Checker:
    not_future = opts.get("not_future")

    def check(v: Any) -> str:
        dt = parse_datetime(v)
        if not_future and dt > datetime.now(UTC).replace(tzinfo=None) + timedelta(minutes=5):
            raise Invalid("ingest.future")
        return dt.isoformat() + "Z"

    return check


def _code(codes: frozenset[str], dictionary: str) -> Checker:
    def check(v: Any) -> str:
        v = str(v).strip() if isinstance(v, str | int) and not isinstance(v, bool) else None
        if v not in codes:
            raise Invalid(f"code.unknown:{dictionary}")
        return v

    return check


def _list_of(item: Checker, max_items: int) -> Checker:
    def check(v: Any) -> list:
        if isinstance(v, str):
            v = [p for p in re.split(r"[;；|,，]", v) if p.strip()]
        if not isinstance(v, list):
            raise Invalid("ingest.type_list")
        if len(v) > max_items:
            raise Invalid(f"ingest.too_many:{max_items}")
        return [item(x) for x in v]

    return check


def _reference(kind: str) -> Checker:
    def check(v: Any) -> str:
        if isinstance(v, bool) or not isinstance(v, str | int):
            raise Invalid(f"ingest.type_ref_{kind}")
        v = str(v).strip()
        if not v or len(v) > 64:
            raise Invalid(f"ingest.type_ref_{kind}")
        return v

    return check


def element_checker(element: dict, dictionaries: dict[str, dict]) -> Checker:
    t = element["type"]
    if t in ("string", "text"):
        return _string(element | ({"max_length": element.get("max_length", 4000)} if t == "text" else {}))
    if t == "integer":
        return _integer(element)
    if t == "decimal":
        return _decimal(element)
    if t == "boolean":
        return _boolean(element)
    if t == "date":
        return _date(element)
    if t == "datetime":
        return _datetime(element)
    if t in ("code", "codes"):
        codes = frozenset(c["code"] for c in dictionaries[element["dictionary"]]["codes"])
        one = _code(codes, element["dictionary"])
        return one if t == "code" else _list_of(one, element.get("max_items", 50))
    if t == "strings":
        return _list_of(_string({"max_length": element.get("max_length", 100)}), element.get("max_items", 50))
    if t in ("student", "staff", "class"):
        return _reference(t)
    raise ValueError(f"unknown element type {t}")


class Compiled:
    """A library ready to validate records: ``validate(raw) -> (clean, errors)``."""

    def __init__(self, library: dict, dictionaries: dict[str, dict]) -> None:
        self.library = library
        self.id, self.version = library["id"], library["version"]
        self.checks = [(name, el.get("required", False), element_checker(el, dictionaries))
                       for name, el in library["elements"].items()]
        self.names = {name for name, _, _ in self.checks}
        self.refs = {name: el["type"] for name, el in library["elements"].items()
                     if el["type"] in ("student", "staff", "class")}

    def validate(self, raw: dict) -> tuple[dict, dict[str, str]]:
        clean: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for name, required, check in self.checks:
            value = raw.get(name)
            if value is None or value == "":
                if required:
                    errors[name] = "ingest.required"
                continue
            try:
                clean[name] = check(value)
            except Invalid as err:
                errors[name] = err.key
        return clean, errors
