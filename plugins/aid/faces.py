"""What the plugin shows and runs outside its own pages: the aid section of a student's profile (review roles
only; the platform audits each read), the district's figures (counts and coverage per school, desensitised by
the platform), the daily identification job, the home-page widget, and the declaration form's submissions
arriving as ``lowcode.submission.created`` events."""
from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.plugin_api import (
    Forbidden,
    NotFound,
    Principal,
    StudentRef,
    acting_in,
    encrypt,
    school_for,
    session,
    utcnow,
)
from plugins.aid import caps as A
from plugins.aid.identify import identify
from plugins.aid.models import declarations, indicators
from plugins.aid.review import coverage, latest_month, reason_line

log = logging.getLogger("jizuo.plugins.aid")
HERE = Path(__file__).parent
DECLARATION = "aid:declaration"


def profile_data(sess: so.Session, student: StudentRef, p: Principal) -> dict | None:
    if not A.reviews(p, student):
        return None  # the label and its figures exist for the review roles only
    row = sess.execute(sa.select(indicators).where(indicators.c.student_id == student.id)
                       .order_by(indicators.c.month.desc()).limit(1)).first()
    if row is None:
        return None
    return {"month": row.month, "status": row.status, "score": row.score, "line": reason_line(row.reasons),
            "link": f"/aid/students/{student.id}"}


def profile_sections() -> list[dict[str, Any]]:
    return [{"key": "aid.review", "title": {"zh": "资助复核", "en": "Aid review"}, "capability": A.REVIEW,
             "order": 60, "sensitive": True, "data": profile_data, "template": "aid/_profile.html"}]


def candidates_figure(sess: so.Session, school_id: int) -> list[dict[str, Any]]:
    """Students per outcome of the latest month (candidates, not enough data, the rest)."""
    month = latest_month(sess)
    got = dict(sess.execute(sa.select(indicators.c.status, sa.func.count()).where(indicators.c.month == month)
                            .group_by(indicators.c.status)).all()) if month else {}
    return [{"group": {"status": s}, "count": int(got.get(s, 0))} for s in ("candidate", "insufficient", "normal")]


def coverage_figure(sess: so.Session, school_id: int) -> list[dict[str, Any]]:
    """Confirmed students: how many receive aid, how many not yet."""
    c = coverage(sess, school_id)
    return [{"group": {"confirmed": "covered"}, "count": c["covered"]},
            {"group": {"confirmed": "not_yet"}, "count": c["confirmed"] - c["covered"]}]


def district_figures() -> list[dict[str, Any]]:
    return [{"key": "aid.outcomes", "title": {"zh": "资助识别结果（最近一月）", "en": "Aid identification outcomes (latest month)"},
             "unit": "students", "sensitive": True, "compute": candidates_figure, "tile": "aid", "chart": "bar"},
            {"key": "aid.coverage", "title": {"zh": "已确认困难学生的资助覆盖", "en": "Aid coverage of confirmed students"},
             "unit": "students", "sensitive": True, "compute": coverage_figure, "tile": "aid", "chart": "stacked"}]


def run_identification(sess: so.Session, school_id: int) -> dict:
    """This month so far, and last month again (records that arrived late)."""
    from plugins.aid.identify import month_days

    now = utcnow()
    current = identify(sess, school_id, now=now)
    first, _ = month_days(current["month"])
    return {"current": current,
            "previous": identify(sess, school_id, f"{first - timedelta(days=1):%Y-%m}", now=now)}


def jobs() -> list[dict[str, Any]]:
    return [{"key": "aid.identify", "title": {"zh": "每日资助识别", "en": "Daily aid identification"},
             "every": 86400, "at": "02:10", "run": run_identification}]


def candidates_widget(sess: so.Session, p: Principal) -> dict | None:
    """The month's open candidates in the reviewer's reach (not those dismissed before)."""
    try:
        school = school_for(A.REVIEW, A.NAME, narrow=False)
    except (Forbidden, NotFound):
        return None
    with acting_in(school):
        month = latest_month(sess)
        q = sa.select(sa.func.count()).select_from(indicators).where(
            indicators.c.month == month, indicators.c.status == "candidate", indicators.c.dismissed_before.is_(False))
        if not A.officer_in(p, school):
            q = q.where(indicators.c.class_id.in_(sorted(A.homeroom_classes(p, school)) or [-1]))
        n = (sess.scalar(q) or 0) if month else 0
    return {"value": n, "link": "/aid/", "tone": "yellow" if n else None,
            "note": {"zh": f"{month or '—'} 待复核的潜在困难学生", "en": f"possible difficulty to review, {month or '—'}"}}


def widgets() -> list[dict[str, Any]]:
    return [{"key": "aid.candidates", "title": {"zh": "资助复核", "en": "Aid review"}, "capability": A.REVIEW,
             "order": 40, "data": candidates_widget}]


def form_templates() -> list[dict[str, Any]]:
    return [json.loads((HERE / "forms" / "declaration.json").read_text("utf-8"))]


def on_flow_finished(event: Any, payloads: list[dict]) -> None:
    from plugins.aid.review import on_flow_finished as finished

    finished(session(), payloads)


def on_submission(event: Any, payloads: list[dict]) -> None:
    """A declaration (申报) arrives from the school's declaration form (cloned from ``aid:declaration``): kept
    with the family's words encrypted, for the review roles only."""
    rows = []
    for p in payloads:
        if p.get("template_key") != DECLARATION or not p.get("student_id"):
            continue
        data = p.get("data") or {}
        situation = str(data.get("situation") or "").strip()
        rows.append({"school_id": p["school_id"], "student_id": p["student_id"],
                     "wants_consideration": data.get("consider") in (True, "yes", "是"),
                     "situation_enc": encrypt(situation) if situation else None, "submission_id": p.get("id"),
                     "declared_at": _when(p.get("created_at"))})
    if rows:
        session().execute(sa.insert(declarations), rows)


def _when(raw: Any) -> datetime:
    try:
        return datetime.fromisoformat(str(raw).replace("Z", "+00:00")).replace(tzinfo=None)
    except ValueError:
        return utcnow()
