"""The demo district's planning figures (issue 21): four school years of students per grade (three past years
and this one, this year's equal to the roster where the roster has the grade) and every school's facilities
and places, so that the enrolment forecast has history to learn from and the balanced-development map has
something to compare. The first school's places are set just under its forecast (it is flagged over
capacity); the second school's sports grounds and library are under the national standard.

Drawn from a generator of its own (the district's other draws do not move), a few hundred rows: fast."""
from __future__ import annotations

import math
import random
from typing import Any

import sqlalchemy as sa

from foundation.cockpit.forecast import STAGE_GRADES, district_ratios, forecast_school
from foundation.db import utcnow
from foundation.models import SchoolEnrolment, SchoolFacility

PAST_YEARS = 3


def _history(rng: random.Random, grades: list[int], now: dict[int, int], year: int) -> dict[int, dict[int, int]]:
    """This year's counts, and each year before from the one after it: a cohort one grade lower a year earlier
    had the students of today's grade divided by a progression ratio a little under or over 1."""
    ratio = {g: rng.uniform(0.95, 1.02) for g in grades}
    hist = {year: dict(now)}
    for y in range(year - 1, year - 1 - PAST_YEARS, -1):
        after, row = hist[y + 1], {}
        for g in grades[1:]:
            row[g - 1] = max(1, round(after[g] / (ratio[g] * rng.uniform(0.98, 1.02))))
        row[grades[-1]] = max(1, round(after[grades[-1]] * rng.uniform(0.95, 1.04)))
        hist[y] = row
    return hist


def _facilities(rng: random.Random, students: int, short: bool) -> dict[str, Any]:
    n = max(students, 1)
    out = {
        "site_area": round(n * rng.uniform(18, 30), 1), "building_area": round(n * rng.uniform(7, 11), 1),
        "teaching_area": round(n * rng.uniform(5.9, 7.5), 1), "sports_area": round(n * rng.uniform(10.5, 14), 1),
        "classrooms": math.ceil(n / 45) + rng.randint(0, 3),
        "multimedia_rooms": math.ceil(n / 100 * rng.uniform(2.5, 4.0)),
        "lab_rooms": max(1, round(n / 300)), "music_rooms": max(1, round(n / 600)),
        "art_rooms": max(1, round(n / 600)), "computer_rooms": max(1, round(n / 500)),
        "library_books": round(n * rng.uniform(38, 55)), "equipment_value": round(n * rng.uniform(2600, 4200), 1),
    }
    if short:  # a crowded old school: small playground, a thin library
        out |= {"sports_area": round(n * 4.8, 1), "library_books": round(n * 18)}
    return out


def planning_demo(conn: sa.Connection, schools: list[Any], year: int, seed: int) -> int:
    """Write the demo's enrolment history and facilities for ``schools`` (the generator's schools: ``id``,
    ``stage``, ``classes`` with ``grade`` and ``size``); returns the number of rows."""
    rng = random.Random(seed * 7919 + 21)
    histories, grades_of = {}, {}
    for s in schools:
        if s.stage not in STAGE_GRADES:
            continue
        grades = list(STAGE_GRADES[s.stage])
        roster: dict[int, int] = {}
        for c in s.classes:
            roster[c.grade] = roster.get(c.grade, 0) + c.size
        usual = round(sum(roster.values()) / len(roster)) if roster else 45
        now = {g: roster.get(g) or max(1, round(usual * rng.uniform(0.9, 1.1))) for g in grades}
        histories[s.id], grades_of[s.id] = _history(rng, grades, now, year), grades
    stamp, enrol, facilities = utcnow(), [], []
    for i, s in enumerate(x for x in schools if x.id in histories):
        hist, grades = histories[s.id], grades_of[s.id]
        enrol += [{"school_id": s.id, "school_year": y, "grade": g, "students": n, "source": "demo",
                   "updated_at": stamp} for y, row in hist.items() for g, n in row.items()]
        peers = [histories[x] for x in histories if grades_of[x] == grades]
        fc = forecast_school(hist, grades, year + 1, district_ratios(peers, grades))
        entry = fc["grades"].get(grades[0], 0)
        if i == 0:  # over capacity next year: places just under the forecast
            places = {"entry_places": max(1, entry - max(2, entry // 12)),
                      "total_places": max(1, fc["total"] - max(5, fc["total"] // 20))}
        else:
            places = {"entry_places": math.ceil(entry * rng.uniform(1.1, 1.3)),
                      "total_places": math.ceil(fc["total"] * rng.uniform(1.08, 1.25))}
        facilities.append({"school_id": s.id, "source": "demo", "updated_at": stamp, **places,
                           **_facilities(rng, sum(hist[year].values()), short=i == 1)})
    if enrol:
        conn.execute(sa.insert(SchoolEnrolment.__table__), enrol)
    if facilities:
        conn.execute(sa.insert(SchoolFacility.__table__), facilities)
    return len(enrol) + len(facilities)
