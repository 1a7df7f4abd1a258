"""Home-school communication figures (家校沟通): per school and per class — notices sent, how many reached
people, the read rate, the median time to read, and the replies.

A notice counts for a school when it reached people there (so a district notice counts in every school);
for a class when it was sent to that class. Only aggregates leave this module: no names, no texts.
"""
from __future__ import annotations

from statistics import median

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.models import OrgUnit
from foundation.models.messages import InboxItem, Message

NOTICE_TYPES = ("notice", "emergency")


def _stats(sess: so.Session, group_col, where) -> dict[int, dict]:
    """Per value of ``group_col``: notices, deliveries, reads, read rate, median minutes to read, replies."""
    i, m = InboxItem.__table__.c, Message.__table__.c
    base = (sa.select(group_col.label("g"), m.id.label("mid"), m.created_at, i.read_at)
            .select_from(InboxItem.__table__.join(Message.__table__, m.id == i.message_id))
            .where(m.type_key.in_(NOTICE_TYPES), where))
    out: dict[int, dict] = {}
    delays: dict[int, list[float]] = {}
    messages: dict[int, set[int]] = {}
    for g, mid, created, read_at in sess.execute(base):
        if g is None:
            continue
        row = out.setdefault(g, {"notices": 0, "delivered": 0, "read": 0, "replies": 0})
        messages.setdefault(g, set()).add(mid)
        row["delivered"] += 1
        if read_at is not None:
            row["read"] += 1
            delays.setdefault(g, []).append((read_at - created).total_seconds() / 60)
    reply = Message.__table__.alias("reply")
    for g, mids in messages.items():
        out[g]["notices"] = len(mids)
        out[g]["replies"] = sess.scalar(sa.select(sa.func.count()).select_from(reply).where(
            reply.c.reply_to_id.in_(sorted(mids)))) or 0
    for g, row in out.items():
        row["read_rate"] = round(row["read"] / row["delivered"], 4) if row["delivered"] else None
        row["median_minutes_to_read"] = round(median(delays[g]), 1) if delays.get(g) else None
    return out


def figures(sess: so.Session, *, school_ids: list[int], class_ids: list[int] | None = None) -> dict:
    """Figures for ``school_ids`` (each school, and each of its classes that was sent notices); with
    ``class_ids``, only those classes (a homeroom teacher's own)."""
    i, m = InboxItem.__table__.c, Message.__table__.c
    names = dict(sess.execute(sa.select(OrgUnit.id, OrgUnit.name).where(
        OrgUnit.id.in_(school_ids + list(class_ids or []))), execution_options={"jizuo_all_schools": True}).all())
    schools = []
    if class_ids is None:
        per_school = _stats(sess, i.school_id, i.school_id.in_(school_ids))
        schools = [{"school_id": s, "name": names.get(s), **per_school.get(s, _empty())} for s in school_ids]
        class_where = m.school_id.in_(school_ids)
    else:
        class_where = m.class_id.in_(class_ids)
    per_class = _stats(sess, m.class_id, sa.and_(class_where, m.class_id.is_not(None)))
    class_names = dict(sess.execute(sa.select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_(list(per_class))),
                                    execution_options={"jizuo_all_schools": True}).all())
    classes = [{"class_id": c, "name": class_names.get(c), **row} for c, row in sorted(per_class.items())]
    return {"schools": schools, "classes": classes}


def _empty() -> dict:
    return {"notices": 0, "delivered": 0, "read": 0, "replies": 0, "read_rate": None, "median_minutes_to_read": None}
