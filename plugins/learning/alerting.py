"""The yellow alert 学习图谱薄弱环节无改善: a weak point (mastery under the threshold after at least N
attempts) with a push older than the agreed period (``alert_days``) and mastery since then risen by less than
``alert_min_gain``. Assigned to the homeroom teacher (always) and the class's subject teachers; evaluated at
the end of the period: recovered when the point's mastery is above the threshold or has gained enough since
the push."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.plugin_api import utcnow
from plugins.learning.mastery import settings
from plugins.learning.models import Mastery, Point, Push

KEY = "learning.weak_point_stalled"


def scan(sess: so.Session, school_id: int) -> list[dict[str, Any]]:
    cfg = settings(school_id)
    before = utcnow() - timedelta(days=cfg["alert_days"])
    first = (sa.select(Push.student_id, Push.code, sa.func.min(Push.pushed_at).label("at"),
                       sa.func.max(Push.p_at_push).label("p0"), sa.func.count().label("n"))
             .group_by(Push.student_id, Push.code).subquery())
    rows = sess.execute(sa.select(Mastery.student_id, Mastery.code, Mastery.p, first.c.at, first.c.p0, first.c.n,
                                  Point.name, Point.name_en)
                        .join(first, sa.and_(first.c.student_id == Mastery.student_id, first.c.code == Mastery.code))
                        .join(Point, Point.code == Mastery.code, isouter=True)
                        .where(first.c.at <= before, Mastery.p < cfg["weak_threshold"],
                               Mastery.attempts >= cfg["min_attempts"],
                               Mastery.p - first.c.p0 < cfg["alert_min_gain"])
                        .order_by(Mastery.student_id, Mastery.p)).all()
    hits: dict[int, dict[str, Any]] = {}
    for r in rows:  # one case per student: the weakest stalled point leads, the others listed
        hit = hits.setdefault(r.student_id, {"student_id": r.student_id, "value": round(r.p, 2), "detail": {
            "code": r.code, "point": r.name, "point_en": r.name_en, "mastery": round(r.p, 2),
            "mastery_at_push": round(r.p0, 2), "pushes": r.n, "since": r.at.date().isoformat(), "others": []}})
        if hit["detail"]["code"] != r.code:
            hit["detail"]["others"].append(r.code)
    return list(hits.values())


def evaluate(sess: so.Session, case: Any) -> bool | None:
    detail = case.detail or {}
    code = detail.get("code")
    m = sess.scalar(sa.select(Mastery).where(Mastery.student_id == case.student_id, Mastery.code == code))
    if m is None:
        return None
    cfg = settings(case.school_id)
    return m.p >= cfg["weak_threshold"] or m.p - float(detail.get("mastery_at_push") or 0) >= cfg["alert_min_gain"]


def rule_spec() -> dict[str, Any]:
    return {"key": KEY, "title": {"zh": "学习图谱薄弱环节无改善", "en": "A weak point on the learning map is not improving"},
            "level": "yellow", "category": "learning", "assign": ["subject_teacher"], "evaluation_days": 30,
            "scan": scan, "evaluate": evaluate}
