"""Benchmark: the students list API against the same query issued straight through SQLAlchemy.

On PostgreSQL with the demo district (default 100 schools x 1000 students), logged in as the school
admin of school s001, it times two workloads:

  roster  GET /api/v1/students?class_id=<id>          a class roster (~45 rows; classes rotate)
  page    GET /api/v1/students?page=<n>&per_page=50   the school-wide list (pages 1..20 rotate)

each through these variants, interleaved in the same run (order rotated per iteration):

  platform           Flask test client: session cookie -> principal -> tenancy scope -> marshmallow
                     query load -> count + select -> student_view (decrypt + mask) -> StudentOut dump
                     -> JSON -> audit row -> commit
  direct             a plain SQLAlchemy session selecting the same Student rows (same WHERE, ORDER BY,
                     LIMIT/OFFSET; Student.klass is lazy="joined", so the same JOIN), returning them
  direct+decrypt     direct, plus Fernet-decrypt and mask each row's ID number
  direct+view+json   direct, plus services.people.student_view + StudentOut dump + json.dumps (no HTTP)

and prints median / p95 and the ratio of each to "direct". The first run creates and fills the
database (~30 s for 100 x 1000 on 2 cores); later runs reuse it unless --rebuild. Every platform
request adds one audit_log row (one statement at its commit, with the chain's head) (2 x (repeat + warmup) + 2 per run); nothing on this path reads it.

    .venv/bin/python benchmarks/bench_students_api.py                 # defaults below
    .venv/bin/python benchmarks/bench_students_api.py --repeat 500 --profile
"""
from __future__ import annotations

import argparse
import cProfile
import json
import os
import platform
import pstats
import re
import statistics
import sys
import tempfile
import time
from datetime import datetime
from importlib.metadata import version

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation import create_app
from foundation.api.schemas import StudentOut
from foundation.demo import build_demo
from foundation.migrate import upgrade
from foundation.models import Account, Membership, OrgUnit, Student
from foundation.security.fields import cipher_for, mask_id_number
from foundation.services.people import student_view
from foundation.tenancy import unscoped

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/jizuo_bench"
SECRET = "jizuo-bench-secret-not-for-production"
PASSWORD = "Bench-pass-2026"
USERNAME = "s001.admin"
PER_PAGE = 50  # the API's default per_page, so the roster query carries the same LIMIT 50
PLATFORM, DIRECT = "platform (full request)", "direct SQLAlchemy"
ORDER = (Student.school_id, Student.class_id, Student.student_no, Student.id)


def admin_engine(url: sa.URL) -> sa.Engine:
    """An AUTOCOMMIT engine on the server's ``postgres`` database (else ``test``), for CREATE DATABASE."""
    for name in ("postgres", "test"):
        engine = sa.create_engine(url.set(database=name), isolation_level="AUTOCOMMIT")
        try:
            engine.connect().close()
            return engine
        except sa.exc.OperationalError:
            engine.dispose()
    sys.exit(f"cannot reach the 'postgres' or 'test' database of {url.render_as_string()}")


def progress(stage: str, done: int, total: int) -> None:
    if done == total:
        print(f"  {stage}: {total}", flush=True)


def ensure_database(url: str, schools: int, per_school: int, rebuild: bool) -> None:
    """Create, migrate and fill the bench database unless it already holds the requested district."""
    target = sa.make_url(url)
    admin = admin_engine(target)
    with admin.connect() as conn:
        exists = conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database})
        if exists and rebuild:
            conn.exec_driver_sql(f'DROP DATABASE "{target.database}" WITH (FORCE)')
        if not exists or rebuild:
            conn.exec_driver_sql(f'CREATE DATABASE "{target.database}"')
    admin.dispose()
    upgrade(url)  # a no-op when already at head
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        have_schools = conn.scalar(sa.select(sa.func.count()).where(OrgUnit.kind == "school"))
        have_students = conn.scalar(sa.select(sa.func.count()).select_from(Student))
    if have_schools == 0:
        print(f"building demo district: {schools} schools x {per_school} students ...", flush=True)
        t0 = time.perf_counter()
        build_demo(engine, schools=schools, students_per_school=per_school, seed=1, password=PASSWORD,
                   secret_key=SECRET, fast_hash=True, progress=progress)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")  # fresh statistics and visibility map for the planner
        print(f"  built in {time.perf_counter() - t0:.0f} s", flush=True)
    elif (have_schools, have_students) != (schools, schools * per_school):
        sys.exit(f"{target.database} holds {have_schools} schools / {have_students} students, not "
                 f"{schools} / {schools * per_school}: pass --rebuild (or another --database-url)")
    engine.dispose()


def login(client, username: str) -> None:
    """Log in as a browser does (tests/conftest.py AuthActions): CSRF token from the form, then POST."""
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    resp = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
    if resp.status_code != 302:
        sys.exit(f"login as {username} failed: HTTP {resp.status_code}")


def summary(xs: list[float]) -> tuple[float, float]:
    """(median, p95) in milliseconds."""
    return statistics.median(xs) * 1e3, statistics.quantiles(xs, n=20, method="inclusive")[18] * 1e3


def run(variants: dict, repeat: int, warmup: int) -> dict[str, list[float]]:
    """Call every variant with the iteration number, interleaved, rotating which goes first."""
    names, times = list(variants), {name: [] for name in variants}
    for i in range(warmup):
        for name in names:
            variants[name](i)
    for i in range(repeat):
        k = i % len(names)
        for name in names[k:] + names[:k]:
            t0 = time.perf_counter()
            variants[name](i)
            times[name].append(time.perf_counter() - t0)
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--database-url", default=DEFAULT_URL)
    ap.add_argument("--schools", type=int, default=100)
    ap.add_argument("--students-per-school", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=30)
    ap.add_argument("--rebuild", action="store_true", help="drop and rebuild the bench database")
    ap.add_argument("--profile", action="store_true", help="cProfile the platform roster requests afterwards")
    ap.add_argument("--audit-async-reads", action="store_true",
                    help="AUDIT_ASYNC_READ_COMMIT: read-only requests commit their audit rows without waiting for "
                         "the disk (docs/security.md)")
    args = ap.parse_args()
    url = args.database_url
    ensure_database(url, args.schools, args.students_per_school, args.rebuild)

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": SECRET, "PASSWORD_HASH_FAST": True,
                      "INSTANCE_PATH": os.path.join(tempfile.gettempdir(), "jizuo-bench-instance"),
                      "REDIS_URL": None, "AUDIT_ASYNC_READ_COMMIT": args.audit_async_reads})
    client = app.test_client()
    login(client, USERNAME)
    engine = sa.create_engine(url)  # the baseline's own engine: plain defaults, no app
    cipher = cipher_for(SECRET)
    with so.Session(engine) as s:
        unscoped("test setup").mark(s)
        school = s.scalar(sa.select(Membership.school_id).join(Account).where(Account.username == USERNAME))
        classes = s.scalars(sa.select(OrgUnit.id).where(OrgUnit.school_id == school, OrgUnit.kind == "class")
                            .order_by(OrgUnit.id)).all()
        n_students = s.scalar(sa.select(sa.func.count()).where(Student.school_id == school))
        audit_before = s.scalar(sa.text("SELECT count(*) FROM audit_log"))
        pg_version = s.scalar(sa.text("SELECT version()"))
    pages = -(-n_students // PER_PAGE)

    def direct(stmt) -> list[Student]:
        with so.Session(engine) as sess:
            unscoped("test setup").mark(sess)  # the baseline applies the school filter itself, in the WHERE clause
            return sess.scalars(stmt).unique().all()

    base = sa.select(Student).where(Student.school_id == school).order_by(*ORDER).limit(PER_PAGE)
    workloads = {  # name -> (URL of iteration i, statement of iteration i)
        f"roster (class_id, {n_students // len(classes)} rows avg)": (
            lambda i: f"/api/v1/students?class_id={classes[i % len(classes)]}",
            lambda i: base.where(Student.class_id == classes[i % len(classes)])),
        f"page (per_page={PER_PAGE}, {pages} pages)": (
            lambda i: f"/api/v1/students?page={i % pages + 1}&per_page={PER_PAGE}",
            lambda i: base.offset((i % pages) * PER_PAGE)),
    }

    def platform_call(url_of):
        def call(i: int) -> None:
            resp = client.get(url_of(i))
            if resp.status_code != 200:
                sys.exit(f"{url_of(i)}: HTTP {resp.status_code} {resp.get_data(as_text=True)[:300]}")
        return call

    def with_decrypt(stmt_of):
        return lambda i: [mask_id_number(cipher.decrypt(s.id_number_enc)) for s in direct(stmt_of(i))]

    def with_view(stmt_of):
        def call(i: int) -> str:
            rows = direct(stmt_of(i))
            with app.app_context():
                items = StudentOut(many=True).dump([student_view(s) for s in rows])
            return json.dumps(items, ensure_ascii=False)
        return call

    # sanity: the platform returns exactly the rows of the baseline; count what it sends to the database
    statements: list[str] = []

    def count(_conn, _cursor, sql, *_rest) -> None:
        statements.append(sql.split()[0])

    sa.event.listen(app.extensions["jizuo.engine"], "before_cursor_execute", count)
    for url_of, stmt_of in workloads.values():
        statements.clear()
        got = [row["id"] for row in client.get(url_of(3)).get_json()["items"]]
        if got != [s.id for s in direct(stmt_of(3))]:
            sys.exit(f"platform and baseline disagree on {url_of(3)}")
    sa.event.remove(app.extensions["jizuo.engine"], "before_cursor_execute", count)
    sql_per_request = " ".join(statements)

    results = {}
    for label, (url_of, stmt_of) in workloads.items():
        variants = {PLATFORM: platform_call(url_of), DIRECT: lambda i, f=stmt_of: direct(f(i)),
                    "direct + decrypt/mask": with_decrypt(stmt_of),
                    "direct + view/dump/JSON": with_view(stmt_of)}
        results[label] = run(variants, args.repeat, args.warmup)

    with engine.connect() as conn:
        audit_after = conn.scalar(sa.text("SELECT count(*) FROM audit_log"))
    cpuinfo = open("/proc/cpuinfo").read() if os.path.exists("/proc/cpuinfo") else ""
    cpu = next(iter(re.findall(r"model name\s*:\s*(.+)", cpuinfo)), platform.processor())
    print(f"\n{datetime.now():%Y-%m-%d %H:%M}  CPUs: {os.cpu_count()} x {cpu} ({platform.machine()}, "
          f"{platform.system()} {platform.release()})")
    print(f"Python {platform.python_version()}, SQLAlchemy {version('sqlalchemy')}, "
          f"Flask {version('flask')}, marshmallow {version('marshmallow')}, psycopg {version('psycopg')}")
    print(pg_version)
    print(f"database {sa.make_url(url).database}: {args.schools} schools x {args.students_per_school} "
          f"students; as {USERNAME} (school {school}: {len(classes)} classes, {n_students} students); "
          f"repeat {args.repeat}, warmup {args.warmup}; audit read commits "
          f"{'relaxed (AUDIT_ASYNC_READ_COMMIT)' if args.audit_async_reads else 'durable'}; "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"SQL per platform request: {sql_per_request} (+ pool pre-ping, COMMIT)\n")
    print(f"{'workload':<34}{'variant':<27}{'median ms':>10}{'p95 ms':>9}{'x direct':>10}")
    for label, times in results.items():
        ref = summary(times[DIRECT])[0]
        for n, (name, xs) in enumerate(times.items()):
            med, p95 = summary(xs)
            print(f"{label if n == 0 else '':<34}{name:<27}{med:>10.2f}{p95:>9.2f}{med / ref:>9.1f}x")
    for label, times in results.items():
        ratio = statistics.median(times[PLATFORM]) / statistics.median(times[DIRECT])
        print(f"ratio platform/direct, {label}: {ratio:.1f}x")
    print(f"audit_log: {audit_before} rows before this run, {audit_after} after "
          f"(+{audit_after - audit_before})")

    if args.profile:
        url_of = next(iter(workloads.values()))[0]
        prof = cProfile.Profile()
        prof.runcall(lambda: [platform_call(url_of)(i) for i in range(args.repeat)])
        print(f"\ncProfile of {args.repeat} platform roster requests (top 40 by cumulative time):")
        pstats.Stats(prof).sort_stats("cumulative").print_stats(40)
    engine.dispose()
    app.extensions["jizuo.engine"].dispose()


if __name__ == "__main__":
    main()
