"""A library's validation as SQL, for the PostgreSQL bulk path (foundation/ingest/bulk.py).

For each element this gives an expression that is true only for a value the Python checker
(foundation/ingest/validate.py) certainly accepts, and the clean value it would produce, from the raw record
held as ``jsonb``. It is deliberately narrower than Python: a value it is not sure of (surrounding
whitespace, a number where text is expected, a date, a pattern, a list, a reference…) makes the record "not
certain", and such records are validated by the Python checker itself, which gives the errors, with their
line, field and reason, exactly as before. So SQL decides only what is plainly right, set-wise.
"""
from __future__ import annotations

from dataclasses import dataclass

# code points Python's str.strip() removes above the control characters (all of which SQL leaves to Python)
WS = (133, 160, 5760, 8232, 8233, 8239, 8287, 12288)


def no_edge_space(t: str) -> str:
    """SQL: ``t`` neither starts nor ends with what str.strip() would remove (nor a control character);
    two code-point tests, far cheaper than a regular expression with a Unicode class."""
    def plain(c: str) -> str:
        return f"({c} > 32 AND {c} NOT IN {WS} AND {c} NOT BETWEEN 8192 AND 8202)"

    return f"{plain(f'ascii({t})')} AND {plain(f'ascii(right({t}, 1))')}"

DATETIME = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?(?:Z|[+-][0-9]{2}:[0-9]{2})?$"
NOT_AFTER = "__not_after__"  # replaced by the load's "now + 5 minutes" literal
TRUE = ("true", "True", "TRUE", "1", "是", "y", "Y", "yes")
FALSE = ("false", "False", "FALSE", "0", "否", "n", "N", "no")
SIMPLE = {"string", "text", "integer", "decimal", "boolean", "code", "datetime"}


def lit(value: str) -> str:
    """A SQL string literal, in a statement run with psycopg's %(name)s parameters."""
    return "'" + str(value).replace("'", "''").replace("%", "%%") + "'"


def num(value) -> str:
    float(value)  # a number or nothing goes into the SQL
    return str(value)


@dataclass
class Element:
    name: str
    required: bool
    ok: str | None  # SQL boolean: the value is present and certainly valid (None: not done in SQL)
    value: str | None  # SQL jsonb: the clean value, meaningful when ok
    ts: str | None = None  # datetime elements: the UTC time (read back as v.ts<i>), NULL unless a real time


def _text(i: int) -> tuple[str, str]:
    return f"v.t{i}", f"v.y{i}"


def datetime_sql(t: str, ts_ref: str, not_future: bool) -> tuple[str, str, str]:
    """(timestamp, ok, clean text): the UTC time of the text ``t`` when it has the DATETIME shape and is a
    real time (else NULL), then — given that time as ``ts_ref`` — whether it is acceptable and the clean
    text Python would give (``…Z``, microseconds only when there are any). The parts are read by position
    (a regular expression with capture groups costs a hundred times more)."""
    y, mo, d = f"substr({t}, 1, 4)::int", f"substr({t}, 6, 2)::int", f"substr({t}, 9, 2)::int"
    tz = f"CASE WHEN right({t}, 1) = 'Z' THEN 'Z' WHEN left(right({t}, 6), 1) IN ('+', '-') THEN right({t}, 6) END"
    days = (f"CASE WHEN {mo} IN (4, 6, 9, 11) THEN 30 WHEN {mo} <> 2 THEN 31 "
            f"WHEN (mod({y}, 4) = 0 AND mod({y}, 100) <> 0) OR mod({y}, 400) = 0 THEN 29 ELSE 28 END")
    shape = (f"CASE WHEN {t} ~ {lit(DATETIME)} THEN {y} BETWEEN 1900 AND 2999 AND {mo} BETWEEN 1 AND 12 AND "
             f"{d} BETWEEN 1 AND {days} AND substr({t}, 12, 2)::int < 24 AND substr({t}, 15, 2)::int < 60 AND "
             f"substr({t}, 18, 2)::int < 60 AND (left(right({t}, 6), 1) NOT IN ('+', '-') OR "
             f"(substr(right({t}, 6), 2, 2)::int < 24 AND right({t}, 2)::int < 60)) ELSE false END")
    local = (f"(substr({t}, 1, 10) || ' ' || substr({t}, 12, 8) || "
             f"substr({t}, 20, length({t}) - 19 - coalesce(length({tz}), 0)))::timestamp")
    offset = (f"CASE WHEN {tz} IS NULL THEN interval '8 hours' WHEN {tz} = 'Z' THEN interval '0' "
              f"ELSE (left(right({t}, 6), 1) || '1')::int * make_interval(hours => substr(right({t}, 6), 2, 2)::int, "
              f"mins => right({t}, 2)::int) END")
    ts = f"CASE WHEN {shape} THEN {local} - {offset} END"
    ok = f"({ts_ref} IS NOT NULL" + (f" AND {ts_ref} <= {NOT_AFTER})" if not_future else ")")
    us = f"to_char({ts_ref}, 'US')"
    clean = (f"to_char({ts_ref}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || CASE WHEN {us} <> '000000' THEN '.' || {us} "
             f"ELSE '' END || 'Z'")
    return ts, ok, clean


def element_sql(i: int, name: str, el: dict, dictionaries: dict) -> Element:
    t, y = _text(i)
    required = bool(el.get("required"))
    kind = el["type"]
    if kind not in SIMPLE or el.get("pattern"):
        return Element(name, required, None, None)
    if kind in ("string", "text"):
        max_len = el.get("max_length", 4000 if kind == "text" else 255)
        ok = f"({y} = 'string' AND length({t}) <= {int(max_len)} AND {no_edge_space(t)})"
        return Element(name, required, ok, f"to_json({t})")
    if kind == "integer":
        lo, hi = el.get("minimum", -(2**31)), el.get("maximum", 2**31 - 1)
        shape = f"(({y} = 'number' AND {t} ~ '^-?[0-9]{{1,15}}$') OR ({y} = 'string' AND {t} ~ '^-?[0-9]{{1,12}}$'))"
        ok = f"CASE WHEN {shape} THEN {t}::bigint BETWEEN {num(lo)} AND {num(hi)} ELSE false END"
        return Element(name, required, ok, f"to_json({t}::bigint)")
    if kind == "decimal":
        lo, hi, scale = el.get("minimum"), el.get("maximum"), int(el.get("scale", 2))
        if scale > 5:
            return Element(name, required, None, None)
        frac = f"(?:\\.[0-9]{{1,{scale}}})?" if scale else ""
        shape = f"({y} IN ('number', 'string') AND {t} ~ '^[0-9]{{1,9}}{frac}$')"
        bounds = " AND ".join([f"{t}::numeric >= {num(lo)}"] * (lo is not None)
                              + [f"{t}::numeric <= {num(hi)}"] * (hi is not None)) or "true"
        ok = f"CASE WHEN {shape} THEN {bounds} ELSE false END"
        return Element(name, required, ok, f"to_json(round({t}::numeric, {scale})::text)")
    if kind == "boolean":
        words = ", ".join(lit(w) for w in TRUE + FALSE)
        ok = f"({y} = 'boolean' OR ({y} = 'string' AND {t} IN ({words})))"
        value = (f"to_json(CASE WHEN {y} = 'boolean' THEN {t} = 'true' "
                 f"ELSE {t} IN ({', '.join(lit(w) for w in TRUE)}) END)")
        return Element(name, required, ok, value)
    if kind == "code":
        codes = sorted(c["code"] for c in dictionaries[el["dictionary"]]["codes"])
        ok = f"({y} = 'string' AND {t} = ANY(ARRAY[{', '.join(lit(c) for c in codes)}]::text[]))"
        return Element(name, required, ok, f"to_json({t})")
    ts, ok, clean = datetime_sql(t, f"v.ts{i}", bool(el.get("not_future")))  # datetime
    return Element(name, required, f"({y} = 'string' AND {ok})", f"to_json({clean})", ts)
