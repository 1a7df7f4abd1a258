"""The enrolment forecast and the balanced-development map for a district of N schools (docs/cockpit.md,
"Enrolment forecast and balanced development"): builds a demo district (its planning figures: four school years
per grade, facilities), then times ``district_forecast`` (reads, ratios, forecast, backtest) and
``district_balance`` for every school at district level, and the same reads as one hand-written SQL query each,
in the same run; prints the district's backtest error.

    .venv/bin/python benchmarks/bench_planning.py                          # 100 schools, SQLite file
    .venv/bin/python benchmarks/bench_planning.py --schools 100 --pg postgresql+psycopg://postgres@127.0.0.1:5432/test

With --pg it creates and drops its own database (jizuo_bench_planning) on that server.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import sqlalchemy as sa  # noqa: E402

from foundation.cockpit import balance as B  # noqa: E402
from foundation.cockpit import forecast as F  # noqa: E402
from foundation.db import make_engine  # noqa: E402
from foundation.demo import build_demo  # noqa: E402
from foundation.migrate import upgrade  # noqa: E402
from foundation.tenancy import Scope, set_scope  # noqa: E402


def _timed(fn, rounds: int) -> tuple[float, float]:
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), max(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--schools", type=int, default=100)
    ap.add_argument("--students-per-school", type=int, default=60)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--pg", default=None)
    args = ap.parse_args()
    admin = None
    if args.pg:
        admin = sa.create_engine(args.pg, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(sa.text("DROP DATABASE IF EXISTS jizuo_bench_planning WITH (FORCE)"))
            c.execute(sa.text("CREATE DATABASE jizuo_bench_planning"))
        url = sa.make_url(args.pg).set(database="jizuo_bench_planning").render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    try:
        upgrade(url)
        engine = make_engine(url)
        t = time.perf_counter()
        build_demo(engine, schools=args.schools, students_per_school=args.students_per_school, seed=1,
                   password="Bench-pass-2026", secret_key="bench", fast_hash=True)
        print(f"demo: {args.schools} schools in {time.perf_counter() - t:.1f} s ({engine.dialect.name})")
        with engine.connect() as c:
            rows = c.scalar(sa.text("SELECT count(*) FROM school_enrolments"))
        import sqlalchemy.orm as so

        with so.Session(engine) as sess:
            set_scope(sess, Scope(district_level=True))
            ids = sorted(sess.scalars(sa.text("SELECT id FROM org_units WHERE kind = 'school'"),
                                      execution_options=F.PLANNING))
            got = F.district_forecast(sess, ids, district=True)
            bal = B.district_balance(sess, ids, district=True)
            fc = _timed(lambda: F.district_forecast(sess, ids, district=True), args.rounds)
            bl = _timed(lambda: B.district_balance(sess, ids, district=True), args.rounds)
            sql = _timed(lambda: (sess.execute(sa.text(
                "SELECT school_id, school_year, grade, students FROM school_enrolments"), execution_options=F.PLANNING)
                .all(), sess.execute(sa.text("SELECT * FROM school_facilities"), execution_options=F.PLANNING).all()),
                args.rounds)
        bt = got["backtest"]
        print(f"{rows} enrolment rows; forecast {got['year']}: {len(got['over'])} school(s) over capacity; "
              f"{sum(1 for s in bal['schools'] if s['below'])} below a standard")
        print(f"backtest {bt['years']}: MAE {bt['district']['mae']} students/grade, MAPE {bt['district']['mape']}% "
              f"over {bt['district']['cells']} cells")
        print(f"district_forecast  median {fc[0]:.1f} ms  max {fc[1]:.1f} ms")
        print(f"district_balance   median {bl[0]:.1f} ms  max {bl[1]:.1f} ms")
        print(f"hand SQL (the two tables' rows only)  median {sql[0]:.1f} ms  max {sql[1]:.1f} ms")
        engine.dispose()
    finally:
        if admin is not None:
            with admin.connect() as c:
                c.execute(sa.text("DROP DATABASE IF EXISTS jizuo_bench_planning WITH (FORCE)"))
            admin.dispose()


if __name__ == "__main__":
    main()
