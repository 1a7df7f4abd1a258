"""The enrolment forecast (招生预警): next school year's students per grade and school by the cohort-survival
method, a backtest of the same method on past years, and the schools whose forecast passes their places.

- **Grade progression.** A grade's ratio is ``students(y, g) / students(y-1, g-1)`` (how much of last year's
  grade below moves up, with transfers in and out), averaged over every year the school has both figures for.
  A school with fewer than ``MIN_PAIRS`` such years takes the district's ratio for that grade: the sum over
  schools of ``students(y, g)`` over the sum of ``students(y-1, g-1)`` (pooled, so big schools weigh more).
- **Entry grade** (grade 1, 7 or 10): the least-squares linear trend of the school's intake over the years
  available, carried one year ahead, when there are ``TREND_YEARS`` or more; the average intake otherwise.
- **Backtest.** Every past year ``y`` with at least two years before it is forecast from the years before ``y``
  only, and compared with what happened: mean absolute error (students per grade) and MAPE (mean of
  ``|forecast − actual| / actual`` over grades with students), per school and for the district.
- **Capacity.** A school is flagged when its forecast total passes its approved places, or its forecast entry
  grade passes the entry grade's places.

The functions on plain dictionaries (``history = {year: {grade: students}}``) are pure and tested against
numbers worked by hand (tests/test_forecast.py); ``district_forecast`` reads the tables (foundation/models/
planning.py) for schools the caller was checked for.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.tenancy import unscoped

MIN_PAIRS = 2  # a school's own ratio for a grade needs this many years of history, else the district's
TREND_YEARS = 3  # the entry grade follows a trend from this many years of intake, else their average
# the grades of each school stage (the school_stage dictionary); the first is the entry grade
STAGE_GRADES = {
    "primary": range(1, 7), "junior": range(7, 10), "senior": range(10, 13), "vocational": range(10, 13),
    "nine_year": range(1, 10), "complete": range(7, 13),
}
# district staff compare schools on these figures: they are counts by school and grade, never a person's
PLANNING = unscoped("planning figures by school and grade (no person's data): the schools the caller was checked "
                    "for, and the district's pooled progression ratios")

History = Mapping[int, Mapping[int, int]]


def half_up(x: float) -> int:
    return int(x + 0.5) if x >= 0 else -int(-x + 0.5)


def grade_pairs(history: History, grade: int) -> list[tuple[int, int]]:
    """(students of ``grade - 1`` in year y-1, students of ``grade`` in year y) for every year with both."""
    out = []
    for year in sorted(history):
        before = history.get(year - 1, {}).get(grade - 1)
        now = history[year].get(grade)
        if before and now is not None:
            out.append((before, now))
    return out


def school_ratios(history: History, grades: Iterable[int]) -> dict[int, tuple[float | None, int]]:
    """Per grade above the entry grade: (the mean of the yearly ratios, how many years), or (None, 0)."""
    out = {}
    for g in list(grades)[1:]:
        pairs = grade_pairs(history, g)
        out[g] = (sum(now / before for before, now in pairs) / len(pairs), len(pairs)) if pairs else (None, 0)
    return out


def district_ratios(histories: Iterable[History], grades: Iterable[int]) -> dict[int, float | None]:
    """Per grade: the pooled ratio over every school's years (sum of movers-up over sum of the grade below)."""
    out = {}
    grades = list(grades)
    histories = list(histories)
    for g in grades[1:]:
        before = now = 0
        for h in histories:
            for b, n in grade_pairs(h, g):
                before, now = before + b, now + n
        out[g] = now / before if before else None
    return out


def intake(series: Mapping[int, int], year: int) -> float | None:
    """The entry grade's students in ``year`` from the intake of earlier years: linear trend or average."""
    points = sorted((y, n) for y, n in series.items() if y < year)
    if not points:
        return None
    if len(points) < TREND_YEARS:
        return sum(n for _, n in points) / len(points)
    k = len(points)
    mx, my = sum(y for y, _ in points) / k, sum(n for _, n in points) / k
    sxx = sum((y - mx) ** 2 for y, _ in points)
    slope = sum((y - mx) * (n - my) for y, n in points) / sxx
    return max(0.0, my + slope * (year - mx))


def forecast_school(history: History, grades: Iterable[int], year: int,
                    fallback: Mapping[int, float | None] | None = None) -> dict[str, Any]:
    """Students per grade in ``year`` from the years before it. Returns ``{"grades": {g: n}, "total",
    "ratios": {g: {"ratio", "years", "district": bool}}}``; a grade with nothing to go on is left out."""
    grades = list(grades)
    past = {y: v for y, v in history.items() if y < year}
    last = past.get(year - 1, {})
    out: dict[int, int] = {}
    used: dict[int, dict[str, Any]] = {}
    entry = intake({y: v[grades[0]] for y, v in past.items() if grades[0] in v}, year)
    if entry is not None:
        out[grades[0]] = half_up(entry)
    for g, (ratio, years) in school_ratios(past, grades).items():
        pooled = (fallback or {}).get(g)
        district = years < MIN_PAIRS and pooled is not None
        if district:
            ratio = pooled
        below = last.get(g - 1)
        if ratio is None or below is None:
            continue
        out[g] = half_up(below * ratio)
        used[g] = {"ratio": round(ratio, 4), "years": years, "district": district}
    return {"grades": out, "total": sum(out.values()), "ratios": used}


def backtest(histories: Mapping[int, History], grades_of: Mapping[int, Iterable[int]]) -> dict[str, Any]:
    """Forecast every past year that has two years before it from those years only, and compare.
    Returns ``{"schools": {id: {"mae", "mape", "cells": [[year, grade, forecast, actual]]}}, "district":
    {"mae", "mape", "cells": n}, "years": [...]}`` (None where there was nothing to compare)."""
    years = sorted({y for h in histories.values() for y in h})
    tested = [y for y in years if sum(1 for x in years if x < y) >= 2]
    per: dict[int, list[list[int]]] = {s: [] for s in histories}
    for y in tested:
        for stage_grades in {tuple(g) for g in grades_of.values()}:
            members = [s for s in histories if tuple(grades_of[s]) == stage_grades]
            fallback = district_ratios(({k: v for k, v in histories[s].items() if k < y} for s in members),
                                       stage_grades)
            for s in members:
                actual = histories[s].get(y)
                if not actual:
                    continue
                got = forecast_school(histories[s], stage_grades, y, fallback)["grades"]
                per[s] += [[y, g, got[g], actual[g]] for g in stage_grades if g in got and g in actual]
    out = {s: errors(cells) | {"cells": cells} for s, cells in per.items()}
    every = [c for cells in per.values() for c in cells]
    return {"schools": out, "district": errors(every) | {"cells": len(every)}, "years": tested}


def errors(cells: list[list[int]]) -> dict[str, float | None]:
    """Mean absolute error and MAPE (in %) of [year, grade, forecast, actual] cells."""
    if not cells:
        return {"mae": None, "mape": None}
    mae = sum(abs(f - a) for _, _, f, a in cells) / len(cells)
    rel = [abs(f - a) / a for _, _, f, a in cells if a > 0]
    return {"mae": round(mae, 2), "mape": round(100 * sum(rel) / len(rel), 2) if rel else None}


def over_capacity(total: int, entry: int | None, places: Mapping[str, int | None]) -> list[str]:
    """Which of the school's places the forecast passes: "total" and/or "entry"."""
    out = []
    if places.get("total_places") is not None and total > places["total_places"]:
        out.append("total")
    if entry is not None and places.get("entry_places") is not None and entry > places["entry_places"]:
        out.append("entry")
    return out


# ---- reading the tables -------------------------------------------------------------------------------------

def _opts(district: bool) -> Mapping[str, Any]:
    return PLANNING if district else {}


def schools_of(sess: so.Session, ids: Iterable[int], district: bool) -> list[dict[str, Any]]:
    from foundation.models import OrgUnit

    ou = OrgUnit.__table__.c
    rows = sess.execute(sa.select(ou.id, ou.name, ou.name_en, ou.stage).where(
        ou.kind == "school", ou.id.in_(list(ids))).order_by(ou.seq, ou.id), execution_options=_opts(district))
    return [{"id": r.id, "name": r.name, "name_en": r.name_en, "stage": r.stage} for r in rows]


def histories(sess: so.Session, ids: Iterable[int], district: bool) -> dict[int, dict[int, dict[int, int]]]:
    from foundation.models import SchoolEnrolment

    e = SchoolEnrolment.__table__.c
    out: dict[int, dict[int, dict[int, int]]] = {}
    for s, y, g, n in sess.execute(sa.select(e.school_id, e.school_year, e.grade, e.students).where(
            e.school_id.in_(list(ids))), execution_options=_opts(district)):
        out.setdefault(s, {}).setdefault(y, {})[g] = n
    return out


def facilities(sess: so.Session, ids: Iterable[int], district: bool) -> dict[int, dict[str, Any]]:
    from foundation.models import SchoolFacility
    from foundation.models.planning import FACILITY_ELEMENTS

    f = SchoolFacility.__table__.c
    cols = [f.school_id, *(f[name] for name, _ in FACILITY_ELEMENTS)]
    return {r.school_id: dict(r._mapping) for r in sess.execute(
        sa.select(*cols).where(f.school_id.in_(list(ids))), execution_options=_opts(district))}


def district_forecast(sess: so.Session, school_ids: Iterable[int], *, district: bool) -> dict[str, Any]:
    """The forecast page's figures for the schools (the caller checked it may see them): per school its last
    year, the forecast for the year after, the ratios used, the backtest error and the capacity flags.

    The district's pooled ratios (a school's fallback) come from every school of the district, also on a
    school's own page, so that a principal and the bureau see the same forecast for the school; the other
    schools' figures are read for that alone and never returned."""
    from foundation.models import OrgUnit

    shown = set(school_ids)
    every = sess.scalars(sa.select(OrgUnit.id).where(OrgUnit.kind == "school"), execution_options=PLANNING)
    schools = [s for s in schools_of(sess, every, True) if s["stage"] in STAGE_GRADES]
    ids = [s["id"] for s in schools]
    hist = histories(sess, ids, True)
    places = facilities(sess, [i for i in ids if i in shown], district)
    grades_of = {s["id"]: list(STAGE_GRADES[s["stage"]]) for s in schools}
    with_history = {s: hist[s] for s in ids if hist.get(s)}
    test = backtest(with_history, {s: grades_of[s] for s in with_history})
    base = max((y for h in with_history.values() for y in h), default=None)
    rows = []
    for s in schools:
        sid, grades = s["id"], grades_of[s["id"]]
        if sid not in shown:
            continue
        h = hist.get(sid, {})
        row = {**s, "grades": grades, "history": {y: h[y] for y in sorted(h)}, "places": {
            k: (places.get(sid) or {}).get(k) for k in ("entry_places", "total_places")}}
        if base is not None and base in h:  # a school whose figures stop earlier gets no forecast
            members = [x for x in with_history if grades_of[x] == grades]
            fallback = district_ratios((with_history[x] for x in members), grades)
            fc = forecast_school(h, grades, base + 1, fallback)
            row |= {"forecast": fc, "current": sum(h.get(base, {}).values()),
                    "over": over_capacity(fc["total"], fc["grades"].get(grades[0]), row["places"]),
                    "backtest": {k: v for k, v in test["schools"].get(sid, {}).items() if k != "cells"}}
        rows.append(row)
    mine = [c for sid in shown for c in test["schools"].get(sid, {}).get("cells", [])]
    overall = test["district"] if district else errors(mine) | {"cells": len(mine)}
    return {"base_year": base, "year": base + 1 if base is not None else None, "schools": rows,
            "backtest": {"district": overall, "years": test["years"]},
            "over": [r["id"] for r in rows if r.get("over")]}


# ---- loading a district's own figures (CSV) --------------------------------------------------------------------

class PlanningInputError(ValueError):
    """Rows that cannot be stored: ``problems`` lists ``{"line", "field", "error"}``, nothing is written."""

    def __init__(self, problems: list[dict[str, Any]]) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


def read_csv(text: str) -> list[dict[str, str]]:
    import csv
    import io

    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    out = []
    for row in reader:
        extra = row.pop(None, None)  # more cells than the header names: a column of its own, reported unknown
        clean = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
        if extra:
            clean["(extra cells)"] = ",".join(extra)
        out.append(clean)
    return out


def school_codes(sess: so.Session, ids: Iterable[int], district: bool) -> dict[str, dict[str, Any]]:
    from foundation.models import OrgUnit

    ou = OrgUnit.__table__.c
    return {r.code: {"id": r.id, "stage": r.stage} for r in sess.execute(sa.select(ou.code, ou.id, ou.stage).where(
        ou.kind == "school", ou.id.in_(list(ids))), execution_options=_opts(district))}


def _int(raw: str, lo: int, hi: int) -> int:
    value = int(raw)
    if not lo <= value <= hi:
        raise ValueError(f"between {lo} and {hi}")
    return value


ENROLMENT_COLUMNS = ("school_code", "school_year", "grade", "students")


def parse_enrolment(rows: list[dict[str, str]], codes: Mapping[str, dict[str, Any]],
                    default: int | None) -> list[dict[str, int]]:
    """CSV rows ``school_code, school_year, grade, students`` (the school code may be left out by a school's own
    staff: ``default``) → rows to store; every problem named by line and field."""
    by_id = {v["id"]: v for v in codes.values()}
    out, problems = [], []
    for line, row in enumerate(rows, start=2):
        school = codes.get(row.get("school_code", "")) or (by_id.get(default) if not row.get("school_code") else None)
        if school is None:
            problems.append({"line": line, "field": "school_code", "error": "unknown or out of reach"})
            continue
        problems += [{"line": line, "field": k, "error": "not a column of the enrolment file"}
                     for k in sorted(k for k in row if k and k not in ENROLMENT_COLUMNS)]
        got: dict[str, int] = {"school_id": school["id"]}
        for name, lo, hi in (("school_year", 1990, 2100), ("grade", 1, 12), ("students", 0, 100_000)):
            try:
                got[name] = _int(row.get(name, ""), lo, hi)
            except ValueError as err:
                problems.append({"line": line, "field": name, "error": str(err) if "between" in str(err)
                                 else "a whole number"})
        if "grade" in got and got["grade"] not in STAGE_GRADES.get(school["stage"], ()):
            problems.append({"line": line, "field": "grade", "error": f"not a grade of a {school['stage']} school"})
        out.append(got)
    if not rows:
        problems.append({"line": 1, "field": "file", "error": "no rows"})
    if problems:
        raise PlanningInputError(problems)
    return out


def store_enrolment(sess: so.Session, rows: list[dict[str, int]], district: bool) -> dict[str, int]:
    """Upsert (school, year, grade) → students; returns how many were created and updated."""
    from contextlib import nullcontext

    from foundation.models import SchoolEnrolment

    created = updated = 0
    with PLANNING.on(sess) if district else nullcontext():
        have = {(r.school_id, r.school_year, r.grade): r for r in sess.scalars(sa.select(SchoolEnrolment).where(
            SchoolEnrolment.school_id.in_({r["school_id"] for r in rows})))}
        for r in rows:
            row = have.get((r["school_id"], r["school_year"], r["grade"]))
            if row is None:
                row = SchoolEnrolment(**r, source="import")
                sess.add(row)
                have[(r["school_id"], r["school_year"], r["grade"])] = row
                created += 1
            elif row.students != r["students"]:
                row.students, row.source = r["students"], "import"
                updated += 1
        sess.flush()
    return {"created": created, "updated": updated}
