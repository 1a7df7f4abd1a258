"""The lottery at a window's deadline, when a course has more applicants than seats.

``allocate(inputs, seed)`` is a pure function of what it is given: the seats left per course, each applicant's
preferences in order, the slots they already hold, their priority tier. It draws one random number per
applicant from ``random.Random(seed)`` (in student-id order), sorts by (tier, draw) — so within a tier every
applicant has the same chance — and then goes round by round: in each round every applicant, in that order,
takes their best remaining preference that still has a seat and does not clash with what they hold; a full
course puts them on its waiting list at their lottery position. Every step is recorded.

``run`` stores the seed, the inputs and the steps with a hash of the outcome, so anyone holding the audit
right re-runs it (``verify``) and gets the same allocation. A priority tier is all the record keeps of a
declared group: why a child was preferred (e.g. aid) is in neither the record nor any family's view."""
from __future__ import annotations

import hashlib
import json
import random
import secrets
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.plugin_api import bulk_insert, utcnow
from plugins.afterschool import notify
from plugins.afterschool.models import Busy, Choice, Course, Lottery, Window, busy, courses, queue


def allocate(inputs: dict[str, Any], seed: str) -> tuple[dict[str, Any], list[list[Any]]]:
    """→ ({"<student>:<course>": ["enrolled"|"waiting"|"refused", queue]}, steps)."""
    rng = random.Random(seed)
    seats = {int(k): v["seats"] for k, v in inputs["courses"].items()}
    slots = {int(k): {tuple(s) for s in v["slots"]} for k, v in inputs["courses"].items()}
    people = sorted(inputs["applicants"], key=lambda a: a["student"])
    draws = {a["student"]: rng.random() for a in people}
    order = sorted(people, key=lambda a: (-a.get("tier", 0), draws[a["student"]]))
    steps: list[list[Any]] = [["order", [a["student"] for a in order]]]
    held = {a["student"]: {tuple(s) for s in a.get("busy", [])} for a in people}
    tried = {a["student"]: 0 for a in people}
    got = {a["student"]: 0 for a in people}
    out: dict[str, list[Any]] = {}
    limit = inputs["max"]
    for rnd in range(1, limit + 1):
        for pos, a in enumerate(order):
            kid, prefs = a["student"], a["prefs"]
            if got[kid] >= limit:
                continue
            while tried[kid] < len(prefs):
                course = prefs[tried[kid]]
                tried[kid] += 1
                key = f"{kid}:{course}"
                if slots[course] & held[kid]:
                    out[key] = ["refused", None]
                    steps.append([rnd, kid, course, "clash"])
                    continue
                if seats[course] <= 0:
                    out[key] = ["waiting", pos + 1]
                    steps.append([rnd, kid, course, "full"])
                    continue
                seats[course] -= 1
                held[kid] |= slots[course]
                got[kid] += 1
                out[key] = ["enrolled", pos + 1]
                steps.append([rnd, kid, course, "enrolled"])
                break
    return out, steps


def digest(outcome: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(outcome, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def gather(sess: so.Session, w: Window) -> dict[str, Any]:
    """The lottery's inputs from the window's applications (seats left now, what each child holds)."""
    applied = sess.scalars(sa.select(Choice).where(Choice.window_id == w.id, Choice.status == "applied")
                           .order_by(Choice.student_id, Choice.rank)).all()
    wanted = {c.course_id for c in applied}
    rows = sess.scalars(sa.select(Course).where(Course.id.in_(wanted))).all() if wanted else []
    tiers = {s for g in (w.priority or []) for s in g.get("students", [])}
    kids: dict[int, dict[str, Any]] = {}
    for c in applied:
        kids.setdefault(c.student_id, {"student": c.student_id, "prefs": [], "tier": int(c.student_id in tiers),
                                       "busy": []})["prefs"].append(c.course_id)
    if kids:
        for b in sess.scalars(sa.select(Busy).where(Busy.student_id.in_(list(kids)), Busy.term == w.term)):
            kids[b.student_id]["busy"].append([b.weekday, b.period])
    return {"max": w.max_courses, "courses": {str(c.id): {"seats": max(c.capacity - c.enrolled, 0), "slots": c.slots}
                                              for c in rows},
            "applicants": list(kids.values())}


def run(sess: so.Session, w: Window, by: str | None, seed: str | None = None) -> Lottery:
    """Draw, record and apply the allocation; every family is told its child's result."""
    seed = seed or secrets.token_hex(16)
    inputs = gather(sess, w)
    outcome, steps = allocate(inputs, seed)
    row = Lottery(school_id=w.school_id, window_id=w.id, seed=seed, inputs=inputs, steps=steps,
                  outcome_hash=digest(outcome), ran_by=by, ran_at=utcnow())
    sess.add(row)
    apply(sess, w, inputs, outcome)
    w.status = "allocated"
    sess.flush()
    return row


def apply(sess: so.Session, w: Window, inputs: dict[str, Any], outcome: dict[str, Any]) -> None:
    now = utcnow()
    rows = sess.scalars(sa.select(Choice).where(Choice.window_id == w.id, Choice.status == "applied")).all()
    taken: dict[int, int] = {}
    held: list[dict[str, Any]] = []
    slots = {int(k): v["slots"] for k, v in inputs["courses"].items()}
    for c in rows:
        status, ticket = outcome.get(f"{c.student_id}:{c.course_id}", ["refused", None])
        c.status, c.queue, c.decided_at = status, ticket, now
        c.reason = "clash" if status == "refused" else None
        if status == "enrolled":
            taken[c.course_id] = taken.get(c.course_id, 0) + 1
            held += [{"school_id": w.school_id, "student_id": c.student_id, "term": w.term, "weekday": d, "period": p,
                      "course_id": c.course_id} for d, p in slots[c.course_id]]
    sess.flush()
    for course_id, n in taken.items():  # the check constraint keeps enrolled within capacity, whatever happens
        sess.execute(sa.update(courses).where(courses.c.id == course_id).values(enrolled=courses.c.enrolled + n))
    bulk_insert(sess, busy, held)
    bulk_insert(sess, queue, [{"school_id": w.school_id, "course_id": c.course_id, "choice_id": c.id, "ticket": c.queue}
                              for c in rows if c.status == "waiting"])
    notify.results(sess, w, sorted({c.student_id for c in rows}))


def verify(lot: Lottery) -> dict[str, Any]:
    """Re-run a recorded lottery from its seed and inputs: the same allocation, step for step?"""
    outcome, steps = allocate(lot.inputs, lot.seed)
    again = digest(outcome)
    return {"lottery_id": lot.id, "seed": lot.seed, "outcome_hash": lot.outcome_hash, "recomputed_hash": again,
            "same": again == lot.outcome_hash and steps == lot.steps, "applicants": len(lot.inputs["applicants"]),
            "steps": len(steps)}


def due(sess: so.Session) -> list[Window]:
    """Lottery windows past their deadline and not drawn yet (the job draws them)."""
    return list(sess.scalars(sa.select(Window).where(Window.mode == "lottery", Window.status == "open",
                                                     Window.closes_at <= utcnow())))


