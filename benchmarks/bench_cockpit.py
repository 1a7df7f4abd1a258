"""The district cockpit (局长看板) on PostgreSQL: the district admin's home, every figure of every school, for
a demo district with every capability plugin installed in every school and its demo data (a term of it).

In the same run, alternating, ``--repeat`` times:

- cold: the cache emptied (``DELETE FROM cockpit_figures``), then ``GET /`` as the district admin — every
  figure computed school by school, rolled up, suppressed, cached, the page drawn;
- cached: ``GET /`` again (every cell fresh in the cache: one read, the suppression, the page);
- stale: every cached cell marked stale (as a day of events does), ``GET /`` — answered from the cache while a
  thread recomputes — and how long until that background refresh is done;
- the same four core figures (students per class, classes per grade with their mean size, staff per subject,
  open alert cases by level, category and grade): through the pipeline, cold, for every school; and by
  hand-written SQL, one grouped statement per figure over the whole district.

    .venv/bin/python benchmarks/bench_cockpit.py --schools 20 --students 1000        # builds jizuo_bench_cockpit20
    .venv/bin/python benchmarks/bench_cockpit.py --schools 100 --students 1000 --no-plugins   # core figures only

Prints how long the district took to build and fill, then the median (and min) of each measurement.
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time

import sqlalchemy as sa

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench_students_api import PASSWORD, SECRET, ensure_database  # noqa: E402

from foundation import create_app, db  # noqa: E402
from foundation.models import OrgUnit, PluginInstall  # noqa: E402
from foundation.plugin_runtime import demo_data  # noqa: E402
from foundation.tenancy import unscoped  # noqa: E402

PLUGINS = ("points", "aid", "wellbeing", "learning", "afterschool")
CORE = ["core.students", "core.classes", "core.staff", "core.alerts_open"]
SQL = {
    "core.students": """SELECT s.school_id, g.name, k.name, count(*) FROM students s
        JOIN org_units k ON k.id = s.class_id LEFT JOIN org_units g ON g.id = k.parent_id
        WHERE s.status_code = '01' GROUP BY s.school_id, g.name, k.name""",
    "core.classes": """WITH size AS (SELECT class_id, count(*) AS n FROM students WHERE status_code = '01' GROUP BY class_id)
        SELECT k.school_id, g.name, count(*), round(avg(coalesce(size.n, 0)), 1) FROM org_units k
        LEFT JOIN org_units g ON g.id = k.parent_id LEFT JOIN size ON size.class_id = k.id
        WHERE k.kind = 'class' AND (k.class_type IS NULL OR k.class_type = 'homeroom') GROUP BY k.school_id, g.name""",
    "core.staff": """SELECT school_id, coalesce(nullif(subject, ''), '其他'), count(*) FROM staff WHERE active
        GROUP BY school_id, coalesce(nullif(subject, ''), '其他')""",
    "core.alerts_open": """SELECT c.school_id, c.level, c.category, g.name, count(*) FROM alert_cases c
        LEFT JOIN org_units k ON k.id = c.class_id LEFT JOIN org_units g ON g.id = k.parent_id
        WHERE c.closed_at IS NULL AND c.parent_case_id IS NULL AND NOT c.sensitive
        GROUP BY c.school_id, c.level, c.category, g.name""",
}


def fill(app, schools: list[int]) -> None:
    """Every capability plugin installed and enabled in every school, and its demo data (once)."""
    host = app.extensions["jizuo.plugins"]
    with app.app_context():
        sess = unscoped("bench setup").mark(db.session())
        sess.execute(sa.text("CREATE TABLE IF NOT EXISTS bench_cockpit_filled (plugin text PRIMARY KEY)"))
        done = set(sess.scalars(sa.text("SELECT plugin FROM bench_cockpit_filled")))
        sess.commit()
        for plugin in PLUGINS:
            if plugin in done or plugin not in host.loaded:
                continue
            t0 = time.perf_counter()
            have = set(sess.scalars(sa.select(PluginInstall.school_id).where(PluginInstall.plugin == plugin)))
            version = host.loaded[plugin].manifest["version"]
            for school in schools:
                if school not in have:
                    sess.add(PluginInstall(plugin=plugin, school_id=school, version=version, enabled=True,
                                           config={}, installed_by=None))
                    sess.flush()
                    host.call(plugin, "jizuo_install", school_id=school, config={})
            sess.commit()
            demo_data(plugin, schools, seed=1)
            sess.execute(sa.text("INSERT INTO bench_cockpit_filled VALUES (:p)"), {"p": plugin})
            sess.commit()
            print(f"  {plugin}: installed and filled in {time.perf_counter() - t0:.0f} s", flush=True)
    with app.extensions["jizuo.engine"].connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")


def login(client) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    resp = client.post("/login", data={"username": "district.admin", "password": PASSWORD, "csrf_token": token})
    assert resp.status_code == 302, resp.status_code


def empty_cache(app) -> None:
    with app.extensions["jizuo.engine"].begin() as conn:
        conn.exec_driver_sql("DELETE FROM cockpit_figures")


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--schools", type=int, default=20)
    ap.add_argument("--students", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--database-url", default=None)
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--no-plugins", action="store_true",
                    help="core figures only (no plugin installed): the pipeline's own scaling to 100 schools")
    args = ap.parse_args()
    url = args.database_url or ("postgresql+psycopg://postgres@127.0.0.1:5432/jizuo_bench_cockpit"
                                f"{args.schools}{'core' if args.no_plugins else ''}")
    t0 = time.perf_counter()
    ensure_database(url, args.schools, args.students, args.rebuild)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": SECRET, "PASSWORD_HASH_FAST": True, "REDIS_URL": None,
                      "INSTANCE_PATH": tempfile.mkdtemp(prefix="jizuo-bench-")})
    with app.app_context():
        schools = sorted(unscoped("bench").mark(db.session()).scalars(
            sa.select(OrgUnit.id).where(OrgUnit.kind == "school")))
    if not args.no_plugins:
        fill(app, schools)
    print(f"district ready: {len(schools)} schools x {args.students} students, {time.perf_counter() - t0:.0f} s "
          "(build and fill, 0 when reused)", flush=True)

    client = app.test_client()
    login(client)

    def page() -> None:
        resp = client.get("/")
        assert resp.status_code == 200 and "cockpit-side" in resp.get_data(as_text=True), resp.status_code

    def pipeline_core() -> None:
        from foundation.cockpit import pipeline
        from foundation.cockpit.periods import parse

        with app.test_request_context():
            sess = unscoped("bench").mark(db.session())
            specs = [s for s in pipeline.specs() if s.key in CORE]
            rows = pipeline.gather(sess, specs, schools, parse(None), force=True)
            names = [(s, str(s)) for s in schools]
            for spec in specs:
                pipeline.district_table(spec, names, rows, "zh")
            sess.rollback()

    def sql_core() -> None:
        with app.extensions["jizuo.engine"].connect() as conn:
            for stmt in SQL.values():
                conn.exec_driver_sql(stmt).all()

    def stale_then_wait() -> float:
        """Every cached cell marked stale (as a busy day's events do), ``GET /`` timed: the page answers from
        the cache and the background refresh recomputes; returns how long until it has."""
        with app.extensions["jizuo.engine"].begin() as conn:
            conn.exec_driver_sql("UPDATE cockpit_figures SET stale = true")
        t0 = time.perf_counter()
        runs["stale page (answered)"].append(timed(page))
        while True:
            with app.extensions["jizuo.engine"].connect() as conn:
                if not conn.exec_driver_sql("SELECT count(*) FROM cockpit_figures WHERE stale").scalar():
                    return time.perf_counter() - t0
            time.sleep(0.2)

    runs: dict[str, list[float]] = {"cold page": [], "cached page": [], "stale page (answered)": [],
                                    "background refresh done": [], "4 core figures, pipeline": [],
                                    "4 core figures, SQL": []}
    page()  # warm the process (imports, templates, plan caches) once
    for _ in range(args.repeat):
        empty_cache(app)
        runs["cold page"].append(timed(page))
        runs["cached page"].append(timed(page))
        runs["background refresh done"].append(stale_then_wait())
        runs["4 core figures, pipeline"].append(timed(pipeline_core))
        runs["4 core figures, SQL"].append(timed(sql_core))
    with app.extensions["jizuo.engine"].connect() as conn:
        cached = conn.exec_driver_sql("SELECT count(*), count(DISTINCT figure) FROM cockpit_figures").one()
    print(f"cache: {cached[0]} rows, {cached[1]} figures")
    for name, xs in runs.items():
        print(f"{name:28s} median {statistics.median(xs) * 1000:8.0f} ms   min {min(xs) * 1000:8.0f} ms")
    ratio = statistics.median(runs["4 core figures, pipeline"]) / statistics.median(runs["4 core figures, SQL"])
    print(f"pipeline / SQL for the 4 core figures: {ratio:.1f}x; cold page goal < 2000 ms: "
          f"{'met' if statistics.median(runs['cold page']) < 2 else 'not met'}")


if __name__ == "__main__":
    main()
