"""Home-page widgets (``jizuo_dashboard_widgets``): staff see the average and spread of the scores they
reach (their classes, or the school) with a link to the class board; a student or parent sees their own
(child's) score and band — the same privacy line as everywhere else in the plugin."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.plugin_api import (
    Forbidden,
    NotFound,
    Principal,
    Student,
    acting_in,
    family_students,
    school_for,
    t,
)
from plugins.points import caps as A
from plugins.points import standing

BUCKETS = ((1000, "≥1000"), (950, "≥950"), (900, "≥900"), (-10**9, "<900"))  # each below the one before


def _school(cap: str) -> int | None:
    try:
        return school_for(cap, A.NAME, narrow=False)  # the home page shows other widgets too
    except (Forbidden, NotFound):
        return None


def staff(sess: so.Session, p: Principal) -> dict | None:
    school = _school(A.RANK)
    if school is None:
        return None
    with acting_in(school):  # the students the person reaches there (their classes, or the school)
        score, frm, _ = standing.score_expr(sess, [school])
        values = list(sess.scalars(sa.select(score).select_from(frm).where(Student.__table__.c.status_code == "01")))
    if not values:
        return None
    bars = [[label, sum(1 for v in values if v >= lo and (i == 0 or v < BUCKETS[i - 1][0]))]
            for i, (lo, label) in enumerate(BUCKETS)]
    return {"value": round(sum(values) / len(values), 1), "link": "/points/", "bars": bars,
            "note": {"zh": f"{len(values)} 名学生的平均分", "en": f"average of {len(values)} students"}}


def family(sess: so.Session, p: Principal) -> dict | None:
    kid = next((k for k in family_students(A.NAME) if p.can(A.OWN, k.school_id)), None)
    if kid is None or p.can(A.RANK, kid.school_id):
        return None
    with acting_in(kid.school_id):
        band, score = standing.band(sess, kid.school_id, kid.id), standing.score_of(sess, kid.school_id, kid.id)
    out = {"value": score, "link": "/points/me",
           "note": {"zh": t(f"points.band.{band}", "zh"), "en": t(f"points.band.{band}", "en")}}
    if p.person_kind != "student":  # a parent: the child's score, named
        out["title"] = {"zh": f"{kid.name}的德育积分", "en": f"{kid.name}'s conduct score"}
    return out


def widgets() -> list[dict[str, Any]]:
    return [{"key": "points.scores", "title": {"zh": "德育积分", "en": "Conduct scores"}, "capability": A.RANK,
             "order": 40, "data": staff},
            {"key": "points.my_score", "title": {"zh": "我的德育积分", "en": "My conduct score"},
             "capability": A.OWN, "order": 40, "data": family}]
