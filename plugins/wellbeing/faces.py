"""What the plugin shows outside its own pages: the student profile's section (each viewer sees only what
they may: answers and scores for the psychology teachers and the lead, the level and case for the homeroom
teacher, nothing for anyone else; every read audited), the district's figures (counts per level per school,
desensitised by the platform: groups under 5 suppressed, nothing per student), and the retention purge."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.plugin_api import Principal, StudentRef
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


def levels_per_school(sess: so.Session, school_id: int) -> list[dict[str, Any]]:
    """Students per level at the school's latest screening (none, yellow, red) and the screened count."""
    latest = sess.scalar(sa.select(sa.func.max(Screening.id)))
    if latest is None:
        return []
    got = dict(sess.execute(sa.select(sa.func.coalesce(responses.c.level, "none"), sa.func.count())
                            .where(responses.c.screening_id == latest).group_by(responses.c.level)).all())
    return [{"group": {"level": lvl}, "count": int(got.get(lvl, 0))} for lvl in ("none", "yellow", "red")]


def district_figures() -> list[dict[str, Any]]:
    return [{"key": "wellbeing.levels", "title": {"zh": "最近一次心理筛查的关注等级（人数）",
                                                  "en": "Follow-up levels at the latest screening (students)"},
             "unit": "students", "sensitive": True, "compute": levels_per_school}]


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
