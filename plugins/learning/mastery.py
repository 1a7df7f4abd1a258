"""Live mastery: every response arriving through the standards layer updates the student's mastery of each
knowledge point it tests, in the publisher's transaction, one school per call (the platform's scoping).

- ``item.responded`` (library ``item_response``): the item's knowledge points (the record's, plus the
  school's Q-matrix tags for the item), right or wrong;
- ``homework.submitted`` (library ``homework``): each knowledge point covered is one response, wrong when it
  is among the homework's ``weak_knowledge_points``;
- ``test.scored`` (library ``test_score``): the score, kept for value added;
- ``classroom.interaction`` and ``certificate.progress``: interactions per week, certificate progress.

Only codes in the school's knowledge map are traced. After the update, a weak point (mastery under the
school's threshold after at least N attempts) may trigger a push (push.py)."""
from __future__ import annotations

import logging
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from foundation import plugin_api
from foundation.plugin_api import Student, bulk_insert, utcnow
from plugins.learning import bkt
from plugins.learning.models import (
    Certificate,
    History,
    Interaction,
    Item,
    Mastery,
    Param,
    Point,
    Response,
    Score,
)

log = logging.getLogger("jizuo.plugins.learning")
DEFAULTS = {"weak_threshold": 0.6, "min_attempts": 4, "pushes_per_week": 3, "alert_days": 14,
            "alert_min_gain": 0.1}
MAX_THRESHOLD = 0.95  # the highest weak_threshold the configuration allows


def settings(school_id: int) -> dict[str, Any]:
    return {**DEFAULTS, **(plugin_api.plugin_config("learning", school_id) or {})}


def when(value: Any) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return utcnow()
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    return utcnow()


def monday(d: datetime | date) -> date:
    d = d.date() if isinstance(d, datetime) else d
    return d - timedelta(days=d.weekday())


def params(sess: so.Session, codes: set[str] | None = None) -> dict[str, bkt.Params]:
    q = sa.select(Param)
    if codes is not None:
        q = q.where(Param.code.in_(codes))
    return {p.code: bkt.Params(p.prior, p.learn, p.guess, p.slip) for p in sess.scalars(q)}


def apply(sess: so.Session, school_id: int, responses: list[tuple[int, str, bool, datetime, int | None]],
          prm: dict[str, bkt.Params] | None = None) -> list:
    """``responses``: (student, code, right, when, record id), any order. Updates mastery and the week's
    history, stores the responses; returns the (student, code, mastery, attempts) rows touched."""
    if not responses:
        return []
    responses.sort(key=lambda r: r[3])
    codes = {r[1] for r in responses}
    students = {r[0] for r in responses}
    prm = params(sess, codes) if prm is None else prm
    rows = {(m.student_id, m.code): m for m in sess.scalars(sa.select(Mastery).where(
        Mastery.student_id.in_(students), Mastery.code.in_(codes)))}
    now = utcnow()
    for sid, code, right, _at, _rid in responses:
        p = prm.get(code, bkt.DEFAULT)
        m = rows.get((sid, code))
        if m is None:
            m = rows[(sid, code)] = Mastery(school_id=school_id, student_id=sid, code=code, p=p.prior, attempts=0,
                                            correct=0, updated_at=now)
            sess.add(m)
        m.p = bkt.update(m.p, right, p)
        m.attempts += 1
        m.correct += int(right)
        m.updated_at = now
    stored = [{"school_id": school_id, "student_id": s, "code": c, "correct": r, "occurred_at": a, "record_id": rid}
              for s, c, r, a, rid in responses]
    if len(stored) > 200:  # COPY pays off for many rows; one INSERT is one round trip for a few
        bulk_insert(sess, Response, stored)
    else:
        sess.execute(sa.insert(Response.__table__), stored)
    sess.flush()
    touched = [rows[k] for k in {(r[0], r[1]) for r in responses}]
    _week(sess, school_id, touched, monday(now))
    return [(m.student_id, m.code, m.p, m.attempts) for m in touched]


def _week(sess: so.Session, school_id: int, touched: list[Mastery], week: date) -> None:
    """This week's mastery per touched point, one upsert (the history's unique key: student, point, week)."""
    dialect = sess.get_bind().dialect.name
    insert = {"postgresql": pg_insert, "sqlite": sqlite_insert}.get(dialect)
    values = [{"school_id": school_id, "student_id": m.student_id, "code": m.code, "week": week, "p": m.p}
              for m in touched]
    if insert is None:  # another database: read, then write
        for v in values:
            row = sess.scalar(sa.select(History).where(History.student_id == v["student_id"],
                                                       History.code == v["code"], History.week == week))
            if row is None:
                sess.add(History(**v))
            else:
                row.p = v["p"]
        sess.flush()
        return
    stmt = insert(History.__table__)
    sess.execute(stmt.on_conflict_do_update(index_elements=["student_id", "code", "week"],
                                            set_={"p": stmt.excluded.p}), values)


def _known(sess: so.Session, codes: set[str]) -> dict[str, bkt.Params]:
    """Of ``codes``, those in the school's knowledge map, with their parameters (the defaults when not fitted
    yet): one query."""
    rows = sess.execute(sa.select(Point.code, Param.prior, Param.learn, Param.guess, Param.slip)
                        .outerjoin(Param, Param.code == Point.code).where(Point.code.in_(codes))).all()
    return {r.code: bkt.Params(r.prior, r.learn, r.guess, r.slip) if r.prior is not None else bkt.DEFAULT
            for r in rows}


def _after(sess: so.Session, school_id: int, touched: list) -> None:
    """Pushes for the points now weak (a savepoint only when there is one: most responses make none)."""
    from plugins.learning import push

    if not any(p < MAX_THRESHOLD for _s, _c, p, _n in touched):  # no school's threshold makes these weak
        return
    cfg = settings(school_id)
    hits = push.due(sess, touched, cfg)
    if not hits:
        return
    try:
        with sess.begin_nested():
            push.send(sess, school_id, hits)
    except Exception:  # noqa: BLE001 - the mastery stands; a failed push is logged and tried on the next response
        log.exception("learning push failed for school %s", school_id)


def _by_school(payloads: list[dict]) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = defaultdict(list)
    for p in payloads:
        if p.get("school_id") is not None and p.get("subject_id") is not None:
            out[p["school_id"]].append(p)
    return out


def on_item(event: str, payloads: list[dict]) -> None:
    sess = plugin_api.session()
    for school_id, batch in _by_school(payloads).items():
        ids = {str(p["data"].get("item_id")) for p in batch}
        tags = {i.item_id: i.points for i in sess.scalars(sa.select(Item).where(Item.item_id.in_(ids)))}
        wanted = [(p, set(p["data"].get("knowledge_points") or []) | set(tags.get(str(p["data"].get("item_id")), [])))
                  for p in batch]
        prm = _known(sess, set().union(*(codes for _p, codes in wanted)))
        out = [(p["subject_id"], c, bool(p["data"].get("correct")), when(p.get("occurred_at")), p.get("id"))
               for p, codes in wanted for c in sorted(codes & set(prm))]
        _after(sess, school_id, apply(sess, school_id, out, prm))


def on_homework(event: str, payloads: list[dict]) -> None:
    sess = plugin_api.session()
    for school_id, batch in _by_school(payloads).items():
        prm = _known(sess, {c for p in batch for c in p["data"].get("knowledge_points") or []})
        out = []
        for p in batch:
            weak = set(p["data"].get("weak_knowledge_points") or [])
            out += [(p["subject_id"], c, c not in weak, when(p.get("occurred_at")), p.get("id"))
                    for c in sorted(set(p["data"].get("knowledge_points") or []) & set(prm))]
        _after(sess, school_id, apply(sess, school_id, out, prm))


def on_test(event: str, payloads: list[dict]) -> None:
    sess = plugin_api.session()
    for school_id, batch in _by_school(payloads).items():
        classes = dict(sess.execute(sa.select(Student.id, Student.class_id).where(
            Student.id.in_({p["subject_id"] for p in batch}))).all())
        for p in batch:
            d = p["data"]
            if d.get("absent") or d.get("score") is None:
                continue
            pct = float(d["score"]) * 100 / max(float(d.get("full_score") or 100), 1)
            key = (Score.student_id == p["subject_id"], Score.subject == d["subject"], Score.test_id == d["test_id"])
            row = sess.scalar(sa.select(Score).where(*key))
            if row is None:
                sess.add(Score(school_id=school_id, student_id=p["subject_id"], class_id=classes.get(p["subject_id"]),
                               subject=d["subject"], test_id=d["test_id"], test_kind=d["test_kind"], score=pct,
                               occurred_at=when(p.get("occurred_at"))))
            else:
                row.score = pct
        sess.flush()


def on_interaction(event: str, payloads: list[dict]) -> None:
    """Classroom interactions, summed per student, subject, week and kind."""
    sess = plugin_api.session()
    for school_id, batch in _by_school(payloads).items():
        sums: dict[tuple, int] = defaultdict(int)
        for p in batch:
            d = p["data"]
            sums[(p["subject_id"], d["subject"], monday(when(p.get("occurred_at"))), d["kind"])] += int(d["count"])
        have = {(r.student_id, r.subject, r.week, r.kind): r for r in sess.scalars(sa.select(Interaction).where(
            Interaction.student_id.in_({k[0] for k in sums}), Interaction.week.in_({k[2] for k in sums})))}
        for (sid, subject, week, kind), n in sums.items():
            row = have.get((sid, subject, week, kind))
            if row is None:
                sess.add(Interaction(school_id=school_id, student_id=sid, subject=subject, week=week, kind=kind,
                                     count=n))
            else:
                row.count += n
        sess.flush()


def on_certificate(event: str, payloads: list[dict]) -> None:
    """Where a student stands on each certificate: the latest step by when it happened."""
    sess = plugin_api.session()
    for school_id, batch in _by_school(payloads).items():
        have = {(r.student_id, r.certificate): r for r in sess.scalars(sa.select(Certificate).where(
            Certificate.student_id.in_({p["subject_id"] for p in batch})))}
        for p in sorted(batch, key=lambda p: when(p.get("occurred_at"))):
            d, at = p["data"], when(p.get("occurred_at"))
            row = have.get((p["subject_id"], d["certificate"]))
            if row is None:
                row = have[(p["subject_id"], d["certificate"])] = Certificate(
                    school_id=school_id, student_id=p["subject_id"], certificate=d["certificate"],
                    level=d.get("level"), status=d["status"], updated_at=at)
                sess.add(row)
            elif at >= row.updated_at:
                row.status, row.level, row.updated_at = d["status"], d.get("level") or row.level, at
        sess.flush()


SUBSCRIPTIONS = {"item.responded": on_item, "homework.submitted": on_homework, "test.scored": on_test,
                 "classroom.interaction": on_interaction, "certificate.progress": on_certificate}
