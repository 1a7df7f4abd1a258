"""Figures plugins offer the district (``jizuo_district_figures``), desensitised by the platform before a
district person sees them (脱敏):

- a figure is computed per school, the plugin acting for that school only;
- its groups are categories: a cell whose group names a person (``student_id``, ``student_no``, ``name``,
  ``id_number``…) makes the whole figure refused, and no student identifier ever rises above school level;
- a cell of fewer than ``MIN_CELL`` (5) students is suppressed, count and value, and when a school's cells
  add up to a total someone could subtract from, the next smallest cell is suppressed too (complementary
  suppression), as statistical offices do.
"""
from __future__ import annotations

import logging
from typing import Any

import sqlalchemy.orm as so

log = logging.getLogger("jizuo.district")
MIN_CELL = 5
PERSONAL = {"student_id", "student_no", "student", "name", "student_name", "id_number", "account_id",
            "guardian_id", "guardian", "phone", "person_id", "staff_id", "staff_no"}


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
        out.append({"group": dict(group), "count": count, "value": value})
    return out


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
                        cells = _check(spec["compute"](sess, school), key)
                    shown, total = suppress(cells)
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
