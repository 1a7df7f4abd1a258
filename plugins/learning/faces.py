"""What the plugin shows outside its own pages: the learning map as a section of the student profile (staff
who reach the student, and the family), the district's figures (desensitised by the platform: mastery by
knowledge-point group, how many pushes were opened and whether mastery rose after them, value added by
school), the nightly refit job and the home-page widget."""
from __future__ import annotations

import math
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.plugin_api import Principal, StudentRef, current_lang, is_family, is_staff_for
from plugins.learning import caps as A
from plugins.learning import catalogue, present, push
from plugins.learning.models import Mastery, Score


def profile_data(sess: so.Session, student: StudentRef, p: Principal) -> dict | None:
    if not (is_staff_for(p, student, A.MAP) or (is_family(p, student) and p.can(A.OWN, student.school_id))):
        return None
    m = present.student_map(sess, student.id, student.school_id, current_lang())
    if not m["subjects"]:
        return None
    return {"subjects": m["subjects"], "weak": m["weak"][:5], "link": f"/learning/students/{student.id}"}


def profile_sections() -> list[dict[str, Any]]:
    title = {"zh": "学习图谱", "en": "Learning map"}
    return [{"key": "learning.map", "title": title, "capability": A.MAP, "order": 30, "data": profile_data,
             "template": "learning/_profile.html"},
            {"key": "learning.map_own", "title": title, "capability": A.OWN, "order": 30, "data": profile_data,
             "template": "learning/_profile.html"}]


def mastery_by_group(sess: so.Session, school_id: int) -> list[dict[str, Any]]:
    """Per top-level knowledge group: students with an estimate in it (count) and the mean mastery over their
    estimates (value), grouped in SQL (each code mapped to its group)."""
    top = catalogue.groups(sess)
    if not top:
        return []
    group = sa.case({code: g.code for code, g in top.items()}, value=Mastery.code, else_=None)
    rows = sess.execute(sa.select(group, sa.func.count(sa.distinct(Mastery.student_id)), sa.func.avg(Mastery.p))
                        .where(Mastery.code.in_(list(top))).group_by(group)).all()
    heads = {g.code: g for g in top.values()}
    return [{"group": {"subject": heads[g].subject, "knowledge_group": g}, "count": n, "value": round(float(p), 3)}
            for g, n, p in rows if g in heads]


def push_effect(sess: so.Session, school_id: int) -> list[dict[str, Any]]:
    h = push.helped(sess)
    return [{"group": {"push": "opened"}, "count": h["n_opened"], "value": h["gain_opened"]},
            {"group": {"push": "not_opened"}, "count": h["n_unopened"], "value": h["gain_unopened"]}]


def gain_by_subject(sess: so.Session, school_id: int) -> list[dict[str, Any]]:
    """Per subject: students with a pre and a post test, and their mean gain (the district compares schools'
    gains; a class's or teacher's figure stays in the school) — value added's estimate without its interval."""
    return [{"group": c["group"], "count": c["count"], "value": c["value"]} for c in value_added(sess, school_id)]


def value_added(sess: so.Session, school_id: int) -> list[dict[str, Any]]:
    """Per subject, the school's value added (增值) by the gain method: students with the school's first and
    last test of the subject (count), their mean post − pre (value) and its 95% t interval (low, high) — the
    same figure as valueadded.py's gain, in two grouped statements a subject. Schools are compared by their
    intervals, never summed (``rollup: none``)."""
    from scipy import stats

    out = []
    for subject in ("math", "chinese"):
        tests = [t for t, _at in sess.execute(sa.select(Score.test_id, sa.func.min(Score.occurred_at)).where(
            Score.subject == subject).group_by(Score.test_id).order_by(sa.func.min(Score.occurred_at), Score.test_id))]
        cell: dict[str, Any] = {"group": {"subject": subject}, "count": 0, "value": None, "low": None, "high": None}
        if len(tests) >= 2:
            pre, post = Score.__table__.alias("pre"), Score.__table__.alias("post")
            diff = post.c.score - pre.c.score
            n, mean, squares = sess.execute(sa.select(sa.func.count(), sa.func.avg(diff), sa.func.sum(diff * diff))
                                            .select_from(pre.join(post, sa.and_(
                                                post.c.student_id == pre.c.student_id, post.c.subject == subject,
                                                post.c.test_id == tests[-1])))
                                            .where(pre.c.subject == subject, pre.c.test_id == tests[0])).one()
            if n:
                mean = float(mean)
                cell.update(count=int(n), value=round(mean, 2))
                if n >= 2:
                    sd = math.sqrt(max(float(squares) - n * mean * mean, 0.0) / (n - 1))
                    half = float(stats.t.ppf(0.975, n - 1)) * sd / math.sqrt(n)
                    cell.update(low=round(mean - half, 2), high=round(mean + half, 2))
        out.append(cell)
    return out


def district_figures() -> list[dict[str, Any]]:
    return [{"key": "learning.mastery_by_group", "title": {"zh": "知识点掌握度（按知识板块）",
                                                           "en": "Mastery by knowledge-point group"},
             "unit": "students", "sensitive": False, "compute": mastery_by_group, "tile": "learning"},
            {"key": "learning.gain_by_subject", "title": {"zh": "各学科增量分数（后测−前测）",
                                                          "en": "Gain score by subject (post − pre)"},
             "unit": "students", "sensitive": False, "compute": gain_by_subject, "tile": "learning"},
            {"key": "learning.push_effect", "title": {"zh": "资源推送后的掌握度提升", "en": "Mastery gain after a push"},
             "unit": "pushes", "sensitive": False, "compute": push_effect, "tile": "learning"},
            {"key": "learning.value_added", "title": {"zh": "各校增值评价（95%区间）",
                                                      "en": "Value added per school (95% interval)"},
             "unit": "students", "sensitive": False, "compute": value_added, "tile": "learning",
             "chart": "interval", "rollup": "none"}]


def jobs() -> list[dict[str, Any]]:
    from plugins.learning.refit import refit

    return [{"key": "learning.refit", "title": {"zh": "重新拟合知识追踪参数", "en": "Refit the knowledge-tracing parameters"},
             "every": 86400, "at": "02:10", "run": refit}]
