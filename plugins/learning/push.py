"""Pushes (一生一案): when a knowledge point becomes weak for a student — mastery under the school's threshold
after at least N attempts — the student (and their parents) get a matching resource from the library through
the message center, one not yet sent to them, at most ``pushes_per_week`` a week. Each push keeps the
mastery at that moment; opening it (through /learning/open/<id>) is recorded, and the mastery since is on the
student's map, so the school sees whether a push helped."""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation import plugin_api
from foundation.plugin_api import utcnow
from plugins.learning.models import Point, Push, Resource

log = logging.getLogger("jizuo.plugins.learning")

TYPES = [
    {"key": "learning.push", "title": {"zh": "学习资源推送", "en": "A learning resource for you"},
     "variables": ["point", "point_en", "title", "minutes"], "channels": ["inbox", "push"],
     "template": {"zh": {"subject": "为你推荐：{title}",
                         "body": "「{point}」还需要巩固。推荐学习「{title}」（约 {minutes} 分钟），学完再做几道题试试。"},
                  "en": {"subject": "Recommended for you: {title}",
                         "body": "\"{point_en}\" needs more practice. Try \"{title}\" (about {minutes} minutes), "
                                 "then a few more questions."}},
     "link_label": {"zh": "打开资源", "en": "Open the resource"}},
]


def weak(p: float, attempts: int, cfg: dict[str, Any]) -> bool:
    return attempts >= cfg["min_attempts"] and p < cfg["weak_threshold"]


def due(sess: so.Session, touched: list[tuple[int, str, float, int]], cfg: dict[str, Any]) -> list[tuple]:
    """The weak points of students with pushes left this week: (student, point, mastery, pushes left)."""
    hits = [(s, c, p) for s, c, p, n in touched if weak(p, n, cfg)]
    if not hits or cfg["pushes_per_week"] <= 0:
        return []
    since = utcnow() - timedelta(days=7)
    recent = dict(sess.execute(sa.select(Push.student_id, sa.func.count()).where(
        Push.student_id.in_({s for s, _, _ in hits}), Push.pushed_at >= since).group_by(Push.student_id)).all())
    return [(s, c, p, cfg["pushes_per_week"] - recent.get(s, 0)) for s, c, p in hits
            if recent.get(s, 0) < cfg["pushes_per_week"]]


def send(sess: so.Session, school_id: int, hits: list[tuple]) -> int:
    """A resource per weak point (the weakest first), one not yet sent to the student, within the week's cap."""
    students = {h[0] for h in hits}
    left = {s: n for s, _c, _p, n in hits}
    sent = {(s, r) for s, r in sess.execute(sa.select(Push.student_id, Push.resource_id).where(
        Push.student_id.in_(students)))}
    names = {p.code: p for p in sess.scalars(sa.select(Point).where(Point.code.in_({h[1] for h in hits})))}
    resources = list(sess.scalars(sa.select(Resource).order_by(Resource.kind, Resource.id)))
    made = 0
    for sid, code, p, _n in sorted(hits, key=lambda h: h[2]):  # the weakest first
        if left[sid] <= 0:
            continue
        res = next((r for r in resources if code in (r.points or []) and (sid, r.id) not in sent), None)
        if res is None:
            continue
        row = Push(school_id=school_id, student_id=sid, resource_id=res.id, code=code, p_at_push=p,
                   pushed_at=utcnow())
        sess.add(row)
        sess.flush()
        sent.add((sid, res.id))
        left[sid] -= 1
        point = names.get(code)
        plugin_api.send_message(
            sess, "learning.push", recipients=[{"students": [sid]}, {"parents_of_student": sid}],
            variables={"point": point.name if point else code,
                       "point_en": (point.name_en or point.name) if point else code,
                       "title": res.title, "minutes": res.minutes or "—"},
            school_id=school_id, link=f"/learning/open/{row.id}", dedupe_key=f"learning-push-{row.id}")
        made += 1
    return made


def helped(sess: so.Session) -> dict[str, Any]:
    """For the school: pushes, how many were opened, and the mastery gain since the push (opened or not)."""
    from plugins.learning.models import Mastery

    rows = sess.execute(sa.select(Push.opened_at, Push.p_at_push, Mastery.p).join(
        Mastery, sa.and_(Mastery.student_id == Push.student_id, Mastery.code == Push.code))).all()
    out: dict[str, Any] = {"pushes": len(rows), "opened": sum(1 for r in rows if r.opened_at)}
    for key, pick in (("gain_opened", [r for r in rows if r.opened_at]),
                      ("gain_unopened", [r for r in rows if not r.opened_at])):
        out[key] = round(sum(r.p - r.p_at_push for r in pick) / len(pick), 3) if pick else None
        out[key.replace("gain", "n")] = len(pick)
    return out
