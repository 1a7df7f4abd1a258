"""Home-page widgets (``jizuo_dashboard_widgets``): staff see the average and spread of the scores they
reach (their classes, or the school) with a link to the class board; a student or parent sees their own
(child's) score and band — the same privacy line as everywhere else in the plugin."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.plugin_api import Principal, Student, enabled_schools, t
from plugins.points import access as A
from plugins.points import standing

BUCKETS = ((1000, "≥1000"), (950, "≥950"), (900, "≥900"), (-10**9, "<900"))  # each below the one before


def _school(p: Principal, cap: str) -> int | None:
    able = sorted(s for s in p.school_ids() & enabled_schools(A.NAME) if p.can(cap, s))
    return able[0] if able else None


def staff(sess: so.Session, p: Principal) -> dict | None:
    school = _school(p, A.RANK)
    if school is None:
        return None
    scope = p.scope()
    whole = school in scope.full_school_ids
    if not whole and not scope.class_ids:
        return None
    score, frm, _ = standing.score_expr(sess, [school])
    st = Student.__table__.c
    stmt = sa.select(score).select_from(frm).where(st.school_id == school, st.status_code == "01")
    if not whole:
        stmt = stmt.where(st.class_id.in_(scope.class_ids))
    values = list(sess.scalars(stmt))
    if not values:
        return None
    bars = [[label, sum(1 for v in values if v >= lo and (i == 0 or v < BUCKETS[i - 1][0]))]
            for i, (lo, label) in enumerate(BUCKETS)]
    return {"value": round(sum(values) / len(values), 1), "link": "/points/", "bars": bars,
            "note": {"zh": f"{len(values)} 名学生的平均分", "en": f"average of {len(values)} students"}}


def family(sess: so.Session, p: Principal) -> dict | None:
    school = _school(p, A.OWN)
    kids = sorted(p.scope().student_ids)
    if school is None or not kids or p.can(A.RANK, school):
        return None
    st = Student.__table__.c
    kid = sess.execute(sa.select(st.id, st.school_id, st.name).where(st.id.in_(kids), st.school_id == school)
                       .order_by(st.id).limit(1)).first()
    if kid is None:
        return None
    band = standing.band(sess, school, kid.id)
    out = {"value": standing.score_of(sess, school, kid.id), "link": "/points/me",
           "note": {"zh": t(f"points.band.{band}", "zh"), "en": t(f"points.band.{band}", "en")}}
    if p.person_kind != "student":  # a parent: the child's score, named
        out["title"] = {"zh": f"{kid.name}的德育积分", "en": f"{kid.name}'s conduct score"}
    return out


def widgets() -> list[dict[str, Any]]:
    return [{"key": "points.scores", "title": {"zh": "德育积分", "en": "Conduct scores"}, "capability": A.RANK,
             "order": 40, "data": staff},
            {"key": "points.my_score", "title": {"zh": "我的德育积分", "en": "My conduct score"},
             "capability": A.OWN, "order": 40, "data": family}]
