"""What the plugin shows outside its own pages: a section of the student profile (一生一档) for staff and one
for the family, the district's figures (score bands, entries per student per week), desensitised by the
platform, and the hourly job that refreshes where every score stands."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.plugin_api import Principal, Student, StudentRef, is_family, is_staff_for, utcnow
from plugins.points import caps as A
from plugins.points import rulebook as rb
from plugins.points import standing
from plugins.points.models import entries
from plugins.points.present import iso

BANDS = ((1000, "≥1000"), (950, "950–999"), (900, "900–949"), (-10**9, "<900"))


def _recent(sess: so.Session, student: StudentRef, n: int = 5) -> list[dict[str, Any]]:
    book = rb.current(sess, student.school_id)
    titles = {i["code"]: i["title"] for i in book["body"]["items"]} if book else {}
    return [{"rule_code": e["rule_code"], "rule_title": titles.get(e["rule_code"]), "points": e["points"],
             "occurred_at": iso(e["occurred_at"]), "reason": e["reason"]}
            for e in standing.student_entries(sess, student.id, limit=n)]


def staff_section(sess: so.Session, student: StudentRef, p: Principal) -> dict | None:
    if not is_staff_for(p, student, A.RANK):
        return None
    where = standing.position(sess, student.school_id, student)
    book = rb.current(sess, student.school_id)
    term = rb.term_start(book["body"]) if book else None
    dims = standing.dimension_summary(sess, student.school_id, student.id, term) if term else {}
    return {"score": where["score"], "class_rank": where["class_rank"], "school_rank": where["school_rank"],
            "week_change": standing.recent_change(sess, [student.id]).get(student.id, 0),
            "dimensions": {d: v["net"] for d, v in dims.items()}, "recent": _recent(sess, student),
            "link": f"/points/students/{student.id}"}


def family_section(sess: so.Session, student: StudentRef, p: Principal) -> dict | None:
    if not is_family(p, student) or is_staff_for(p, student):
        return None
    return {"score": standing.score_of(sess, student.school_id, student.id),
            "band": standing.band(sess, student.school_id, student.id), "recent": _recent(sess, student),
            "link": f"/points/students/{student.id}"}


def profile_sections() -> list[dict[str, Any]]:
    title = {"zh": "德育积分", "en": "Conduct points"}
    return [{"key": "points.conduct", "title": title, "capability": A.RANK, "order": 20, "data": staff_section,
             "template": "points/_profile.html"},
            {"key": "points.conduct_own", "title": title, "capability": A.OWN, "order": 20, "data": family_section,
             "template": "points/_profile.html"}]


def score_bands(sess: so.Session, school_id: int) -> list[dict[str, Any]]:
    """Students per score band, each band's average score."""
    score, frm, _ = standing.score_expr(sess, [school_id])
    st = Student.__table__.c
    values = list(sess.scalars(sa.select(score).select_from(frm).where(st.status_code == "01")))
    cells = []
    for i, (lo, label) in enumerate(BANDS):
        inside = [v for v in values if v >= lo and (i == 0 or v < BANDS[i - 1][0])]
        cells.append({"group": {"band": label}, "count": len(inside),
                      "value": round(sum(inside) / len(inside), 1) if inside else None})
    return cells


def entries_per_week(sess: so.Session, school_id: int) -> list[dict[str, Any]]:
    """Per dimension: how many students had an entry in the last four weeks, and entries per student per week."""
    since = utcnow() - timedelta(days=28)
    students = sess.scalar(sa.select(sa.func.count()).select_from(Student).where(Student.status_code == "01")) or 0
    rows = sess.execute(sa.select(entries.c.dimension, sa.func.count(), sa.func.count(sa.distinct(entries.c.student_id)))
                        .where(entries.c.occurred_at >= since, entries.c.reverses_id.is_(None))
                        .group_by(entries.c.dimension)).all()
    got = {d: (n, who) for d, n, who in rows}
    return [{"group": {"dimension": d}, "count": got.get(d, (0, 0))[1],
             "value": round(got.get(d, (0, 0))[0] / students / 4, 3) if students else None} for d in rb.DIMENSIONS]


def district_figures() -> list[dict[str, Any]]:
    return [{"key": "points.score_bands", "title": {"zh": "德育积分分布", "en": "Conduct score bands"},
             "unit": "students", "sensitive": False, "compute": score_bands},
            {"key": "points.entries_per_week", "title": {"zh": "每生每周德育记录数（近四周）",
                                                         "en": "Conduct entries per student per week (4 weeks)"},
             "unit": "students", "sensitive": False, "compute": entries_per_week}]


def refresh_standings(sess: so.Session, school_id: int) -> dict[str, int]:
    return {"refreshed": standing.refresh(sess, school_id)}


def jobs() -> list[dict[str, Any]]:
    return [{"key": "points.standings", "title": {"zh": "刷新积分排名", "en": "Refresh where scores stand"},
             "every": 3600, "run": refresh_standings}]
