"""Selection windows and choices. A choice is checked (window open, grade, at most N, no two chosen courses at
the same time) and then written so that the database keeps the rules under any number of parents at once:

- a seat is taken by a conditional UPDATE (``enrolled < capacity``), never by reading and then writing;
- a child's enrolled slots are rows under a unique key (child, term, weekday, period): a clash cannot be
  written, even by two requests for the same child at the same moment;
- a choice's rank is unique per child and window (at most N), and a course once per child.

First come, first served places a child at once (or on the waiting list when the course is full); a lottery
window keeps the preferences (``applied``) until the lottery at the deadline (lottery.py). When a seat frees,
the waiting list moves up by itself and the family is told."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.exc as sx
import sqlalchemy.orm as so

from foundation.plugin_api import OrgUnit, StudentRef, ValidationFailed, utcnow
from plugins.afterschool import catalog, notify
from plugins.afterschool.models import Busy, Choice, Course, Queue, Window, busy, choices, queue


def grade_of(sess: so.Session, kid: StudentRef) -> int | None:
    return sess.scalar(sa.select(OrgUnit.parent_id).where(OrgUnit.id == kid.class_id)) if kid.class_id else None


def is_open(w: Window, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return w.status == "open" and w.opens_at <= now < w.closes_at


def windows_for(sess: so.Session, grade: int | None) -> list[Window]:
    rows = sess.scalars(sa.select(Window).order_by(Window.closes_at.desc(), Window.id.desc())).all()
    return [w for w in rows if grade in (w.grades or [])]


def check_window(sess: so.Session, data: dict) -> dict[str, Any]:
    from foundation.plugin_api import text_field

    def when(key: str) -> datetime:
        try:
            value = datetime.fromisoformat(str(data.get(key)).replace("Z", "+00:00"))
        except ValueError:
            raise ValidationFailed({key: ["afterschool.err.time"]}) from None
        if value.tzinfo is None:
            raise ValidationFailed({key: ["afterschool.err.time"]})
        return value.astimezone(UTC).replace(tzinfo=None)

    opens, closes = when("opens_at"), when("closes_at")
    if closes <= opens:
        raise ValidationFailed({"closes_at": ["afterschool.err.closes_before"]})
    mode = data.get("mode")
    if mode not in ("fcfs", "lottery"):
        raise ValidationFailed({"mode": ["afterschool.err.mode"]})
    known = {g["id"] for g in catalog.grades(sess)}
    wanted = data.get("grades")
    if not isinstance(wanted, list) or not wanted or not set(wanted) <= known:
        raise ValidationFailed({"grades": ["afterschool.err.grades"]})
    mx = data.get("max_courses", 2)
    if isinstance(mx, bool) or not isinstance(mx, int) or not 1 <= mx <= 5:
        raise ValidationFailed({"max_courses": ["afterschool.err.range:1–5"]})
    course_ids = data.get("course_ids")
    if course_ids is not None:
        known_courses = {c.id for c in catalog.term_courses(sess)}
        if not isinstance(course_ids, list) or not course_ids or not set(course_ids) <= known_courses:
            raise ValidationFailed({"course_ids": ["afterschool.err.not_offered"]})
    priority = data.get("priority") or []
    if not isinstance(priority, list) or not all(
            isinstance(g, dict) and isinstance(g.get("label"), str) and isinstance(g.get("students"), list)
            and all(isinstance(s, int) for s in g["students"]) for g in priority):
        raise ValidationFailed({"priority": ["afterschool.err.priority"]})
    return {"title": text_field(data, "title", limit=120), "opens_at": opens, "closes_at": closes, "mode": mode,
            "grades": sorted(set(wanted)), "max_courses": mx, "students_choose": data.get("students_choose") is True,
            "priority": [{"label": g["label"][:60], "sensitive": g.get("sensitive") is not False,
                          "students": sorted(set(g["students"]))} for g in priority],
            "term": data.get("term") or catalog.term_of(utcnow().date()),
            "course_ids": sorted(set(course_ids)) if course_ids else None}


def open_courses(sess: so.Session, w: Window, grade: int | None) -> list[Course]:
    offered = set(w.course_ids) if w.course_ids else None
    return [c for c in catalog.term_courses(sess, w.term) if grade in (c.grades or [])
            and (offered is None or c.id in offered)]


def mine(sess: so.Session, w: Window, kid_id: int) -> list[Choice]:
    return list(sess.scalars(sa.select(Choice).where(Choice.window_id == w.id, Choice.student_id == kid_id)
                             .order_by(Choice.rank)))


def _check_list(sess: so.Session, w: Window, kid: StudentRef, course_ids: Any) -> list[Course]:
    if not is_open(w):
        raise ValidationFailed({"window_id": ["afterschool.err.closed"]})
    grade = grade_of(sess, kid)
    if grade not in w.grades:
        raise ValidationFailed({"student_id": ["afterschool.err.grade"]})
    if (not isinstance(course_ids, list) or not course_ids or len(set(map(str, course_ids))) != len(course_ids)
            or not all(isinstance(c, int) and not isinstance(c, bool) for c in course_ids)):
        raise ValidationFailed({"courses": ["afterschool.err.courses"]})
    offered = {c.id: c for c in open_courses(sess, w, grade)}
    picked = [offered.get(c) for c in course_ids]
    if None in picked:
        raise ValidationFailed({"courses": ["afterschool.err.not_offered"]})
    for i, a in enumerate(picked):
        for b in picked[i + 1:]:
            if catalog.overlap(a.slots, b.slots):
                raise ValidationFailed({"courses": [f"afterschool.err.pair_clash:{a.title} / {b.title}"]})
    return picked


def choose(sess: so.Session, w: Window, kid: StudentRef, course_ids: Any, account_id: int | None) -> list[dict]:
    """Apply a family's choices; returns one outcome per course: enrolled, waiting, applied or refused (why)."""
    picked = _check_list(sess, w, kid, course_ids)
    if w.mode == "lottery":
        if len(picked) > w.max_courses:
            raise ValidationFailed({"courses": [f"afterschool.err.too_many:{w.max_courses}"]})
        sess.execute(sa.delete(choices).where(choices.c.window_id == w.id, choices.c.student_id == kid.id))
        now = utcnow()
        for rank, c in enumerate(picked, 1):
            sess.add(Choice(school_id=w.school_id, student_id=kid.id, window_id=w.id, course_id=c.id, rank=rank,
                            status="applied", chosen_by=account_id, created_at=now))
        sess.flush()
        return [{"course_id": c.id, "outcome": "applied", "rank": i} for i, c in enumerate(picked, 1)]
    have = mine(sess, w, kid.id)
    return [_place(sess, w, kid, c, have, account_id) for c in picked]


def _place(sess: so.Session, w: Window, kid: StudentRef, c: Course, have: list[Choice], account_id: int | None) -> dict:
    out = {"course_id": c.id}
    if any(h.course_id == c.id for h in have):
        return out | {"outcome": "refused", "reason": "already"}
    taken = {h.rank for h in have}
    free = [r for r in range(1, w.max_courses + 1) if r not in taken]
    if not free:
        return out | {"outcome": "refused", "reason": "too_many"}
    now = utcnow()
    try:
        with sess.begin_nested():  # the seat, the choice and its slots (or ticket) stand or fall together
            seated = catalog.seat_taken(sess, c.id)
            cid = sess.execute(sa.insert(choices).values(
                school_id=w.school_id, student_id=kid.id, window_id=w.id, course_id=c.id, rank=free[0],
                status="enrolled" if seated else "waiting", chosen_by=account_id, created_at=now,
                decided_at=now if seated else None).returning(choices.c.id)).scalar_one()
            if seated:
                _hold_slots(sess, kid.id, c)  # a clash with what the child holds stops here: a unique key
            else:
                sess.execute(sa.insert(queue).values(school_id=w.school_id, course_id=c.id, choice_id=cid, ticket=cid))
    except sx.IntegrityError as err:  # the same child and course (or rank) twice, or a clash
        reason = "clash" if "busy" in str(err.orig).lower() else "already"
        return out | {"outcome": "refused", "reason": reason}
    have.append(Choice(id=cid, course_id=c.id, rank=free[0]))
    if seated:
        return out | {"outcome": "enrolled", "choice_id": cid}
    return out | {"outcome": "waiting", "choice_id": cid, "position": position_of(sess, c.id, cid)}


def _hold_slots(sess: so.Session, kid_id: int, c: Course) -> None:
    sess.execute(sa.insert(busy), [{"school_id": c.school_id, "student_id": kid_id, "term": c.term, "weekday": d,
                                    "period": p, "course_id": c.id} for d, p in c.slots])


def position_of(sess: so.Session, course_id: int, choice_id: int) -> int:
    """How many wait ahead, plus one: counted on the nameless tickets (a family reads no other child's choice)."""
    mine = sa.select(Queue.ticket).where(Queue.choice_id == choice_id).scalar_subquery()
    return 1 + (sess.scalar(sa.select(sa.func.count()).select_from(Queue).where(
        Queue.course_id == course_id, Queue.ticket < mine)) or 0)


def waiting_position(sess: so.Session, row: Choice) -> int:
    return position_of(sess, row.course_id, row.id)


FREED = "afterschool.seat.freed"


def drop(sess: so.Session, row: Choice) -> int:
    """Withdraw a choice. A freed seat is published (``afterschool.seat.freed``); the plugin's subscriber,
    which the platform runs for the whole school, moves the waiting list up. Returns how many moved up."""
    from foundation.plugin_api import publish

    was = row.status
    sess.execute(sa.delete(queue).where(queue.c.choice_id == row.id))
    sess.execute(sa.delete(choices).where(choices.c.id == row.id))
    if was != "enrolled":
        return 0
    sess.execute(sa.delete(busy).where(busy.c.student_id == row.student_id, busy.c.course_id == row.course_id))
    catalog.seat_freed(sess, row.course_id)
    payload = {"school_id": row.school_id, "course_id": row.course_id, "moved_up": 0}
    publish(FREED, [payload])
    return payload["moved_up"]


def on_seat_freed(_event: str, payloads: list[dict]) -> None:
    from foundation.plugin_api import session

    for p in payloads:
        p["moved_up"] = len(promote(session(), p["course_id"]))


def promote(sess: so.Session, course_id: int) -> list[int]:
    """Fill free seats from the waiting list, in its order; a waiting child now busy at that time is skipped
    (refused: clash). Each family moved up is told. Runs where the whole school's lists are seen (a subscriber,
    a school admin's request)."""
    c = sess.get(Course, course_id)
    moved: list[int] = []
    while True:
        ticket = sess.scalar(sa.select(Queue).where(Queue.course_id == course_id).order_by(Queue.ticket).limit(1))
        if ticket is None:
            return moved
        nxt = sess.get(Choice, ticket.choice_id)
        sess.execute(sa.delete(queue).where(queue.c.id == ticket.id))
        if nxt is None or nxt.status != "waiting":
            continue
        try:
            with sess.begin_nested():
                claimed = sess.execute(sa.update(choices).where(choices.c.id == nxt.id, choices.c.status == "waiting")
                                       .values(status="enrolled", decided_at=utcnow())).rowcount
                if not claimed:
                    continue
                if not catalog.seat_taken(sess, course_id):
                    raise _Full
                _hold_slots(sess, nxt.student_id, c)
        except _Full:
            sess.execute(sa.insert(queue).values(school_id=ticket.school_id, course_id=course_id,
                                                 choice_id=ticket.choice_id, ticket=ticket.ticket))
            return moved
        except sx.IntegrityError:
            sess.execute(sa.update(choices).where(choices.c.id == nxt.id).values(status="refused", reason="clash"))
            continue
        sess.expire(nxt)
        moved.append(nxt.student_id)
        notify.moved_up(sess, nxt.student_id, c)


class _Full(Exception):
    pass


def choice_view(sess: so.Session, row: Choice) -> dict[str, Any]:
    from plugins.afterschool.models import Session

    out = {"id": row.id, "course_id": row.course_id, "rank": row.rank, "status": row.status, "reason": row.reason}
    if row.status == "waiting":
        out["position"] = waiting_position(sess, row)
    if row.status == "enrolled":  # a family rates a course once it has met
        out["rateable"] = bool(sess.scalar(sa.select(Session.id).where(Session.course_id == row.course_id,
                                                                      Session.taken_at.is_not(None)).limit(1)))
    return out


def busy_of(sess: so.Session, kid_id: int) -> list[Busy]:
    return list(sess.scalars(sa.select(Busy).where(Busy.student_id == kid_id)))
