"""The balanced-development map (均衡发展地图): each school's facilities per student, compared across the
schools of a stage, with the schools below the district's standard marked and the district's coefficient of
variation per indicator, as the reviews of balanced compulsory education compute it.

- **Per student**: an indicator's facility figure (school_facilities) over the school's students in the latest
  school year of its enrolment (school_enrolments); rooms are counted per 100 students.
- **Standard**: the district's figure for the school's stage (facility_standards), else the national default
  below; a school whose figure is under it is marked.
- **Coefficient of variation** among the schools of one stage, weighted by their students, as in the
  Ministry of Education's 《县域义务教育优质均衡发展督导评估办法》 (2017):
  ``X̄ = Σ PᵢXᵢ / P``, ``S = √(Σ Pᵢ (Xᵢ − X̄)² / P)``, ``CV = S / X̄``; balanced when at most 0.50 for primary
  schools and 0.45 for junior secondary schools.

National defaults (compulsory education; senior and vocational schools have none until the district sets them):
the 2017 review's resource indicators — teaching and auxiliary rooms 4.5 / 5.8 m² per student (primary /
junior), sports grounds and halls 7.5 / 10.2 m², teaching equipment 2,000 / 2,500 yuan, networked multimedia
classrooms 2.3 / 2.4 per 100 students — and the 《中小学图书馆（室）规程》 (2018) minimum of 25 / 35 books
per student. A nine-year school takes them weighted by its grades (6 primary, 3 junior); a complete
secondary school the junior figures.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.cockpit.forecast import STAGE_GRADES, facilities, histories, schools_of

# indicator → (facility elements summed, students it is counted per, zh, en, unit zh, unit en)
INDICATORS: dict[str, tuple[tuple[str, ...], int, str, str, str, str]] = {
    "teaching_area": (("teaching_area",), 1, "生均教学及辅助用房面积", "Teaching rooms per student", "㎡", "m²"),
    "sports_area": (("sports_area",), 1, "生均体育运动场馆面积", "Sports grounds per student", "㎡", "m²"),
    "equipment_value": (("equipment_value",), 1, "生均教学仪器设备值", "Teaching equipment per student",
                        "元", "yuan"),
    "multimedia_rooms": (("multimedia_rooms",), 100, "每百名学生网络多媒体教室数",
                         "Multimedia classrooms per 100 students", "间", "rooms"),
    "library_books": (("library_books",), 1, "生均图书", "Library books per student", "册", "books"),
    "specialist_rooms": (("lab_rooms", "music_rooms", "art_rooms", "computer_rooms"), 100,
                         "每百名学生专用教室数（实验、音乐、美术、计算机）",
                         "Specialist rooms per 100 students (labs, music, art, computers)", "间", "rooms"),
    "site_area": (("site_area",), 1, "生均占地面积", "Site area per student", "㎡", "m²"),
    "building_area": (("building_area",), 1, "生均校舍建筑面积", "Building area per student", "㎡", "m²"),
}
_PRIMARY = {"teaching_area": 4.5, "sports_area": 7.5, "equipment_value": 2000.0, "multimedia_rooms": 2.3,
            "library_books": 25.0}
_JUNIOR = {"teaching_area": 5.8, "sports_area": 10.2, "equipment_value": 2500.0, "multimedia_rooms": 2.4,
           "library_books": 35.0}
NATIONAL: dict[str, dict[str, float]] = {
    "primary": _PRIMARY, "junior": _JUNIOR, "complete": _JUNIOR,
    "nine_year": {k: round((6 * _PRIMARY[k] + 3 * _JUNIOR[k]) / 9, 2) for k in _PRIMARY},
    "senior": {}, "vocational": {},
}
CV_LIMIT = {"primary": 0.50, "junior": 0.45, "nine_year": 0.45}


def standards_for(overrides: Mapping[tuple[str, str], float]) -> dict[str, dict[str, float | None]]:
    """Per stage and indicator: the district's standard, else the national default, else None (unmarked)."""
    return {stage: {k: overrides.get((stage, k), NATIONAL.get(stage, {}).get(k)) for k in INDICATORS}
            for stage in STAGE_GRADES}


def per_student(facility: Mapping[str, Any] | None, students: int | None, indicator: str) -> float | None:
    elements, per = INDICATORS[indicator][:2]
    if not facility or not students:
        return None
    parts = [facility.get(e) for e in elements]
    if any(p is None for p in parts):
        return None
    return round(sum(parts) * per / students, 2)


def variation(points: list[tuple[int, float]]) -> dict[str, float | None]:
    """Student-weighted mean, standard deviation and coefficient of variation of (students, value) points."""
    total = sum(p for p, _ in points)
    if len(points) < 2 or not total:
        return {"mean": None, "sd": None, "cv": None}
    mean = sum(p * x for p, x in points) / total
    sd = math.sqrt(sum(p * (x - mean) ** 2 for p, x in points) / total)
    return {"mean": round(mean, 2), "sd": round(sd, 3), "cv": round(sd / mean, 3) if mean else None}


def compare(rows: Iterable[dict[str, Any]], standards: Mapping[str, Mapping[str, float | None]]) -> dict[str, Any]:
    """``rows``: ``{"id", "stage", "students", "facilities"}``. Adds per school ``indicators`` ({key: value,
    standard, below}) and ``below`` (the keys under standard); ``groups``: per stage and indicator the CV."""
    schools, groups = [], {}
    for r in rows:
        std = standards.get(r["stage"], {})
        ind = {}
        for key in INDICATORS:
            value, bar = per_student(r.get("facilities"), r.get("students"), key), std.get(key)
            ind[key] = {"value": value, "standard": bar, "below": value is not None and bar is not None and value < bar}
        schools.append({**r, "indicators": ind, "below": [k for k, v in ind.items() if v["below"]]})
    for stage in sorted({s["stage"] for s in schools}):
        members = [s for s in schools if s["stage"] == stage]
        groups[stage] = {}
        for key in INDICATORS:
            v = variation([(s["students"], s["indicators"][key]["value"]) for s in members
                           if s["indicators"][key]["value"] is not None])
            limit = CV_LIMIT.get(stage)
            groups[stage][key] = v | {"limit": limit, "schools": len(members),
                                      "ok": None if v["cv"] is None or limit is None else v["cv"] <= limit}
    return {"schools": schools, "groups": groups}


def district_standards(sess: so.Session) -> dict[str, dict[str, float | None]]:
    from foundation.models import FacilityStandard

    t = FacilityStandard.__table__.c
    return standards_for({(s, i): v for s, i, v in sess.execute(sa.select(t.stage, t.indicator, t.value))})


def district_balance(sess: so.Session, school_ids: Iterable[int], *, district: bool) -> dict[str, Any]:
    """The map's figures for the schools the caller was checked for: students in the latest year, facilities,
    per-student indicators against the standard, and the coefficient of variation per stage."""
    schools = [s for s in schools_of(sess, school_ids, district) if s["stage"] in STAGE_GRADES]
    ids = [s["id"] for s in schools]
    hist, fac = histories(sess, ids, district), facilities(sess, ids, district)
    rows = []
    for s in schools:
        h = hist.get(s["id"], {})
        year = max(h, default=None)
        rows.append({**s, "year": year, "students": sum(h[year].values()) if year is not None else None,
                     "facilities": {k: v for k, v in (fac.get(s["id"]) or {}).items() if k != "school_id"} or None})
    standards = district_standards(sess)
    return compare(rows, standards) | {"standards": standards}


def facility_elements() -> dict[str, dict[str, Any]]:
    """The school base library's facility elements (their type, bounds and words), from the standard."""
    from foundation.models.planning import FACILITY_ELEMENTS
    from foundation.standards import catalog

    elements = catalog().library("school")["elements"]
    return {name: elements[name] for name, _ in FACILITY_ELEMENTS}


def parse_facilities(rows: list[dict[str, str]], codes: Mapping[str, dict[str, Any]],
                     default: int | None) -> list[dict[str, Any]]:
    """CSV rows ``school_code`` and any facility elements (an empty cell: unknown) → rows to store, checked
    against the school base library's element types and bounds."""
    from foundation.cockpit.forecast import PlanningInputError

    elements, by_id = facility_elements(), {v["id"]: v for v in codes.values()}
    out, problems = [], []
    for line, row in enumerate(rows, start=2):
        school = codes.get(row.get("school_code", "")) or (by_id.get(default) if not row.get("school_code") else None)
        if school is None:
            problems.append({"line": line, "field": "school_code", "error": "unknown or out of reach"})
            continue
        unknown = sorted(k for k in row if k and k != "school_code" and k not in elements)
        problems += [{"line": line, "field": k, "error": "not an element of the school base library"} for k in unknown]
        got: dict[str, Any] = {"school_id": school["id"]}
        for name, el in elements.items():
            raw = row.get(name, "")
            if raw == "":
                continue
            try:
                value = int(raw) if el["type"] == "integer" else float(raw)
                if not el.get("minimum", 0) <= value <= el.get("maximum", 1e12) or value != value:
                    raise ValueError
                got[name] = value
            except ValueError:
                problems.append({"line": line, "field": name, "error": f"a {el['type']} from {el.get('minimum', 0)}"
                                 f" to {el.get('maximum')}"})
        out.append(got)
    if not rows:
        problems.append({"line": 1, "field": "file", "error": "no rows"})
    if problems:
        raise PlanningInputError(problems)
    return out


def store_facilities(sess: so.Session, rows: list[dict[str, Any]], district: bool) -> dict[str, int]:
    """One row a school: the elements given replace the stored ones, the others stay."""
    from contextlib import nullcontext

    from foundation.cockpit.forecast import PLANNING
    from foundation.models import SchoolFacility

    created = updated = 0
    with PLANNING.on(sess) if district else nullcontext():
        have = {r.school_id: r for r in sess.scalars(sa.select(SchoolFacility).where(
            SchoolFacility.school_id.in_({r["school_id"] for r in rows})))}
        for r in rows:
            row = have.get(r["school_id"])
            if row is None:
                have[r["school_id"]] = row = SchoolFacility(school_id=r["school_id"], source="import")
                sess.add(row)
                created += 1
            else:
                updated += 1
            for k, v in r.items():
                setattr(row, k, v)
            row.source = "import"
        sess.flush()
    return {"created": created, "updated": updated}


def set_standard(sess: so.Session, stage: str, indicator: str, value: float | None) -> None:
    """The district's standard for one stage and indicator; None goes back to the national default."""
    from foundation.models import FacilityStandard

    if stage not in STAGE_GRADES or indicator not in INDICATORS:
        raise ValueError("stage" if stage not in STAGE_GRADES else "indicator")
    row = sess.scalar(sa.select(FacilityStandard).where(FacilityStandard.stage == stage,
                                                        FacilityStandard.indicator == indicator))
    if value is None:
        if row is not None:
            sess.delete(row)
    elif row is None:
        sess.add(FacilityStandard(stage=stage, indicator=indicator, value=value))
    else:
        row.value = value
    sess.flush()
