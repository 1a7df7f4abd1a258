"""Points plugin on PostgreSQL with the 100 x 1000 demo district and a term of conduct history:

1. event → readable: a late check-in POSTed to the ingest API (``/api/v1/ingest/attendance``) until the new
   score and rank can be read — from the class board JSON the live page polls, and from the student's archive
   (score, class rank, school rank); with the same ingest while points is disabled for the school, for the
   subscriber's share;
2. rankings: the school-wide ranking of a 1,000-student school and the ranking of the whole district
   (100,000 students) through the plugin (service call and full API request) against hand-written SQL in
   the same run — once over the ledger (SUM + RANK, no cache) and once over the live-score table.

    .venv/bin/python benchmarks/bench_points.py              # jizuo_bench (built by bench_students_api.py)
    .venv/bin/python benchmarks/bench_points.py --repeat 50

First run: installs points for every school of the bench database (district publishes it, rows in
plugin_installs, default rulebook) and fills a term of demo history through the plugin's ``jizuo_demo_data``
hook (COPY); later runs reuse it. Prints median / p95 and the ratios.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

sys.path.insert(0, os.path.dirname(__file__))
from bench_students_api import DEFAULT_URL, SECRET, ensure_database, login, run, summary  # noqa: E402

from foundation import create_app, db  # noqa: E402
from foundation.migrate import upgrade  # noqa: E402
from foundation.models import AppListing, DataSource, OrgUnit, PluginInstall, Student  # noqa: E402
from foundation.plugin_runtime import demo_data  # noqa: E402
from foundation.tenancy import unscoped  # noqa: E402

USERNAME = "s001.admin"
LEDGER_SQL = """SELECT s.id, {start} + COALESCE(SUM(e.points), 0) AS score,
  RANK() OVER ({part} ORDER BY {start} + COALESCE(SUM(e.points), 0) DESC) AS rank
FROM students s LEFT JOIN points_entries e ON e.student_id = s.id AND e.term_start = :term
WHERE s.school_id = ANY(:schools) AND s.status_code = '01' GROUP BY s.id, s.school_id"""
SCORES_SQL = """SELECT s.id, COALESCE(p.score, {start}) AS score,
  RANK() OVER ({part} ORDER BY COALESCE(p.score, {start}) DESC) AS rank
FROM students s LEFT JOIN points_scores p ON p.student_id = s.id AND p.term_start = :term
WHERE s.school_id = ANY(:schools) AND s.status_code = '01'"""


def setup(app) -> list[int]:
    """Points installed and enabled in every school, with a term of history (idempotent)."""
    from foundation.services import square

    host = app.extensions["jizuo.plugins"]
    with app.app_context():
        sess = unscoped("test setup").mark(db.session())
        schools = sorted(sess.scalars(sa.select(OrgUnit.id).where(OrgUnit.kind == "school")))
        square.list_plugins(sess, host.loaded)
        listing = sess.scalar(sa.select(AppListing).where(AppListing.key == "points"))
        if listing.status != "published":
            for action in ("review", "publish"):
                square.step(sess, listing, action, account_id=None, name="bench", reason=None)
        have = set(sess.scalars(sa.select(PluginInstall.school_id).where(PluginInstall.plugin == "points")))
        version = host.loaded["points"].manifest["version"]
        for school in schools:
            if school not in have:
                sess.add(PluginInstall(plugin="points", school_id=school, version=version, enabled=True,
                                       config={}, installed_by=None))
                sess.flush()
                host.call("points", "jizuo_install", school_id=school, config={})
        sess.execute(sa.update(PluginInstall).where(PluginInstall.plugin == "points").values(enabled=True))
        if sess.scalar(sa.select(DataSource.id).where(DataSource.code == "classroom_terminal")) is None:
            sess.add(DataSource(code="classroom_terminal", name="班牌考勤"))
        sess.commit()
        if not sess.scalar(sa.text("SELECT count(*) FROM points_entries WHERE source = 'attendance'")):
            print("filling a term of conduct history for every student ...", flush=True)
            t0 = time.perf_counter()
            demo_data("points", schools, seed=1)
            with app.extensions["jizuo.engine"].connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.exec_driver_sql("VACUUM ANALYZE points_entries")
                c.exec_driver_sql("VACUUM ANALYZE points_scores")
            print(f"  filled in {time.perf_counter() - t0:.0f} s", flush=True)
    return schools


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--database-url", default=DEFAULT_URL)
    ap.add_argument("--repeat", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=10)
    args = ap.parse_args()
    url = args.database_url
    ensure_database(url, 100, 1000, False)
    upgrade(url)  # the points branch
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": SECRET, "PASSWORD_HASH_FAST": True, "REDIS_URL": None,
                      "INSTANCE_PATH": os.path.join(tempfile.gettempdir(), "jizuo-bench-instance")})
    schools = setup(app)
    client = app.test_client()
    login(client, USERNAME)
    csrf = client.get("/api/v1/me").get_json()["csrf_token"]
    engine = app.extensions["jizuo.engine"]
    with engine.connect() as conn:
        school = conn.scalar(sa.text("SELECT school_id FROM memberships m JOIN accounts a ON a.id = m.account_id"
                                     " WHERE a.username = :u"), {"u": USERNAME})
        kids = conn.execute(sa.select(Student.id, Student.student_no, Student.class_id)
                            .where(Student.school_id == school).order_by(Student.id)).all()
        term = conn.scalar(sa.text("SELECT body->'term'->>'start' FROM points_rulebooks WHERE school_id = :s"
                                   " ORDER BY version DESC LIMIT 1"), {"s": school})
        entries = conn.scalar(sa.text("SELECT count(*) FROM points_entries"))
        pg_version = conn.scalar(sa.text("SELECT version()"))
    print(f"{len(schools)} schools, {entries:,} ledger entries; school {school}: {len(kids)} students; {pg_version}")
    run_id = uuid.uuid4().hex[:8]
    headers = {"X-CSRFToken": csrf}

    def ingest(i: int, tag: str) -> tuple:
        kid = kids[(i * 37 + len(tag)) % len(kids)]
        when = (datetime.now(UTC) - timedelta(seconds=30)).isoformat()
        resp = client.post("/api/v1/ingest/attendance?source=classroom_terminal", headers=headers, json=[
            {"source_id": f"bench-{run_id}-{tag}-{i}", "student": kid.student_no, "occurred_at": when,
             "status": "late"}])
        if resp.status_code != 200 or resp.get_json()["created"] != 1:
            sys.exit(f"ingest: HTTP {resp.status_code} {resp.get_data(as_text=True)[:300]}")
        return kid

    timings: dict[str, list[float]] = {k: [] for k in ("ingest (points on)", "board JSON read", "archive read",
                                                       "event → board readable", "event → archive readable",
                                                       "ingest (points off)")}
    for i in range(args.warmup + args.repeat):
        t0 = time.perf_counter()
        kid = ingest(i, "on")
        t1 = time.perf_counter()
        board = client.get(f"/points/api/classes/{kid.class_id}/board").get_json()
        t2 = time.perf_counter()
        row = next(r for r in board["items"] if r["student_id"] == kid.id)
        t3 = time.perf_counter()
        got = client.get(f"/points/api/students/{kid.id}").get_json()
        t4 = time.perf_counter()
        assert got["score"] == row["score"] and got["class_rank"] == row["rank"] and got["school_rank"]
        assert got["entries"][0]["source"] == "attendance", got["entries"][0]
        if i >= args.warmup:
            for key, value in (("ingest (points on)", t1 - t0), ("board JSON read", t2 - t1), ("archive read", t4 - t3),
                               ("event → board readable", t2 - t0), ("event → archive readable", (t1 - t0) + (t4 - t3))):
                timings[key].append(value)
    with engine.begin() as conn:  # the same ingest with the plugin switched off for the school
        conn.execute(sa.update(PluginInstall).where(PluginInstall.plugin == "points", PluginInstall.school_id == school)
                     .values(enabled=False))
    try:
        for i in range(args.warmup + args.repeat):
            t0 = time.perf_counter()
            ingest(i, "off")
            if i >= args.warmup:
                timings["ingest (points off)"].append(time.perf_counter() - t0)
    finally:
        with engine.begin() as conn:
            conn.execute(sa.update(PluginInstall).where(PluginInstall.plugin == "points",
                                                        PluginInstall.school_id == school).values(enabled=True))
    print("\n== event at the ingest API -> new score and rank readable (ms) ==")
    print(f"{'step':<28}{'median':>10}{'p95':>10}")
    for key, xs in timings.items():
        med, p95 = summary(xs)
        print(f"{key:<28}{med:>10.2f}{p95:>10.2f}")
    on, off = summary(timings["ingest (points on)"])[0], summary(timings["ingest (points off)"])[0]
    print(f"ingest with points / without: {on / off:.2f}x")
    rankings(app, client, engine, school, schools, term, args.repeat)


def rankings(app, client, engine, school: int, schools: list[int], term: str, repeat: int) -> None:
    from plugins.points import standing

    def service(ids, level):
        def call(_i):  # the plugin ranks what its session sees: one school (acting for it), or the district
            with app.app_context():
                sess = unscoped("benchmark: the district's ranking").mark(db.session())
                if len(ids) == 1:
                    with unscoped("benchmark: acting for one school").for_school(sess, ids[0]):
                        return standing.ranking(sess, ids, level)
                return standing.ranking(sess, ids, level)
        return call

    def hand(sql, ids, part):
        stmt = sa.text(sql.format(start=1000, part=part))

        def call(_i):
            with engine.connect() as conn:
                return conn.execute(stmt, {"term": term, "schools": ids}).all()
        return call

    def api(_i):
        resp = client.get("/points/api/rankings?level=school")
        assert resp.status_code == 200
        return resp.get_json()["items"]

    for label, ids, level, part, n in (("school (1,000 students)", [school], "school", "PARTITION BY s.school_id", repeat),
                                       ("district (100,000 students)", schools, "district", "", max(5, repeat // 10))):
        mine = {r["student_id"]: (r["score"], r["rank"]) for r in service(ids, level)(0)}
        for sql in (LEDGER_SQL, SCORES_SQL):
            theirs = {r[0]: (r[1], r[2]) for r in hand(sql, ids, part)(0)}
            assert mine == theirs, f"{label}: the plugin's ranking differs from hand-written SQL"
        variants = {"plugin service (standing.ranking)": service(ids, level),
                    "hand SQL over the ledger (SUM+RANK)": hand(LEDGER_SQL, ids, part),
                    "hand SQL over live scores (RANK)": hand(SCORES_SQL, ids, part)}
        if level == "school":
            variants["plugin API request (JSON)"] = api
        times = run(variants, n, 3)
        base = summary(times["hand SQL over live scores (RANK)"])[0]
        ledger = summary(times["hand SQL over the ledger (SUM+RANK)"])[0]
        print(f"\n== ranking: {label}, results identical to both hand-written queries ({n} rounds, ms) ==")
        print(f"{'variant':<40}{'median':>10}{'p95':>10}{'x scores SQL':>14}{'x ledger SQL':>14}")
        for name, xs in times.items():
            med, p95 = summary(xs)
            print(f"{name:<40}{med:>10.2f}{p95:>10.2f}{med / base:>13.2f}x{med / ledger:>13.2f}x")


if __name__ == "__main__":
    main()
