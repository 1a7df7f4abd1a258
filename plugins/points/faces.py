"""What the plugin shows outside its own pages: a section of the student profile (一生一档) for staff and one
for the family, the district's figures (score bands, entries per student per week), desensitised by the
platform, and the hourly job that refreshes where every score stands."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.plugin_api import OrgUnit, Principal, Student, StudentRef, is_family, is_staff_for, utcnow
from plugins.points import caps as A
from plugins.points import rulebook as rb
from plugins.points import standing
from plugins.points.models import entries
from plugins.points.present import iso

LOCAL = ZoneInfo("Asia/Shanghai")
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


def _utc(day: date) -> datetime:
    """A local (Asia/Shanghai) date's midnight as the naive UTC time the ledger stores."""
    return datetime.combine(day, time(), LOCAL).astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def _grades() -> tuple[Any, Any]:
    """The school's classes (alias) and their grades (alias), to group by name."""
    return OrgUnit.__table__.alias("klass"), OrgUnit.__table__.alias("grade")


def score_bands(sess: so.Session, school_id: int) -> list[dict[str, Any]]:
    """Students per score band, grade and class (count), and the cell's average score (value): one grouped
    statement over the live scores (a student with no score row has the starting score)."""
    score, frm, kc = standing.score_expr(sess, [school_id])
    grade = OrgUnit.__table__.alias("grade")
    band = sa.case(*((score >= lo, label) for lo, label in BANDS[:-1]), else_=BANDS[-1][1])
    st = Student.__table__.c
    rows = sess.execute(sa.select(band, grade.c.name, kc.name, sa.func.count(), sa.func.avg(score))
                        .select_from(frm.outerjoin(grade, grade.c.id == kc.parent_id)).where(st.status_code == "01")
                        .group_by(band, grade.c.name, kc.name)).all()
    order = {label: i for i, (_lo, label) in enumerate(BANDS)}
    return [{"group": {"band": b, "grade": g, "class": c}, "count": n, "value": round(float(avg), 1)}
            for b, g, c, n, avg in sorted(rows, key=lambda r: (order[r[0]], str(r[1]), str(r[2])))]


def entries_per_week(sess: so.Session, school_id: int, period: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Per dimension, grade and class: the students the rate is over (count: the class's students at school)
    and entries per student per week in the period (value; reversals and reversed entries left out). Without
    a period: the last four weeks. Weeks are those of the period that have begun."""
    today = utcnow().replace(tzinfo=ZoneInfo("UTC")).astimezone(LOCAL).date()
    if period is None:
        period = {"start": today - timedelta(days=27), "end": today + timedelta(days=1)}
    days = (min(period["end"], today + timedelta(days=1)) - period["start"]).days
    weeks = max(days, 1) / 7
    st = Student.__table__.c
    kc, grade = _grades()
    size = sess.execute(sa.select(st.class_id, grade.c.name, kc.c.name, sa.func.count())
                        .select_from(Student.__table__.join(kc, kc.c.id == st.class_id)
                                     .outerjoin(grade, grade.c.id == kc.c.parent_id))
                        .where(st.status_code == "01").group_by(st.class_id, grade.c.name, kc.c.name)).all()
    reversed_ = sa.select(entries.c.reverses_id).where(entries.c.reverses_id.is_not(None))
    got = {(cid, d): n for cid, d, n in sess.execute(
        sa.select(entries.c.class_id, entries.c.dimension, sa.func.count())
        .where(entries.c.occurred_at >= _utc(period["start"]), entries.c.occurred_at < _utc(period["end"]),
               entries.c.reverses_id.is_(None), entries.c.id.not_in(reversed_))
        .group_by(entries.c.class_id, entries.c.dimension))}
    return [{"group": {"dimension": d, "grade": g, "class": c}, "count": n,
             "value": round(got.get((cid, d), 0) / n / weeks, 3)}
            for cid, g, c, n in sorted(size, key=lambda r: (str(r[1]), str(r[2]))) for d in rb.DIMENSIONS]


def district_figures() -> list[dict[str, Any]]:
    return [{"key": "points.score_bands", "title": {"zh": "德育积分分布", "en": "Conduct score bands"},
             "unit": "students", "sensitive": False, "compute": score_bands, "tile": "conduct", "chart": "stacked"},
            {"key": "points.entries_per_week", "title": {"zh": "每生每周德育记录数",
                                                         "en": "Conduct entries per student per week"},
             "unit": "students", "sensitive": False, "compute": entries_per_week, "tile": "conduct",
             "chart": "bar", "periods": True}]


def refresh_standings(sess: so.Session, school_id: int) -> dict[str, int]:
    return {"refreshed": standing.refresh(sess, school_id)}


def jobs() -> list[dict[str, Any]]:
    return [{"key": "points.standings", "title": {"zh": "刷新积分排名", "en": "Refresh where scores stand"},
             "every": 3600, "run": refresh_standings}]
