"""An app's views over its submissions: a table with filters and sort, simple aggregates and a chart.
Computed from the stored submissions of one form (an app's data is class- or school-sized)."""
from __future__ import annotations

from collections import defaultdict
from typing import Any

from foundation.lowcode.editor import words

MAX_ROWS = 5000


def default_view(schema: dict) -> dict:
    """For forms without a view: every simple field as a column, a count, a chart by the first choice field."""
    props = schema.get("properties") or {}
    simple = [k for k, v in props.items() if isinstance(v, dict) and v.get("type") in
              ("string", "integer", "number", "boolean")]
    choice = next((k for k in simple if "enum" in props[k] or "oneOf" in props[k]), None)
    view: dict[str, Any] = {"key": "all", "columns": simple[:8], "filters": [choice] if choice else [],
                            "aggregates": [{"op": "count"}]}
    if choice:
        view["chart"] = {"type": "bar", "by": choice, "measure": "count"}
    return view


def label_of(schema: dict, ui: dict, field: str, value: Any, lang: str = "zh") -> str:
    """The human label of a stored value in ``lang``: a oneOf option's title, an enum's ui:enumNames entry."""
    prop = (schema.get("properties") or {}).get(field) or {}
    for option in prop.get("oneOf") or []:
        if isinstance(option, dict) and option.get("const") == value:
            return words(option, lang) or str(value)
    names = ((ui or {}).get(field) or {}).get("ui:enumNames")
    if names and value in (prop.get("enum") or []):
        i = prop["enum"].index(value)
        if i < len(names):
            return str(names[i])
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, list):
        return "、".join(label_of(schema, ui, field, v, lang) if not isinstance(v, dict) else "…" for v in value)
    return "" if value is None else str(value)


def _key(value: Any):
    """Sort key that puts missing values last and never compares a number with text."""
    if value is None:
        return (2, "")
    if isinstance(value, bool | int | float):
        return (0, float(value))
    return (1, str(value))


def compute(view: dict, rows: list[dict], filters: dict[str, str], sort: str | None = None,
            direction: str | None = None) -> dict:
    """``rows`` are ``{"id", "data", …}``. Filters compare the stored value's text with the chosen text
    (only fields the view declares as filters); the result holds the rows, the aggregates and the chart
    series ``[(label value, measure)]``."""
    allowed = set(view.get("filters") or [])
    active = {k: v for k, v in filters.items() if k in allowed and v != ""}
    out = [r for r in rows if all(_text(r["data"].get(k)) == v for k, v in active.items())][:MAX_ROWS]
    spec = view.get("sort") or {}
    field = sort if sort in set(view.get("columns") or []) else spec.get("field")
    if field:
        desc = (direction or spec.get("dir") or "asc") == "desc"
        out.sort(key=lambda r: _key(r["data"].get(field)), reverse=desc)
    aggregates = [_aggregate(a, out) for a in view.get("aggregates") or []]
    chart = _chart(view["chart"], out) if view.get("chart") else []
    return {"rows": out, "filters": active, "sort": field, "aggregates": aggregates, "chart": chart}


def _text(value: Any) -> str:
    return "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)


def _numbers(rows: list[dict], field: str) -> list[float]:
    return [float(r["data"][field]) for r in rows
            if isinstance(r["data"].get(field), int | float) and not isinstance(r["data"].get(field), bool)]


def _aggregate(spec: dict, rows: list[dict]) -> dict:
    op, field = spec["op"], spec.get("field")
    if op == "count":
        return {"op": op, "field": field, "value": len(rows)}
    values = _numbers(rows, field)
    value = None
    if values:
        value = {"sum": sum(values), "avg": round(sum(values) / len(values), 2), "min": min(values),
                 "max": max(values)}[op]
    return {"op": op, "field": field, "value": value}


def _chart(spec: dict, rows: list[dict]) -> list[tuple[Any, float]]:
    groups: dict[Any, list[dict]] = defaultdict(list)
    for r in rows:
        value = r["data"].get(spec["by"])
        for v in value if isinstance(value, list) else [value]:
            if v is not None:
                groups[v if not isinstance(v, dict) else str(v)].append(r)
    measure = spec.get("measure", "count")
    series = []
    for value, members in groups.items():
        if measure == "count":
            series.append((value, len(members)))
        else:
            nums = _numbers(members, spec.get("field", ""))
            total = sum(nums)
            series.append((value, round(total / len(nums), 2) if measure == "avg" and nums else total))
    return sorted(series, key=lambda s: (-s[1], str(s[0])))


def for_request(sess, p, form, version, args) -> dict:
    """An app's view as ``p`` asks for it (``view=``, ``f_<field>=``, ``sort=``, ``dir=``): the app's views,
    the chosen one, and its result over the submissions ``p`` may see — each row with its Submission under
    ``"sub"``. The one path for the API and the app page."""
    import sqlalchemy as sa

    from foundation.lowcode.apps import visible
    from foundation.models import Submission

    app = version.app or {}
    stmt = visible(sa.select(Submission).where(Submission.form_id == form.id), p, form, app)
    rows = [{"id": s.id, "data": s.data, "status": s.status, "effects": s.effects or [],
             "student_id": s.student_id, "class_id": s.class_id, "created_at": s.created_at.isoformat() + "Z",
             "sub": s} for s in sess.scalars(stmt.order_by(Submission.id).limit(MAX_ROWS))]
    views = app.get("views") or [default_view(version.schema)]
    view = next((v for v in views if v["key"] == args.get("view")), views[0])
    from foundation.lowcode.followups import add_columns

    add_columns(sess, form, view, rows)  # columns <key>.<field> from the app's follow-up forms
    filters = {k[2:]: v for k, v in args.items() if k.startswith("f_")}
    return {"views": views, "view": view, "rows": rows,
            "result": compute(view, rows, filters, args.get("sort"), args.get("dir"))}
