"""The term report per student (学期德育报告): starting and current score, each dimension's credits and
deductions, where the entries came from, reversals and appeals, which eligibility rules the student meets,
the weekly trend — and, for staff only, the class and school rank (families get the band)."""
from __future__ import annotations

from collections import Counter
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from plugins.points import rulebook as rb
from plugins.points import standing
from plugins.points.models import appeals, entries


def build(sess: so.Session, kid: Any, *, staff: bool) -> dict:
    school, sid = kid.school_id, kid.id
    book = rb.current(sess, school)
    if book is None:
        return {}
    body, term = book["body"], rb.term_start(book["body"])
    rows = sess.execute(sa.select(entries.c.source, entries.c.reverses_id).where(
        entries.c.student_id == sid, entries.c.term_start == term)).all()
    sources = Counter(r.source for r in rows if r.reverses_id is None)
    status = Counter(sess.scalars(sa.select(appeals.c.status).where(
                                                                    appeals.c.student_id == sid)))
    score = standing.score_of(sess, school, sid)
    meets = []
    for rule in body.get("eligibility", []):
        barred = sid in standing.deducted_in(sess, school, term, rule.get("no_deduction", []))
        meets.append({"key": rule["key"], "title": rule["title"], "min_score": rule["min_score"],
                      "met": score >= rule["min_score"] and not barred})
    out = {"student_id": sid, "name": kid.name, "student_no": kid.student_no, "term": body["term"],
           "rulebook_version": book["version"], "starting_score": body["starting_score"], "score": score,
           "dimensions": standing.dimension_summary(sess, school, sid, term), "sources": dict(sources),
           "reversals": sum(1 for r in rows if r.reverses_id is not None),
           "appeals": {k: status.get(k, 0) for k in ("open", "accepted", "rejected")}, "eligibility": meets,
           "trend": standing.weekly_series(sess, school, [sid], weeks=12).get(sid, [])}
    where = standing.position(sess, school, kid)
    if staff:
        out |= {"class_rank": where["class_rank"], "school_rank": where["school_rank"]}
    else:
        out["band"] = where["band"]
    return out
