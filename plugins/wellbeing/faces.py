"""What the plugin shows outside its own pages: the student profile's section (each viewer sees only what
they may: answers and scores for the psychology teachers and the lead, the level and case for the homeroom
teacher, nothing for anyone else; every read audited), the district's figures (counts per level per school,
desensitised by the platform: groups under 5 suppressed, nothing per student), and the retention purge."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.plugin_api import OrgUnit, Principal, Student, StudentRef
from plugins.wellbeing import access as A
from plugins.wellbeing.models import Response, Screening, consents, responses


def _section(sess: so.Session, student: StudentRef, p: Principal, want: str) -> dict[str, Any] | None:
    have = A.access(p, student)
    if have != want:
        return None
    rows = sess.scalars(sa.select(Response).where(Response.student_id == student.id)
                        .order_by(Response.submitted_at.desc()).limit(4)).all()
    titles = dict(sess.execute(sa.select(Screening.id, Screening.title)
                               .where(Screening.id.in_({r.screening_id for r in rows}))).all()) if rows else {}
    return {"kind": have, "link": f"/wellbeing/students/{student.id}",
            "items": [{**A.view_case(r, have), "screening": titles.get(r.screening_id)} for r in rows]}


def profile_sections() -> list[dict[str, Any]]:
    title = {"zh": "心理关注", "en": "Wellbeing follow-up"}
    return [{"key": "wellbeing.full", "title": title, "capability": A.ANSWERS, "order": 40, "sensitive": True,
             "data": lambda s, st, p: _section(s, st, p, "full"), "template": "wellbeing/_profile.html"},
            {"key": "wellbeing.levels", "title": title, "capability": A.LEVELS, "order": 40, "sensitive": True,
             "data": lambda s, st, p: _section(s, st, p, "levels"), "template": "wellbeing/_profile.html"}]


def _screenings(period: dict[str, Any] | None):
    """The screenings a figure covers: those opened in the period, or the latest one (no period)."""
    if period is None:
        return sa.select(sa.func.max(Screening.id)).scalar_subquery()
    return sa.select(Screening.id).where(Screening.opens_on >= period["start"], Screening.opens_on < period["end"])


def levels_per_school(sess: so.Session, school_id: int, period: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Students per follow-up level (none, yellow, red) at the latest screening, or, for a period, at each
    student's latest response to the screenings opened in it (one grouped statement)."""
    if period is None:
        latest = sess.scalar(sa.select(sa.func.max(Screening.id)))
        if latest is None:
            return []
    which = _screenings(period)
    last = sa.select(sa.func.max(responses.c.id)).where(
        responses.c.screening_id.in_(which) if period else responses.c.screening_id == which
    ).group_by(responses.c.student_id)
    level = sa.func.coalesce(responses.c.level, "none")
    got = dict(sess.execute(sa.select(level, sa.func.count()).where(responses.c.id.in_(last)).group_by(level)).all())
    return [{"group": {"level": lvl}, "count": int(got.get(lvl, 0))} for lvl in ("none", "yellow", "red")]


def completion(sess: so.Session, school_id: int, period: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Per grade: students a screening asked (enrolled in its classes; count) and the share who answered it
    (value, %), over the screenings opened in the period (the latest one without a period)."""
    rows = sess.scalars(sa.select(Screening).where(
        Screening.id.in_(_screenings(period)) if period else Screening.id == _screenings(None))).all()
    if not rows:
        return []
    st = Student.__table__.c
    klass, grade = OrgUnit.__table__.alias("klass"), OrgUnit.__table__.alias("grade")
    names = {cid: g for cid, g in sess.execute(sa.select(klass.c.id, grade.c.name).select_from(
        klass.outerjoin(grade, grade.c.id == klass.c.parent_id)).where(klass.c.kind == "class"))}
    size = dict(sess.execute(sa.select(st.class_id, sa.func.count()).where(st.status_code == "01")
                             .group_by(st.class_id)).all())
    done = {(s, c): n for s, c, n in sess.execute(
        sa.select(responses.c.screening_id, st.class_id, sa.func.count(sa.distinct(responses.c.student_id)))
        .join(Student.__table__, st.id == responses.c.student_id)
        .where(responses.c.screening_id.in_([r.id for r in rows]), st.status_code == "01")
        .group_by(responses.c.screening_id, st.class_id))}
    per: dict[Any, list[int]] = {}
    for screening in rows:
        for cid in screening.class_ids or []:
            acc = per.setdefault(names.get(cid), [0, 0])
            acc[0] += size.get(cid, 0)
            acc[1] += done.get((screening.id, cid), 0)
    return [{"group": {"grade": g}, "count": asked, "value": round(100 * answered / asked, 1) if asked else None}
            for g, (asked, answered) in sorted(per.items(), key=lambda kv: str(kv[0]))]


def district_figures() -> list[dict[str, Any]]:
    return [{"key": "wellbeing.levels", "title": {"zh": "心理筛查的关注等级（人数）",
                                                  "en": "Follow-up levels at screening (students)"},
             "unit": "students", "sensitive": True, "compute": levels_per_school, "tile": "wellbeing",
             "chart": "stacked", "periods": True},
            {"key": "wellbeing.completion", "title": {"zh": "心理筛查完成率", "en": "Screening completion"},
             "unit": "students", "sensitive": True, "compute": completion, "tile": "wellbeing", "chart": "bar",
             "periods": True}]


def purge(sess: so.Session, school_id: int) -> dict[str, int]:
    """Delete screening data older than the school's retention period (responses; screenings left empty)."""
    from plugins.wellbeing.screening import retention_cutoff

    cutoff = retention_cutoff(sess, school_id)
    gone = sess.execute(sa.delete(responses).where(responses.c.submitted_at < cutoff)).rowcount
    empty = sa.select(responses.c.id).where(responses.c.screening_id == Screening.id).exists()
    old = sess.execute(sa.delete(Screening).where(Screening.created_at < cutoff, ~empty)
                       .execution_options(synchronize_session=False)).rowcount
    return {"responses": gone or 0, "screenings": old or 0}


def remind_closing(sess: so.Session, school_id: int) -> dict[str, int]:
    """On each of a screening's last two days, remind the students who may answer and have not."""
    from datetime import timedelta

    from plugins.wellbeing.screening import remind, today

    day = today(sess, school_id)
    closing = sess.scalars(sa.select(Screening).where(Screening.closes_on >= day,
                                                      Screening.closes_on <= day + timedelta(days=1))).all()
    return {"screenings": len(closing), "reminded": sum(remind(sess, s) for s in closing)}


def jobs() -> list[dict[str, Any]]:
    return [{"key": "wellbeing.remind", "title": {"zh": "提醒即将截止的筛查", "en": "Remind before a screening closes"},
             "every": 86400, "at": "16:00", "run": remind_closing},
            {"key": "wellbeing.purge", "title": {"zh": "清理超过保存期限的筛查数据",
                                                 "en": "Purge screening data past the retention period"},
             "every": 86400, "at": "03:10", "run": purge}]


def uninstall_purge(sess: so.Session) -> None:
    for table in (responses, consents):
        sess.execute(sa.delete(table))
    sess.execute(sa.delete(Screening))
