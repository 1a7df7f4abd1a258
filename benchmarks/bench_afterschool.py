"""After-school selection on PostgreSQL (docs/afterschool.md, "Figures"):

1. the rush: every parent of a 2,000-student school chooses two courses (five 20-seat courses wanted by
   everyone, 40 double clicks, 200 clashing pairs) over HTTP against gunicorn (3 workers, the plugin's whole
   path: session, CSRF, reach, the checks, the conditional seat UPDATE, audit), at 50 concurrent clients — and
   the same conditional inserts written by hand in SQL (one transaction per request, a savepoint per course,
   50 threads on 50 connections), on the same tables reset between the two, in the same run: selections per
   second, p50 / p95 latency, and the ratio;
2. the lottery: ``allocate`` for 10,000 applicants (three preferences each) over 200 courses, and its re-run.

    .venv/bin/python benchmarks/bench_afterschool.py                     # 2,000 parents, 50 clients
    .venv/bin/python benchmarks/bench_afterschool.py --students 1000 --clients 50 --applicants 10000

Builds its own database (jizuo_bench_afterschool, dropped afterwards) with tests/afterschool/rush.py.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import psycopg  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from plugins.afterschool.lottery import allocate, digest  # noqa: E402
from tests.afterschool import rush  # noqa: E402

ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _exec(url: str, sql: str) -> None:
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(sql))
    engine.dispose()


def reset(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for table in ("afterschool_busy", "afterschool_queue", "afterschool_choices"):
            conn.execute(sa.text(f"DELETE FROM {table}"))
        conn.execute(sa.text("UPDATE afterschool_courses SET enrolled = 0"))
    engine.dispose()


def by_hand(w: rush.World, jobs: list, clients: int) -> list[dict]:
    """The same conditional inserts, written by hand: per request one transaction, per course a savepoint with
    the seat UPDATE … WHERE enrolled < capacity, the choice INSERT and its slots (or its waiting ticket)."""
    dsn = sa.make_url(w.url).set(drivername="postgresql").render_as_string(hide_password=False)
    engine = sa.create_engine(w.url)
    with engine.connect() as conn:
        meta = {r.id: (r.slots, r.term) for r in conn.execute(sa.text("SELECT id, slots, term FROM afterschool_courses"))}
    engine.dispose()
    local = threading.local()

    def one(job) -> dict:
        i, courses = job
        _acct, child, _cookie, _csrf = w.parents[i]
        if not hasattr(local, "conn"):
            local.conn = psycopg.connect(dsn)
        conn = local.conn
        start = time.perf_counter()
        outcomes = []
        with conn.transaction():
            taken = {r[0] for r in conn.execute("SELECT rank FROM afterschool_choices WHERE window_id = %s AND "
                                                 "student_id = %s", (w.window, child))}
            for c in courses:
                free = [r for r in (1, 2) if r not in taken]
                if not free:
                    outcomes.append("refused")
                    continue
                try:
                    with conn.transaction():
                        seated = conn.execute("UPDATE afterschool_courses SET enrolled = enrolled + 1 WHERE id = %s AND "
                                              "enrolled < capacity RETURNING id", (c,)).fetchone() is not None
                        cid = conn.execute(
                            "INSERT INTO afterschool_choices (school_id, student_id, window_id, course_id, rank, status, "
                            "created_at) VALUES (%s, %s, %s, %s, %s, %s, now()) RETURNING id",
                            (w.school, child, w.window, c, free[0], "enrolled" if seated else "waiting")).fetchone()[0]
                        if seated:
                            slots, term = meta[c]
                            conn.cursor().executemany(
                                "INSERT INTO afterschool_busy (school_id, student_id, term, weekday, period, course_id) "
                                "VALUES (%s, %s, %s, %s, %s, %s)", [(w.school, child, term, d, p, c) for d, p in slots])
                        else:
                            conn.execute("INSERT INTO afterschool_queue (school_id, course_id, choice_id, ticket) "
                                         "VALUES (%s, %s, %s, %s)", (w.school, c, cid, cid))
                    taken.add(free[0])
                    outcomes.append("enrolled" if seated else "waiting")
                except psycopg.errors.UniqueViolation:
                    outcomes.append("refused")
        return {"ms": (time.perf_counter() - start) * 1000, "status": 200, "outcomes": outcomes}

    with ThreadPoolExecutor(clients) as pool:
        return list(pool.map(one, jobs))


def summary(name: str, answers: list[dict], took: float) -> dict:
    ms = [a["ms"] for a in answers]
    out = {"requests": len(answers), "seconds": round(took, 2), "per_second": round(len(answers) / took, 1),
           "p50_ms": round(rush.percentile(ms, 0.5), 1), "p95_ms": round(rush.percentile(ms, 0.95), 1)}
    print(f"{name:<28} {out['requests']} requests in {out['seconds']} s: {out['per_second']}/s, "
          f"p50 {out['p50_ms']} ms, p95 {out['p95_ms']} ms")
    return out


def lottery(applicants: int, courses: int, seed: str = "bench") -> None:
    rng = random.Random(5)
    inputs = {"max": 2, "courses": {str(c): {"seats": rng.randint(10, 40), "slots": [[c % 5 + 1, c % 2 + 1]]}
                                    for c in range(courses)},
              "applicants": [{"student": s, "prefs": rng.sample(range(courses), 3), "tier": int(rng.random() < 0.05),
                              "busy": []} for s in range(applicants)]}
    start = time.perf_counter()
    outcome, steps = allocate(inputs, seed)
    took = time.perf_counter() - start
    start = time.perf_counter()
    again, _ = allocate(inputs, seed)
    rerun = time.perf_counter() - start
    placed = sum(1 for v in outcome.values() if v[0] == "enrolled")
    print(f"lottery: {applicants} applicants x 3 preferences over {courses} courses: {took:.2f} s "
          f"({placed} places, {len(steps)} steps); re-run {rerun:.2f} s, same: {digest(again) == digest(outcome)}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--students", type=int, default=2000)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--workers", type=int, default=3)
    ap.add_argument("--applicants", type=int, default=10000)
    ap.add_argument("--courses", type=int, default=200)
    args = ap.parse_args()
    lottery(args.applicants, args.courses)
    name = "jizuo_bench_afterschool"
    _exec(ADMIN, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _exec(ADMIN, f'CREATE DATABASE "{name}"')
    url = sa.make_url(ADMIN).set(database=name).render_as_string(hide_password=False)
    proc = None
    with tempfile.TemporaryDirectory() as instance:
        try:
            w = rush.build(url, "bench-secret-not-for-production", args.students, instance)
            jobs = rush.plan(w)
            proc, base = rush.serve(w, instance, workers=args.workers)
            rush.drive(w, base, jobs[:100], clients=args.clients)  # warm the workers up
            reset(url)
            start = time.monotonic()
            answers = rush.drive(w, base, jobs, clients=args.clients)
            plugin = summary(f"plugin over HTTP ({args.workers}w)", answers, time.monotonic() - start)
            print("  checks:", rush.check(url, answers))
            reset(url)
            start = time.monotonic()
            hand = by_hand(w, jobs, args.clients)
            sql = summary("the same inserts in SQL", hand, time.monotonic() - start)
            print(f"ratio plugin/SQL: throughput {sql['per_second'] / plugin['per_second']:.1f}x lower, "
                  f"p95 {plugin['p95_ms'] / max(sql['p95_ms'], 0.1):.1f}x")
        finally:
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=20)
            _exec(ADMIN, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
