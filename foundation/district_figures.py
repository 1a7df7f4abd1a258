"""Figures plugins offer the district (``jizuo_district_figures``), desensitised by the platform before a
district person sees them (脱敏):

- a figure is computed per school, the plugin acting for that school only;
- its groups are categories: a cell whose group names a person (``student_id``, ``student_no``, ``name``,
  ``id_number``…) makes the whole figure refused, and no student identifier ever rises above school level;
- a cell of fewer than ``MIN_CELL`` (5) students is suppressed, count and value, and when a school's cells
  add up to a total someone could subtract from, the next smallest cell is suppressed too (complementary
  suppression), as statistical offices do.

The cockpits (foundation/cockpit, docs/cockpit.md) read the same figures with more of the spec: ``tile``,
``chart``, ``periods`` (compute takes a third argument, ``{"start", "end", "label"}``), ``rollup`` and
cells' ``low``/``high`` and ``grade``/``class`` groups; :func:`check_spec` and :func:`_check` hold them to
the contract, :func:`rollup` takes grade and class out above school level before anything is suppressed.
"""
from __future__ import annotations

import logging
from datetime import date
from typing import Any

import sqlalchemy.orm as so

log = logging.getLogger("jizuo.district")
MIN_CELL = 5
PERSONAL = {"student_id", "student_no", "student", "name", "student_name", "id_number", "account_id",
            "guardian_id", "guardian", "phone", "person_id", "staff_id", "staff_no"}
TILES = ("people", "conduct", "alerts", "aid", "wellbeing", "learning", "afterschool", "communication", "apps")
CHARTS = ("bar", "stacked", "line", "interval")
BELOW_SCHOOL = ("grade", "class")  # group keys the principal's cockpit shows and the district's rolls up


class FigureError(ValueError):
    """A plugin's figure would identify a person, or is malformed."""


def _check(cells: Any, key: str) -> list[dict[str, Any]]:
    if not isinstance(cells, list):
        raise FigureError(f"figure {key}: compute returns a list of cells")
    out = []
    for cell in cells:
        group = cell.get("group") if isinstance(cell, dict) else None
        count = cell.get("count") if isinstance(cell, dict) else None
        if not isinstance(group, dict) or isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise FigureError(f"figure {key}: each cell is {{group: {{…}}, count: n, value?}}")
        named = {k for k in group if k.lower() in PERSONAL}
        if named:
            raise FigureError(f"figure {key}: groups name a person ({', '.join(sorted(named))})")
        if not all(isinstance(v, str | int | float | bool) or v is None for v in group.values()):
            raise FigureError(f"figure {key}: group values are plain categories")
        value = cell.get("value")
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise FigureError(f"figure {key}: value is a number")
        row = {"group": dict(group), "count": count, "value": value}
        for end in ("low", "high"):  # an interval around value (value added): hidden with it
            bound = cell.get(end)
            if bound is not None and (isinstance(bound, bool) or not isinstance(bound, int | float)):
                raise FigureError(f"figure {key}: {end} is a number")
            if bound is not None:
                row[end] = bound
        out.append(row)
    return out


def check_spec(spec: Any, plugin: str) -> None:
    """A figure's declaration, as the cockpits read it (raises :class:`FigureError`)."""
    if not isinstance(spec, dict) or not isinstance(spec.get("key"), str) or not callable(spec.get("compute")):
        raise FigureError(f"{plugin}: a figure is {{key, title, compute, …}}")
    key = spec["key"]
    if spec.get("tile") is not None and spec["tile"] not in TILES:
        raise FigureError(f"figure {key}: tile is one of {', '.join(TILES)}")
    if spec.get("chart") is not None and spec["chart"] not in CHARTS:
        raise FigureError(f"figure {key}: chart is one of {', '.join(CHARTS)}")
    if not isinstance(spec.get("periods", False), bool) or not isinstance(spec.get("sensitive", False), bool):
        raise FigureError(f"figure {key}: periods and sensitive are True or False")
    if spec.get("rollup") not in (None, "sum", "none"):
        raise FigureError(f"figure {key}: rollup is 'none' (or left out)")


def rollup(cells: list[dict[str, Any]], keep_intervals: bool = False) -> list[dict[str, Any]]:
    """One school's cells above school level: grade and class taken out of the groups, the cells that then
    fall together summed (counts) and averaged weighted by count (values). Intervals do not add up: they
    are dropped unless ``keep_intervals`` (a figure that declares ``"rollup": "none"``)."""
    if not any(k in c["group"] for c in cells for k in BELOW_SCHOOL):
        return cells if keep_intervals else [{k: v for k, v in c.items() if k not in ("low", "high")}
                                             for c in cells]
    acc: dict[tuple, dict[str, Any]] = {}
    for c in cells:
        group = {k: v for k, v in c["group"].items() if k not in BELOW_SCHOOL}
        a = acc.setdefault(tuple(sorted(group.items(), key=lambda kv: kv[0])),
                           {"group": group, "count": 0, "weighted": 0.0, "valued": 0})
        a["count"] += c["count"]
        if c.get("value") is not None:
            a["weighted"] += c["value"] * c["count"]
            a["valued"] += c["count"]
    return [{"group": a["group"], "count": a["count"],
             "value": round(a["weighted"] / a["valued"], 3) if a["valued"] else None} for a in acc.values()]


def current_term(today: date) -> dict[str, Any]:
    """The term ``today`` falls in (autumn: 1 September to 1 February; spring: 1 February to 1 September),
    local dates, end exclusive: the period a figure with ``periods`` gets where no page chose one."""
    from foundation.cockpit.periods import term_of

    return term_of(today)


def suppress(cells: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """Small cells out (primary), and one more when a single suppressed cell could be recovered from the
    school's total (complementary). Returns the cells (suppressed ones with ``count``/``value`` None and
    ``suppressed`` True) and the school's total, which stays published."""
    total = sum(c["count"] for c in cells)
    hidden = {i for i, c in enumerate(cells) if 0 < c["count"] < MIN_CELL}
    if len(hidden) == 1 and len(cells) > 1:
        # the smallest other cell that holds someone (a hidden empty cell would be guessed as empty)
        rest = sorted((c["count"] == 0, c["count"], i) for i, c in enumerate(cells) if i not in hidden)
        hidden.add(rest[0][2])
    out = []
    for i, c in enumerate(cells):
        if i in hidden:
            out.append({"group": c["group"], "count": None, "value": None, "suppressed": True})
        else:
            out.append({**c, "suppressed": False})
    return out, total


def district_cells(schools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The district's cells: per group, the sum of the schools' published counts (and their weighted mean
    value), with how many schools' cells were suppressed in it. Suppressed cells are left out of the sum,
    so no school's hidden cell can be recovered by subtracting the others from the district's."""
    groups: dict[tuple, dict[str, Any]] = {}
    for school in schools:
        for c in school["cells"]:
            key = tuple(sorted(c["group"].items()))
            acc = groups.setdefault(key, {"group": c["group"], "count": 0, "weighted": 0.0, "valued": 0,
                                          "schools_suppressed": 0})
            if c["suppressed"]:
                acc["schools_suppressed"] += 1
                continue
            acc["count"] += c["count"]
            if c["value"] is not None:
                acc["weighted"] += c["value"] * c["count"]
                acc["valued"] += c["count"]
    return [{"group": a["group"], "count": a["count"], "schools_suppressed": a["schools_suppressed"],
             "value": round(a["weighted"] / a["valued"], 3) if a["valued"] else None} for a in groups.values()]


def figures_for(sess: so.Session, schools: list[int], keys: set[str] | None = None) -> list[dict[str, Any]]:
    """Every declared figure (or those named), each school's cells desensitised."""
    from foundation.cockpit.periods import local_today
    from foundation.i18n import current_lang
    from foundation.plugin_runtime import FOR_SCHOOL, enabled_schools, host

    lang, out = current_lang(), []
    for plugin, specs in host().each("jizuo_district_figures"):
        enabled = enabled_schools(plugin)
        for spec in specs or []:
            key = spec.get("key")
            if keys is not None and key not in keys:
                continue
            title = spec.get("title") or {}
            figure = {"key": key, "plugin": plugin, "title": title.get(lang) or title.get("zh") or key,
                      "unit": spec.get("unit", "students"), "sensitive": bool(spec.get("sensitive")), "schools": []}
            try:
                for school in schools:
                    if school not in enabled:
                        continue
                    with sess.begin_nested(), FOR_SCHOOL.for_school(sess, school):
                        args = (current_term(local_today()),) if spec.get("periods") else ()
                        cells = _check(spec["compute"](sess, school, *args), key)
                    shown, total = suppress(rollup(cells, spec.get("rollup") == "none"))
                    figure["schools"].append({"school_id": school, "total": total, "cells": shown})
                figure["district"] = district_cells(figure["schools"])
            except FigureError as err:
                log.error("district figure refused: %s", err)
                figure.update(schools=[], refused=str(err))
            except Exception:  # noqa: BLE001 - one plugin's broken figure must not take the others down
                log.exception("district figure %s failed", key)
                figure.update(schools=[], failed=True)
            out.append(figure)
    return out
