"""Reading the ledger: live scores and rankings (class, grade, school), a family's band, trends, eligibility
lists and the term report. Rankings are standard competition ranks (RANK(): ties share a rank, the next rank
skips) over the live score, highest first.

Where a score stands in the grade and the school (and so a family's band) is a fact about students the
reader may not see: :func:`refresh` computes it for the whole school when the platform runs the plugin for
that school (after every ledger change, and hourly), and stores it with the score. Readers then read their
own rows only: a parent their child's band, a class teacher their students' grade ranks."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.plugin_api import OrgUnit, Student, utcnow
from plugins.points import rulebook as rb
from plugins.points.models import entries, scores

LEVELS = ("class", "grade", "school", "district")
CHUNK = 900  # ids per IN (...) list (SQLite's variable limit)
BANDS = ("top_quarter", "second_quarter", "third_quarter", "bottom_quarter")


def score_expr(sess: so.Session, school_ids) -> tuple[sa.ColumnElement, sa.FromClause, Any]:
    """The live-score column, the FROM clause (students ⟕ scores ⟕ their class) and the class's columns, of
    the one school the session sees. ``points_scores`` holds the current term only (a new term rebuilds
    it), and a student with no score row yet has the starting score."""
    book = rb.current(sess, next(iter(school_ids), 0))
    default = sa.literal(book["body"]["starting_score"] if book else 1000, sa.Integer)
    st = Student.__table__.c
    klass = OrgUnit.__table__.alias("klass")
    frm = Student.__table__.outerjoin(scores, scores.c.student_id == st.id).outerjoin(klass, klass.c.id == st.class_id)
    return sa.func.coalesce(scores.c.score, default), frm, klass.c


def ranking(sess: so.Session, school_ids: list[int], level: str, unit_id: int | None = None,
            limit: int | None = None) -> list[dict]:
    """Students of ``school_ids`` (narrowed to one class or grade by ``unit_id``) with their score and
    their rank at ``level``, best first."""
    st = Student.__table__.c
    score, frm, kc = score_expr(sess, school_ids)
    partition = {"class": [st.class_id], "grade": [kc.parent_id], "school": [st.school_id], "district": []}[level]
    rank = sa.func.rank().over(partition_by=partition or None, order_by=score.desc())
    inner = sa.select(st.id.label("student_id"), st.name, st.student_no, st.school_id, st.class_id,
                      kc.name.label("class_name"), kc.parent_id.label("grade_id"), score.label("score"),
                      rank.label("rank"), scores.c.grade_rank, scores.c.school_rank, scores.c.band) \
        .select_from(frm).where(st.status_code == "01")
    if level == "grade" and unit_id is not None:
        inner = inner.where(kc.parent_id == unit_id)
    sub = inner.subquery()
    stmt = sa.select(sub).order_by(sub.c.rank, sub.c.student_no, sub.c.student_id)
    if level == "class" and unit_id is not None:
        stmt = stmt.where(sub.c.class_id == unit_id)
    if limit:
        stmt = stmt.limit(limit)
    result = sess.execute(stmt)
    keys = list(result.keys())
    return [dict(zip(keys, row, strict=True)) for row in result]


def score_of(sess: so.Session, school_id: int, student_id: int) -> int:
    book = rb.current(sess, school_id)
    if book is None:
        return 1000
    have = sess.scalar(sa.select(scores.c.score).where(scores.c.student_id == student_id,
                                                       scores.c.term_start == rb.term_start(book["body"])))
    return have if have is not None else book["body"]["starting_score"]


def standing_of(sess: so.Session, student_id: int) -> dict[str, Any]:
    """The stored standing of one student the session reaches: class, grade and school rank and band."""
    row = sess.execute(sa.select(scores.c.class_rank, scores.c.grade_rank, scores.c.school_rank, scores.c.band)
                       .where(scores.c.student_id == student_id)).first()
    return dict(row._mapping) if row else {"class_rank": None, "grade_rank": None, "school_rank": None,
                                           "band": None}


def band(sess: so.Session, school_id: int, student_id: int) -> str:
    """Which quarter of the school the student's score falls in — all a family is shown, never a rank."""
    return standing_of(sess, student_id)["band"] or BANDS[0]


def position(sess: so.Session, school_id: int, kid: Any) -> dict[str, Any]:
    """One student's score, class rank, school rank (both RANK(): 1 + how many score higher) and band."""
    return {"score": score_of(sess, school_id, kid.id), **standing_of(sess, kid.id)}


def students_of(sess: so.Session, student_ids) -> dict[int, dict]:
    """``id → {"id", "class_id", "name"}`` of the students among ``student_ids`` the session reaches."""
    st = Student.__table__.c
    out: dict[int, dict] = {}
    ids = sorted(set(student_ids))
    for i in range(0, len(ids), CHUNK):
        rows = sess.execute(sa.select(st.id, st.class_id, st.name).where(st.id.in_(ids[i:i + CHUNK])))
        out.update({r.id: {"id": r.id, "class_id": r.class_id, "name": r.name} for r in rows})
    return out


def rebuild(sess: so.Session, school_id: int, term: date, start: int, student_ids: list[int] | None = None) -> None:
    """Recompute live scores from the ledger: every student of the school (a whole-school operation, the
    session acting for that one school), or the ones named."""
    st = Student.__table__.c
    sums = (sa.select(entries.c.student_id, sa.func.sum(entries.c.points).label("n"))
            .where(entries.c.term_start == term).group_by(entries.c.student_id).subquery())
    pick = sa.select(st.id, st.school_id, sa.literal(term, sa.Date), start + sa.func.coalesce(sums.c.n, 0),
                     sa.literal(utcnow(), sa.DateTime)).select_from(
        sa.outerjoin(Student.__table__, sums, sums.c.student_id == st.id))
    if student_ids is None:
        sess.execute(sa.delete(scores))
        sess.execute(sa.insert(scores).from_select(["student_id", "school_id", "term_start", "score", "updated_at"], pick))
        return
    for i in range(0, len(student_ids), CHUNK):
        chunk = pick.where(st.id.in_(student_ids[i:i + CHUNK]))
        sess.execute(sa.insert(scores).from_select(["student_id", "school_id", "term_start", "score", "updated_at"],
                                                   chunk))


def refresh(sess: so.Session, school_id: int) -> int:
    """Where every score of the school stands, stored with the score (one UPDATE from window functions).
    Runs acting for the whole school (the platform delivers the plugin's ``points.ledger.changed`` and runs
    its hourly job that way). Students of the school with no score row for the term get one first."""
    book = rb.current(sess, school_id)
    if book is None:
        return 0
    term, start = rb.term_start(book["body"]), book["body"]["starting_score"]
    st = Student.__table__.c
    have = sa.select(scores.c.student_id).where(scores.c.term_start == term)
    missing = list(sess.scalars(sa.select(st.id).where(st.id.not_in(have))))
    if missing:
        sess.execute(sa.delete(scores).where(scores.c.student_id.in_(missing)))
        rebuild(sess, school_id, term, start, missing)
    klass = OrgUnit.__table__.alias("klass")
    order = scores.c.score.desc()
    ranked = (sa.select(scores.c.student_id,
                        sa.func.rank().over(partition_by=st.class_id, order_by=order).label("c"),
                        sa.func.rank().over(partition_by=klass.c.parent_id, order_by=order).label("g"),
                        sa.func.rank().over(order_by=order).label("s"),
                        sa.func.count().over().label("n"))
              .select_from(scores.join(Student.__table__, st.id == scores.c.student_id)
                           .outerjoin(klass, klass.c.id == st.class_id))
              .where(st.status_code == "01").subquery())
    above = 4 * (ranked.c.s - 1)  # the band: floor(4 × share of the school scoring higher)
    band_of = sa.case((above < ranked.c.n, BANDS[0]), (above < 2 * ranked.c.n, BANDS[1]),
                      (above < 3 * ranked.c.n, BANDS[2]), else_=BANDS[3])
    rows = [{"sid": r.student_id, "c": r.c, "g": r.g, "s": r.s, "b": r.band} for r in sess.execute(
        sa.select(ranked.c.student_id, ranked.c.c, ranked.c.g, ranked.c.s, band_of.label("band")))]
    if rows:
        sess.execute(sa.update(scores).where(scores.c.student_id == sa.bindparam("sid")).values(
            class_rank=sa.bindparam("c"), grade_rank=sa.bindparam("g"), school_rank=sa.bindparam("s"),
            band=sa.bindparam("b")), rows)
    return len(rows)


def recent_change(sess: so.Session, student_ids, days: int = 7, now: datetime | None = None) -> dict[int, int]:
    """Net points per student over the last ``days`` days (by when it happened)."""
    since = (now or utcnow()) - timedelta(days=days)
    ids = sorted(set(student_ids))
    out: dict[int, int] = {}
    for i in range(0, len(ids), 900):
        out.update(sess.execute(sa.select(entries.c.student_id, sa.func.sum(entries.c.points)).where(
            entries.c.student_id.in_(ids[i:i + 900]), entries.c.occurred_at >= since)
            .group_by(entries.c.student_id)).all())
    return {k: int(v or 0) for k, v in out.items()}


def weekly_series(sess: so.Session, school_id: int, student_ids, weeks: int = 8,
                  now: datetime | None = None) -> dict[int, list[int]]:
    """Score at the end of each of the last ``weeks`` weeks (oldest first) for each student."""
    now = now or utcnow()
    book = rb.current(sess, school_id)
    if book is None:
        return {}
    term = rb.term_start(book["body"])
    start = book["body"]["starting_score"]
    edges = [now - timedelta(days=7 * k) for k in range(weeks - 1, -1, -1)]
    ids = sorted(set(student_ids))
    cols = [sa.func.sum(sa.case((entries.c.occurred_at <= e, entries.c.points), else_=0)) for e in edges]
    out = {s: [start] * weeks for s in ids}
    for i in range(0, len(ids), 900):
        rows = sess.execute(sa.select(entries.c.student_id, *cols).where(
            entries.c.term_start == term, entries.c.student_id.in_(ids[i:i + 900])).group_by(entries.c.student_id))
        for sid, *sums in rows:
            out[sid] = [start + int(v or 0) for v in sums]
    return out


def deducted_in(sess: so.Session, school_id: int, term, dimensions: list[str]) -> set[int]:
    """Students with a deduction in ``dimensions`` this term that was not reversed."""
    if not dimensions:
        return set()
    rev = sa.select(entries.c.reverses_id).where(entries.c.reverses_id.is_not(None))
    return set(sess.scalars(sa.select(entries.c.student_id).distinct().where(
        entries.c.term_start == term, entries.c.points < 0,
        entries.c.reverses_id.is_(None), entries.c.dimension.in_(dimensions), entries.c.id.not_in(rev))))


def eligible(sess: so.Session, school_id: int, key: str) -> tuple[dict | None, list[dict]]:
    """The eligibility rule ``key`` of the rulebook in force and the students who meet it."""
    book = rb.current(sess, school_id)
    rule = next((r for r in (book["body"].get("eligibility", []) if book else []) if r["key"] == key), None)
    if rule is None:
        return None, []
    barred = deducted_in(sess, school_id, rb.term_start(book["body"]), rule.get("no_deduction", []))
    rows = ranking(sess, [school_id], "school")
    return rule, [r for r in rows if r["score"] >= rule["min_score"] and r["student_id"] not in barred]


def dimension_summary(sess: so.Session, school_id: int, student_id: int, term) -> dict[str, dict[str, int]]:
    rows = sess.execute(sa.select(entries.c.dimension, sa.func.sum(entries.c.points),
                                  sa.func.sum(sa.case((entries.c.points < 0, entries.c.points), else_=0)),
                                  sa.func.sum(sa.case((entries.c.points > 0, entries.c.points), else_=0)),
                                  sa.func.count()).where(entries.c.student_id == student_id, entries.c.term_start == term)
        .group_by(entries.c.dimension))
    out = {d: {"net": 0, "deducted": 0, "credited": 0, "entries": 0} for d in rb.DIMENSIONS}
    for dim, net, minus, plus, n in rows:
        out[dim] = {"net": int(net or 0), "deducted": int(minus or 0), "credited": int(plus or 0), "entries": n}
    return out


def student_entries(sess: so.Session, student_id: int, limit: int = 500) -> list[dict]:
    from plugins.points.models import appeals

    rev = entries.alias("rev")
    reversed_by = sa.select(rev.c.id).where(rev.c.reverses_id == entries.c.id).limit(1).scalar_subquery()
    appeal = sa.select(appeals.c.status).where(appeals.c.entry_id == entries.c.id) \
        .order_by(appeals.c.id.desc()).limit(1).scalar_subquery()  # the latest appeal's status, if any
    rows = sess.execute(sa.select(entries, reversed_by.label("reversed_by"), appeal.label("appeal")).where(
        entries.c.student_id == student_id)
        .order_by(entries.c.occurred_at.desc(), entries.c.id.desc()).limit(limit))
    return [dict(r._mapping) for r in rows]
