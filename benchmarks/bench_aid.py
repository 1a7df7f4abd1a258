"""Aid identification speed on PostgreSQL: one month of card and canteen records for a demo district (the demo's
habits, plugins/aid/demo.py), then, in the same run, alternating:

- platform: the plugin's identification for every school, as the daily job runs it (``identify``: grouped
  aggregates through ``records(...).aggregate`` on the month's school days, the exclusions, the group
  averages, the indicators written) — each school acting for itself; once the schools one after another,
  once shared by ``--workers`` job workers (3: as many processes as PostgreSQL gives the one statement);
- SQL: one hand-written statement computing the same indicators for the whole district (meals, canteen days,
  cheapest meals, transactions, spend, distinct cards, first payment, per school day, against the
  grade-and-boarding average by window functions).

    .venv/bin/python benchmarks/bench_aid.py --schools 20 --students 1000      # builds jizuo_bench_aid once
    .venv/bin/python benchmarks/bench_aid.py --schools 100 --students 1000 --database-url …/jizuo_bench_aid100

Prints rows, the median of ``--repeat`` runs of each and the ratio.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench_students_api import SECRET, ensure_database  # noqa: E402

from foundation import create_app, db  # noqa: E402
from foundation.models import OrgUnit, PluginInstall, Record, Student  # noqa: E402
from foundation.plugin_api import demo_records, school_calendar  # noqa: E402
from foundation.tenancy import unscoped  # noqa: E402
from plugins.aid import identify as ident  # noqa: E402
from plugins.aid.demo import cohort, day_rows  # noqa: E402

SQL = """
WITH m AS (
  SELECT subject_id AS sid, count(*) AS meals,
         count(DISTINCT (occurred_at + interval '8 hours')::date) AS days,
         count(*) FILTER (WHERE (data->>'is_cheapest')::boolean) AS cheap
  FROM records WHERE library = 'canteen_meal' AND deleted_at IS NULL AND subject_kind = 'student'
   AND school_id = ANY(:schools) AND occurred_at >= :since AND occurred_at < :until
   AND (occurred_at + interval '8 hours')::date = ANY(:days)
  GROUP BY subject_id),
c AS (
  SELECT subject_id AS sid, count(*) AS n, sum((data->>'amount')::numeric(14,2)) AS spend,
         count(DISTINCT data->>'card_no') AS cards, min(occurred_at) AS first
  FROM records WHERE library = 'card_transaction' AND deleted_at IS NULL AND subject_kind = 'student'
   AND school_id = ANY(:schools) AND occurred_at >= :since AND occurred_at < :until
   AND (occurred_at + interval '8 hours')::date = ANY(:days)
  GROUP BY subject_id),
f AS (
  SELECT s.id, s.school_id, g.parent_id AS grade, s.boarding, coalesce(m.meals, 0) AS meals,
         coalesce(m.days, 0) AS days, coalesce(m.cheap, 0) AS cheap, coalesce(c.n, 0) AS n,
         coalesce(c.spend, 0) / :nd AS spend_per_day, coalesce(m.meals, 0)::numeric / :nd AS meals_per_day,
         c.spend / nullif(c.n, 0) AS mean_txn, c.cards, c.first
  FROM students s LEFT JOIN org_units g ON g.id = s.class_id LEFT JOIN m ON m.sid = s.id LEFT JOIN c ON c.sid = s.id
  WHERE s.school_id = ANY(:schools) AND s.status_code = '01')
SELECT f.*, avg(spend_per_day) OVER w AS group_spend, avg(meals_per_day) OVER w AS group_meals
FROM f WINDOW w AS (PARTITION BY school_id, grade, boarding)
"""


def fill(app, schools: list[int], month: str, seed: int) -> int:
    """One month of records for every school (skipped when the month is already there)."""
    first, last = ident.month_days(month)
    with app.app_context():
        sess = unscoped("bench setup").mark(db.session())
        have = sess.scalar(sa.select(sa.func.count()).select_from(Record).where(
            Record.library == "card_transaction", Record.source == "demo"))
        if have:
            return sess.scalar(sa.select(sa.func.count()).select_from(Record).where(
                Record.library.in_(("card_transaction", "canteen_meal"))))
        total = 0
        for school in schools:
            if sess.scalar(sa.select(PluginInstall.id).where(PluginInstall.plugin == "aid",
                                                             PluginInstall.school_id == school)) is None:
                sess.add(PluginInstall(plugin="aid", school_id=school, version="0.1.0", enabled=True, config={}))
            with unscoped("bench setup").for_school(sess, school):
                rng = random.Random(seed * 7919 + school)
                students = ident.roster(sess)
                truth = cohort(students, rng)
                clock = school_calendar(sess, school)
                days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
                meals, pays = [], []
                for sid in sorted(students):
                    for d in days:
                        if clock.is_school_day(d):
                            m, p = day_rows(sid, truth[sid], students[sid]["boarding"], d, rng, clock.tz,
                                            f"{sid:09d}", 1.0)
                            meals += m
                            pays += p
                total += demo_records(sess, "canteen_meal", meals) + demo_records(sess, "card_transaction", pays)
            sess.commit()
            print(f"  school {school}: {total:,} rows so far", flush=True)
        with app.extensions["jizuo.engine"].connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE records")
        return total


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/jizuo_bench_aid")
    ap.add_argument("--schools", type=int, default=20)
    ap.add_argument("--students", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=3, help="job workers sharing the schools (the SQL's 1 + 2)")
    args = ap.parse_args()
    ensure_database(args.database_url, args.schools, args.students, False)
    app = create_app({"DATABASE_URL": args.database_url, "SECRET_KEY": SECRET, "REDIS_URL": None,
                      "INSTANCE_PATH": tempfile.mkdtemp()})
    today = datetime.now(UTC).date()
    month = f"{today.replace(day=1) - timedelta(days=1):%Y-%m}"
    with app.app_context():
        sess = unscoped("bench").mark(db.session())
        schools = sorted(sess.scalars(sa.select(OrgUnit.id).where(OrgUnit.kind == "school")))
    rows = fill(app, schools, month, args.seed)
    first, last = ident.month_days(month)
    def job(part: list[int]) -> None:
        """The daily job for some schools, in a worker of its own (its own connection)."""
        with app.app_context():
            sess = unscoped("bench: the daily job").mark(db.session())
            for school in part:
                with unscoped("bench: the daily job").for_school(sess, school):
                    ident.identify(sess, school, month)
                sess.commit()

    def platform(workers: int) -> None:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(job, [schools[i::workers] for i in range(workers)]))

    times: dict[str, list[float]] = {"serial": [], "parallel": [], "sql": []}
    with app.app_context():
        sess = unscoped("bench").mark(db.session())
        win = ident.Window(school_calendar(sess, schools[0]), first, last)
        params = {"schools": schools, "since": win.since, "until": win.until, "nd": len(win.days),
                  "days": list(win.days)}
        order = list(times)
        for i in range(args.repeat):
            for which in order[i % 3:] + order[:i % 3]:
                t0 = time.perf_counter()
                if which == "sql":
                    n = len(sess.execute(sa.text(SQL), params).all())
                    sess.rollback()
                else:
                    platform(1 if which == "serial" else args.workers)
                times[which].append(time.perf_counter() - t0)
        students = sess.scalar(sa.select(sa.func.count()).select_from(Student))
    serial, par, s = (statistics.median(times[k]) for k in ("serial", "parallel", "sql"))
    print(f"{len(schools)} schools, {students:,} students, {rows:,} card and canteen rows, month {month}, "
          f"{len(win.days)} school days; median of {args.repeat}")
    print(f"  platform, the schools one after another (identify, indicators written): {serial:8.2f} s  "
          f"ratio {serial / s:.2f}")
    print(f"  platform, {args.workers} workers sharing the schools:                       {par:8.2f} s  "
          f"ratio {par / s:.2f}")
    print(f"  hand-written SQL aggregate (one statement, {n:,} rows; PostgreSQL's parallel workers): {s:8.2f} s")


if __name__ == "__main__":
    main()
