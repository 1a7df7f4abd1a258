"""Home-school communication figures (家校沟通): per school and per class — notices sent, how many reached
people, the read rate, the median time to read, and the replies.

A notice counts for a school when it reached people there (so a district notice counts in every school);
for a class when it was sent to that class. Only aggregates leave this module: no names, no texts.
Counts are grouped in SQL (a district notice alone is 100,000 inbox rows); the median is
``percentile_cont`` on PostgreSQL and computed from the read delays elsewhere (SQLite, small data).
"""
from __future__ import annotations

from statistics import median

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.models import OrgUnit
from foundation.models.messages import InboxItem, Message
from foundation.tenancy import unscoped

NOTICE_TYPES = ("notice", "emergency")
# names of the schools and classes whose figures the caller may see (checked by ``reach`` below)
NAMES = unscoped("home-school communication figures name the schools and classes they cover")


def _seconds(sess: so.Session, later, earlier):
    if sess.get_bind().dialect.name == "postgresql":
        return sa.func.extract("epoch", later - earlier)
    return (sa.func.julianday(later) - sa.func.julianday(earlier)) * 86400.0


def _stats(sess: so.Session, group_col, where) -> dict[int, dict]:
    """Per value of ``group_col``: notices, deliveries, reads, read rate, median minutes to read, replies."""
    i, m = InboxItem.__table__.c, Message.__table__.c
    joined = InboxItem.__table__.join(Message.__table__, m.id == i.message_id)
    base = sa.and_(m.type_key.in_(NOTICE_TYPES), where, group_col.is_not(None))
    rows = sess.execute(sa.select(group_col, sa.func.count(sa.distinct(m.id)), sa.func.count(),
                                  sa.func.count(i.read_at)).select_from(joined).where(base).group_by(group_col))
    out = {g: {"notices": n, "delivered": d, "read": r, "replies": 0, "read_rate": round(r / d, 4) if d else None,
               "median_minutes_to_read": None} for g, n, d, r in rows}
    if not out:
        return out
    delay = _seconds(sess, i.read_at, m.created_at)
    read = sa.and_(base, i.read_at.is_not(None))
    if sess.get_bind().dialect.name == "postgresql":
        medians = sess.execute(sa.select(group_col, sa.func.percentile_cont(0.5).within_group(delay))
                               .select_from(joined).where(read).group_by(group_col))
    else:
        delays: dict[int, list[float]] = {}
        for g, s in sess.execute(sa.select(group_col, delay).select_from(joined).where(read)):
            delays.setdefault(g, []).append(s)
        medians = ((g, median(v)) for g, v in delays.items())
    for g, seconds in medians:
        out[g]["median_minutes_to_read"] = round(float(seconds) / 60, 1)
    reply = Message.__table__.alias("reply")
    notices = sa.select(group_col.label("g"), m.id.label("mid")).select_from(joined).where(base).distinct().subquery()
    for g, n in sess.execute(sa.select(notices.c.g, sa.func.count()).select_from(
            notices.join(reply, reply.c.reply_to_id == notices.c.mid)).group_by(notices.c.g)):
        out[g]["replies"] = n
    return out


def figures(sess: so.Session, *, school_ids: list[int], class_ids: list[int] | None = None) -> dict:
    """Figures for ``school_ids`` (each school, and each of its classes that was sent notices); with
    ``class_ids``, only those classes (a homeroom teacher's own)."""
    i, m = InboxItem.__table__.c, Message.__table__.c
    schools = []
    if class_ids is None:
        per_school = _stats(sess, i.school_id, i.school_id.in_(school_ids))
        names = dict(sess.execute(sa.select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_(school_ids)),
                                  execution_options=NAMES).all())
        schools = [{"school_id": s, "name": names.get(s), **per_school.get(s, _empty())} for s in school_ids]
        class_where = m.school_id.in_(school_ids)
    else:
        class_where = m.class_id.in_(class_ids)
    per_class = _stats(sess, m.class_id, class_where)
    class_names = dict(sess.execute(sa.select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_(list(per_class))),
                                    execution_options=NAMES).all())
    classes = [{"class_id": c, "name": class_names.get(c), **row} for c, row in sorted(per_class.items())]
    return {"schools": schools, "classes": classes}


def _empty() -> dict:
    return {"notices": 0, "delivered": 0, "read": 0, "replies": 0, "read_rate": None, "median_minutes_to_read": None}


def figures_for(sess: so.Session, p) -> dict:
    """What ``p`` may see: the district every school, a school admin their schools (and classes), a
    homeroom teacher their own classes. The caller has checked ``messages.figures.read``."""
    if p.can("messages.send.district"):
        schools = list(sess.scalars(sa.select(OrgUnit.id).where(OrgUnit.kind == "school").order_by(OrgUnit.id),
                                    execution_options=NAMES))
        return figures(sess, school_ids=schools)
    schools = sorted(s for s in p.school_ids() if p.can("messages.send.school", s))
    if schools:
        return figures(sess, school_ids=schools)
    return figures(sess, school_ids=[], class_ids=sorted({c for g in p.grants for c in g.class_ids}))
