"""Demo data (``jizuo_demo_data``): a term (13 weeks) of item responses in mathematics and Chinese for every
student, on the district's knowledge map, with learning curves from the BKT model itself — each student an
ability, each knowledge point practised a few times a week, mastery gained along the way — and about one
student in twenty who stalls on two or three points (learns nothing, guesses), with the resources pushed to
them three weeks ago, so the weak-point alert has cases to show. Then what the nightly job would do: the
parameters fitted by EM, mastery and weekly history traced, and the term's four tests (baseline, monthly,
mid-term, final) per subject, with class effects for the value-added page.

Deterministic per seed; bulk inserts (2 × 50 students in well under a second each)."""
from __future__ import annotations

import random
from collections import defaultdict
from datetime import datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.plugin_api import Student, bulk_insert, utcnow
from plugins.learning import bkt, catalogue
from plugins.learning.models import (
    Certificate,
    History,
    Interaction,
    Mastery,
    Push,
    Resource,
    Response,
    Score,
)
from plugins.learning.refit import save

WEEKS = 13
TESTS = (("baseline", 0), ("monthly", 5), ("midterm", 8), ("final", 12))


def fill(sess: so.Session, school_id: int, seed: int) -> None:
    rng = random.Random(f"learning-{seed}-{school_id}")
    catalogue.seed(sess, school_id)
    leaves = [p for p in catalogue.points(sess) if p.parent_code]
    kids = sess.execute(sa.select(Student.id, Student.class_id).where(Student.status_code == "01")
                        .order_by(Student.id)).all()
    if not kids or not leaves:
        return
    start = (utcnow() - timedelta(weeks=WEEKS)).replace(hour=0, minute=0, second=0, microsecond=0)
    start -= timedelta(days=start.weekday())
    truth = {p.code: bkt.Params(prior=rng.uniform(0.15, 0.45), learn=rng.uniform(0.06, 0.2),
                                guess=rng.uniform(0.12, 0.25), slip=rng.uniform(0.04, 0.09)) for p in leaves}
    class_effect = {c: rng.gauss(0, 4) for c in sorted({k.class_id for k in kids})}  # points by the final
    rows, stalls = [], []
    for sid, _class in kids:
        ability = rng.gauss(0, 1)
        stalled = set(rng.sample([p.code for p in leaves], 3)) if rng.random() < 0.06 else set()
        if stalled:
            stalls.append((sid, stalled))
        for p in leaves:
            t = truth[p.code]
            learn = 0.0 if p.code in stalled else min(0.5, max(0.01, t.learn * (1 + 0.4 * ability)))
            known = rng.random() < (0.0 if p.code in stalled else min(0.9, max(0.02, t.prior + 0.1 * ability)))
            for week in range(WEEKS):
                for _ in range(rng.choice((0, 1, 1, 2))):
                    right = rng.random() > t.slip if known else rng.random() < t.guess
                    at = start + timedelta(days=week * 7 + rng.randrange(5), hours=rng.randint(0, 8),
                                           minutes=rng.randrange(60))
                    rows.append({"school_id": school_id, "student_id": sid, "code": p.code, "correct": right,
                                 "occurred_at": at, "record_id": None})
                    if not known and rng.random() < learn:
                        known = True
    rows.sort(key=lambda r: r["occurred_at"])
    bulk_insert(sess, Response, rows)
    _fit(sess, school_id, rows)
    _trace(sess, school_id, rows, start)
    _pushes(sess, school_id, stalls, rng)
    _tests(sess, school_id, kids, class_effect, start, rng)
    _activity(sess, school_id, kids, start, rng)


def _fit(sess: so.Session, school_id: int, rows: list[dict]) -> None:
    """What the nightly refit does, from the rows in hand (one EM start: the demo's data has one optimum)."""
    seqs: dict[str, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        seqs[r["code"]][r["student_id"]].append(int(r["correct"]))
    for code, by_student in seqs.items():
        save(sess, school_id, code, bkt.fit(list(by_student.values()))[0], sum(map(len, by_student.values())))
    sess.flush()


def _trace(sess: so.Session, school_id: int, rows: list[dict], start: datetime) -> None:
    """Mastery now and at the end of each week, from the fitted parameters."""
    from plugins.learning.mastery import params

    prm = params(sess)
    state: dict[tuple, list] = {}
    weekly: dict[tuple, float] = {}
    for r in rows:
        key = (r["student_id"], r["code"])
        p = prm.get(r["code"], bkt.DEFAULT)
        s = state.setdefault(key, [p.prior, 0, 0])
        s[0] = bkt.update(s[0], r["correct"], p)
        s[1] += 1
        s[2] += int(r["correct"])
        weekly[(*key, (r["occurred_at"] - start).days // 7)] = s[0]
    now = utcnow()
    bulk_insert(sess, Mastery, [{"school_id": school_id, "student_id": k[0], "code": k[1], "p": s[0],
                                 "attempts": s[1], "correct": s[2], "updated_at": now} for k, s in state.items()])
    by_key: dict[tuple, dict[int, float]] = defaultdict(dict)
    for (sid, code, week), p in weekly.items():
        by_key[(sid, code)][week] = p
    hist = [{"school_id": school_id, "student_id": sid, "code": code, "week": (start + timedelta(weeks=week)).date(),
             "p": p} for (sid, code), weeks in by_key.items() for week, p in weeks.items()]
    bulk_insert(sess, History, hist)


def _pushes(sess: so.Session, school_id: int, stalls: list, rng: random.Random) -> None:
    resources = list(sess.scalars(sa.select(Resource)))
    mastery = {(m.student_id, m.code): m.p for m in sess.scalars(sa.select(Mastery).where(
        Mastery.student_id.in_([s for s, _ in stalls])))}
    when = utcnow() - timedelta(days=21)
    out = []
    for sid, codes in stalls:
        for code in sorted(codes):
            res = next((r for r in resources if code in r.points), None)
            if res is None or (sid, code) not in mastery:
                continue
            out.append({"school_id": school_id, "student_id": sid, "resource_id": res.id, "code": code,
                        "p_at_push": mastery[(sid, code)], "pushed_at": when,
                        "opened_at": when + timedelta(hours=5) if rng.random() < 0.6 else None})
    bulk_insert(sess, Push, out)


def _tests(sess: so.Session, school_id: int, kids: list, class_effect: dict, start: datetime,
           rng: random.Random) -> None:
    out = []
    for subject in ("math", "chinese"):
        for sid, cid in kids:
            base = min(98.0, max(20.0, rng.gauss(72, 12)))
            for k, (kind, week) in enumerate(TESTS):
                growth = k * 1.5 + k / (len(TESTS) - 1) * class_effect[cid]
                score = min(100.0, max(0.0, base + growth + rng.gauss(0, 5)))
                out.append({"school_id": school_id, "student_id": sid, "class_id": cid, "subject": subject,
                            "test_id": f"{start.year}-{subject}-{kind}", "test_kind": kind,
                            "score": round(score, 1), "occurred_at": start + timedelta(weeks=week, days=2, hours=1)})
    bulk_insert(sess, Score, out)


CERTIFICATES = (("计算机操作员", "中级"), ("汽车维修工", "初级"), ("数控车工", "中级"), ("Web 前端开发（1+X）", "初级"))


def _activity(sess: so.Session, school_id: int, kids: list, start: datetime, rng: random.Random) -> None:
    """Classroom interactions a week per subject; in a vocational school, each student's skill certificate."""
    from foundation.plugin_api import OrgUnit

    rows = []
    for sid, _class in kids:
        keen = rng.random()
        for subject in ("math", "chinese"):
            for week in range(WEEKS):
                for kind, rate in (("answer", 3.0), ("question", 0.8), ("board", 0.4), ("group", 1.0)):
                    n = sum(rng.random() < rate * keen / 4 for _ in range(4))
                    if n:
                        rows.append({"school_id": school_id, "student_id": sid, "subject": subject, "kind": kind,
                                     "week": (start + timedelta(weeks=week)).date(), "count": n})
    bulk_insert(sess, Interaction, rows)
    if sess.scalar(sa.select(OrgUnit.stage).where(OrgUnit.id == school_id)) != "vocational":
        return
    steps = ("registered", "preparing", "preparing", "passed", "passed", "failed")
    bulk_insert(sess, Certificate, [
        {"school_id": school_id, "student_id": sid, "certificate": name, "level": level, "status": rng.choice(steps),
         "updated_at": start + timedelta(days=rng.randrange(WEEKS * 7))}
        for sid, _class in kids for name, level in [rng.choice(CERTIFICATES)]])
