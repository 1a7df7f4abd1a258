"""From figures to the tables the cockpits publish.

1. **Specs**: the core's figures (``core_figures.CORE_FIGURES``, every school) and each plugin's
   (``jizuo_district_figures``, the schools that enabled it), held to the contract (``check_spec``).
2. **Cells per school** from the cache, computed where missing or no longer fresh (``cache``): the
   figure's compute acts for one school (the session sees that school only), its cells are checked
   (``_check``: no person in a group).
3. **A table**: for the district, schools × categories with each school's total and the district's; grade and
   class rolled up first (``rollup``), then suppressed over the whole table (``suppress.protect``), for
   every figure counting people (sensitive or not; a figure counting things — classes, staff, messages,
   apps — is published whole). For a school (the principal's cockpit): grades and classes × categories,
   nothing suppressed, sensitive figures only for the roles the owning plugin lets see them.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy.orm as so

from foundation.cockpit import TILE_KEYS, cache
from foundation.cockpit.periods import as_arg, local_today
from foundation.cockpit.suppress import protect
from foundation.district_figures import BELOW_SCHOOL, FigureError, _check, check_spec, rollup

log = logging.getLogger("jizuo.cockpit")
PLUGIN_TILE = {"points": "conduct", "aid": "aid", "wellbeing": "wellbeing", "learning": "learning",
               "afterschool": "afterschool"}
# who may see a sensitive figure inside a school (the capabilities the owning plugins guard with): all of them
SENSITIVE_CAPS = {"wellbeing": ("wellbeing.answers.read",), "aid": ("aid.coverage.read",),
                  "alerts": ("wellbeing.answers.read", "aid.coverage.read")}
THINGS = {"classes", "staff", "messages", "notices", "apps", "courses", "hours", "schools", "rooms"}
WORDS = {"zh": {"none": "无需关注", "yellow": "黄色关注", "red": "红色关注", "orange": "橙色", "blue": "蓝色",
                "True": "是", "False": "否", "candidate": "潜在困难", "normal": "正常", "confirmed": "已确认",
                "covered": "已资助", "uncovered": "未资助", "dismissed": "已排除", "None": "未分组"},
         "en": {"None": "ungrouped", "True": "yes", "False": "no"}}


@dataclass(frozen=True)
class Spec:
    key: str
    plugin: str
    title: dict
    unit: str
    sensitive: bool
    tile: str
    chart: str
    periods: bool
    keep_intervals: bool
    compute: Callable[..., Any]
    caps: tuple[str, ...]

    @property
    def suppressed(self) -> bool:
        return self.sensitive or self.unit not in THINGS


def specs() -> list[Spec]:
    """Every figure the cockpits show, core first, each with its tile."""
    from foundation.plugin_runtime import host

    try:
        from foundation.cockpit.core_figures import CORE_FIGURES
    except ImportError:  # the core's figures are optional to the pipeline
        CORE_FIGURES = []
    out = []
    for plugin, declared in [("core", CORE_FIGURES), *host().each("jizuo_district_figures")]:
        for spec in declared or []:
            try:
                check_spec(spec, plugin)
            except FigureError as err:
                log.error("cockpit figure refused: %s", err)
                continue
            tile = spec.get("tile") or PLUGIN_TILE.get(plugin)
            if tile not in TILE_KEYS:
                continue
            caps = spec.get("capability") or SENSITIVE_CAPS.get(tile, ("district.figures.read",))
            out.append(Spec(key=spec["key"], plugin=plugin, title=spec.get("title") or {}, unit=spec.get("unit", "students"),
                            sensitive=bool(spec.get("sensitive")), tile=tile, chart=spec.get("chart") or "bar",
                            periods=bool(spec.get("periods")), keep_intervals=spec.get("rollup") == "none",
                            compute=spec["compute"], caps=(caps,) if isinstance(caps, str) else tuple(caps)))
    return out


def enabled(spec: Spec) -> set[int] | None:
    """Schools the figure is computed for (None: every school)."""
    if spec.plugin == "core":
        return None
    from foundation.plugin_runtime import enabled_schools

    return set(enabled_schools(spec.plugin))


def compute(sess: so.Session, spec: Spec, school: int, period: dict[str, Any]) -> list[dict[str, Any]]:
    """One figure for one school, the session acting for that school only, in a savepoint of its own."""
    from foundation.plugin_runtime import FOR_SCHOOL

    with sess.begin_nested(), FOR_SCHOOL.for_school(sess, school):
        return _compute(sess, spec, school, period)


def _compute(sess: so.Session, spec: Spec, school: int, period: dict[str, Any]) -> list[dict[str, Any]]:
    raw = spec.compute(sess, school, as_arg(period)) if spec.periods else spec.compute(sess, school)
    return _check(raw, spec.key)


def _school(sess: so.Session, todo: list[Spec], school: int, period: dict[str, Any]) -> list[tuple]:
    """A school's figures in one savepoint (a savepoint is a round trip each way); when one fails in a way
    that may have spoiled the transaction, they are computed again one by one, each in its own, to keep the
    others. Returns (spec, cells or None, error or None)."""
    from foundation.plugin_runtime import FOR_SCHOOL

    try:
        out = []
        with sess.begin_nested(), FOR_SCHOOL.for_school(sess, school):
            for spec in todo:
                try:
                    out.append((spec, _compute(sess, spec, school, period), None))
                except FigureError as err:  # refused before anything reached the database
                    log.error("cockpit figure refused: %s", err)
                    out.append((spec, None, str(err)[:500]))
        return out
    except Exception:  # noqa: BLE001 - found out below, figure by figure
        log.warning("a cockpit figure failed in school %s; computing its figures one by one", school)
    out = []
    for spec in todo:
        try:
            out.append((spec, compute(sess, spec, school, period), None))
        except FigureError as err:
            log.error("cockpit figure refused: %s", err)
            out.append((spec, None, str(err)[:500]))
        except Exception as err:  # noqa: BLE001 - one broken figure must not take the cockpit down
            log.exception("cockpit figure %s failed in school %s", spec.key, school)
            out.append((spec, None, f"{type(err).__name__}"[:500]))
    return out


def gather(sess: so.Session, figures: list[Spec], schools: list[int], period: dict[str, Any],
           force: bool = False, later: list[tuple[str, int]] | None = None) -> dict[tuple[str, int], cache.CockpitFigure]:
    """Each figure's cells for each school where it is computed: from the cache, or computed and cached.

    With ``later`` (a list), a cached row that is no longer fresh is used as it is and its (figure, school)
    appended to ``later`` for :func:`refresh_later` — the page answers at once with what it has and says when it
    was computed; only cells never computed (a new period, a new figure) are computed before answering."""
    from foundation.db import utcnow

    rows = cache.load(sess, [s.key for s in figures], schools, period["key"])
    now, today, computed = utcnow(), local_today(), []
    where = {spec.key: enabled(spec) for spec in figures}
    for school in schools:
        todo = []
        for spec in figures:
            if where[spec.key] is not None and school not in where[spec.key]:
                continue
            row = rows.get((spec.key, school))
            cached = row is not None and row.period == (period["key"] if spec.periods else "now")
            if cached and not force and cache.fresh(row, now, today):
                continue
            if cached and not force and later is not None:
                later.append((spec.key, school))
                continue
            todo.append(spec)
        for spec, cells, error in _school(sess, todo, school, period) if todo else []:
            computed.append((spec.key, school, period["key"] if spec.periods else "now",
                             period["end"] if spec.periods else None, cells, error))
    if computed:
        cache.store(sess, rows, computed)
        cache.forget_marks({c[1] for c in computed})
    return rows


_running: set[tuple] = set()
_running_lock = threading.Lock()


def refresh_later(app: Any, due: list[tuple[str, int]], period_key: str) -> threading.Thread | None:
    """Recompute ``due`` (figure, school) cells of a period in a thread of this process, in a session of its
    own that acts for the district; one such refresh per (period, cells) at a time. Returns the thread."""
    job = (period_key, tuple(sorted(due)))
    with _running_lock:
        if not due or job in _running:
            return None
        _running.add(job)

    def run() -> None:
        from foundation import db
        from foundation.cockpit.periods import parse

        try:
            with app.app_context():
                sess = cache.CACHE.mark(db.session())
                keys, schools = {k for k, _ in due}, sorted({s for _, s in due})
                gather(sess, [s for s in specs() if s.key in keys], schools, parse(period_key), force=True)
                sess.commit()
        except Exception:  # noqa: BLE001 - the page keeps the older figures; the next read tries again
            log.exception("cockpit background refresh failed")
        finally:
            with _running_lock:
                _running.discard(job)

    thread = threading.Thread(target=run, name="jizuo-cockpit-refresh", daemon=True)
    thread.start()
    return thread


def words(value: Any, lang: str) -> str:
    text = str(value)
    return WORDS.get(lang, {}).get(text, WORDS["zh"].get(text, text) if lang == "zh" else text)


UNITS = {"zh": {"students": "学生数", "classes": "班级数", "staff": "教职工数", "cases": "个案数", "messages": "条数",
                "apps": "应用数", "courses": "课程数", "pushes": "推送数"},
         "en": {"students": "students", "classes": "classes", "staff": "staff", "cases": "cases", "messages": "messages",
                "apps": "apps", "courses": "courses", "pushes": "pushes"}}


def _label(group: dict[str, Any], lang: str, unit: str = "") -> str:
    text = " · ".join(words(v, lang) for k, v in group.items() if k not in BELOW_SCHOOL)
    return text or UNITS[lang].get(unit) or {"zh": "数量", "en": "count"}[lang]


def _row_label(grade: Any, klass: Any) -> str:
    """A class's row: its name when it already says its grade (一年级(1)班), else grade and class."""
    grade, klass = str(grade or ""), str(klass or "")
    if klass and grade and klass.startswith(grade):
        return klass
    return " ".join(x for x in (grade, klass) if x)


def _cell(c: dict[str, Any] | None, count: int, hidden: bool) -> dict[str, Any]:
    if hidden:
        return {"count": None, "value": None, "low": None, "high": None, "hidden": True}
    c = c or {}
    return {"count": count, "value": c.get("value"), "low": c.get("low"), "high": c.get("high"), "hidden": False}


def _mean(cells: list[dict[str, Any] | None]) -> float | None:
    weighted = [(c["value"], c["count"]) for c in cells if c and c.get("value") is not None and c["count"]]
    n = sum(w for _, w in weighted)
    return round(sum(v * w for v, w in weighted) / n, 3) if n else None


def district_table(spec: Spec, schools: list[tuple[int, str]], rows: dict, lang: str) -> dict[str, Any]:
    """Schools × categories with totals, desensitised: no grade, class or person, small cells hidden so that
    no hidden cell can be worked out from the published ones."""
    per: dict[int, list[dict[str, Any]] | None] = {}
    failed = 0
    for sid, _ in schools:
        row = rows.get((spec.key, sid))
        per[sid] = None if row is None or row.cells is None else rollup(row.cells, spec.keep_intervals)
        failed += row is not None and row.cells is None
    cats: dict[tuple, dict[str, Any]] = {}
    for cells in per.values():
        for c in cells or []:
            cats.setdefault(tuple(sorted((k, str(v)) for k, v in c["group"].items())), c["group"])
    keys = list(cats)
    present = [(sid, name) for sid, name in schools if per[sid] is not None]
    index = {sid: {tuple(sorted((k, str(v)) for k, v in c["group"].items())): c for c in per[sid]} for sid, _ in present}
    matrix = [[index[sid][k]["count"] if k in index[sid] else 0 for k in keys] for sid, _ in present]
    hidden = protect(matrix) if spec.suppressed and keys else set()
    n_rows, n_cols = len(present), len(keys)
    out_rows = []
    for i, (sid, name) in enumerate(present):
        cells = [_cell(index[sid].get(k), matrix[i][j], (i, j) in hidden) for j, k in enumerate(keys)]
        out_rows.append({"label": name, "school_id": sid, "cells": cells,
                         "total": None if (i, n_cols) in hidden else sum(matrix[i])})
    foot = []
    for j, k in enumerate(keys):
        col = [index[sid].get(k) for sid, _ in present]
        cell = _cell({"value": _mean(col)}, sum(r[j] for r in matrix), (n_rows, j) in hidden)
        foot.append(cell)
    off = [name for sid, name in schools if per[sid] is None]
    return _table(spec, lang, [_label(cats[k], lang, spec.unit) for k in keys], out_rows,
                  {"label": {"zh": "全区", "en": "District"}[lang], "cells": foot,
                   "total": None if (n_rows, n_cols) in hidden else sum(map(sum, matrix))},
                  off=off, failed=failed, level="district")


def school_table(spec: Spec, cells: list[dict[str, Any]] | None, school_name: str, lang: str) -> dict[str, Any]:
    """One school's figure down to grade and class (rows), categories as columns; nothing hidden (only the
    roles that may see the figure get it)."""
    if cells is None:
        return _table(spec, lang, [], [], None, off=[school_name], failed=1, level="school")
    below = any(k in c["group"] for c in cells for k in BELOW_SCHOOL)
    cols: dict[tuple, str] = {}
    rows: dict[tuple, dict[tuple, dict]] = {}
    for c in cells:
        ck = tuple(sorted((k, str(v)) for k, v in c["group"].items() if k not in BELOW_SCHOOL))
        cols.setdefault(ck, _label(c["group"], lang, spec.unit))
        rk = tuple(str(c["group"].get(k) or "") for k in BELOW_SCHOOL) if below else ("",)
        rows.setdefault(rk, {})[ck] = c
    keys = list(cols)
    out_rows = []
    for rk in sorted(rows, key=_natural):
        label = _row_label(*rk) if below else school_name
        got = rows[rk]
        out_rows.append({"label": label or words(None, lang), "cells": [_cell(got.get(k), got[k]["count"] if k in got else 0, False)
                                                                     for k in keys],
                         "total": sum(c["count"] for c in got.values())})
    foot = None
    if below:
        foot_cells = []
        for k in keys:
            col = [r.get(k) for r in rows.values()]
            foot_cells.append(_cell({"value": _mean(col)}, sum(c["count"] for c in col if c), False))
        foot = {"label": {"zh": "全校", "en": "School"}[lang], "cells": foot_cells,
                "total": sum(c["count"] for c in cells)}
    return _table(spec, lang, list(cols.values()), out_rows, foot, off=[], failed=0, level="school")


def _natural(key: tuple) -> tuple:
    import re

    return tuple(tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", part)) for part in key)


def _table(spec: Spec, lang: str, columns: list[str], rows: list[dict], foot: dict | None, *, off: list[str],
           failed: int, level: str) -> dict[str, Any]:
    everything = [c for r in rows for c in r["cells"]] + (foot["cells"] if foot else [])
    return {"key": spec.key, "title": spec.title.get(lang) or spec.title.get("zh") or spec.key, "unit": spec.unit,
            "tile": spec.tile, "chart": spec.chart, "sensitive": spec.sensitive, "periods": spec.periods,
            "suppressed": level == "district" and spec.suppressed, "columns": columns, "rows": rows, "foot": foot,
            "has_value": any(c["value"] is not None for c in everything),
            "has_interval": any(c["low"] is not None for c in everything), "off": off, "failed": failed}


def visible(spec: Spec, p: Any, school: int | None) -> bool:
    """Inside a school, a sensitive figure is for the roles its plugin lets see it; the district sees every
    figure, suppressed."""
    if school is None or not spec.sensitive:
        return True
    return all(p.can(cap, school) for cap in spec.caps)


def computed_at(rows: dict) -> Any:
    times = [r.computed_at for r in rows.values()]
    return min(times) if times else None



def refresh(sess: so.Session, period_keys: list[str] | None = None, schools: list[int] | None = None) -> dict[str, int]:
    """Recompute every figure for every school (or those named) in the term under way and this month (or the
    periods named): the nightly run (``jizuo cockpit refresh``), so that the first look of the day is cached.
    ``sess`` acts for the district; each period commits on its own."""
    import sqlalchemy as sa

    from foundation.cockpit.periods import parse
    from foundation.models import OrgUnit

    today = local_today()
    keys = period_keys or [parse(None, today)["key"], f"{today:%Y-%m}"]
    if schools is None:
        schools = list(sess.scalars(sa.select(OrgUnit.id).where(OrgUnit.kind == "school").order_by(OrgUnit.id)))
    figures, out = specs(), {}
    for key in keys:
        rows = gather(sess, figures, schools, parse(key, today), force=True)
        sess.commit()
        out[key] = len(rows)
    return out
