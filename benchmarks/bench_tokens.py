"""Benchmark: the OIDC token endpoint (client credentials) and the students API called with bearer tokens.

Same database, secret and school admin as bench_students_api.py (run that first, or this builds the
database the same way). It registers a confidential client for the school of s001.admin (grant
client_credentials, scope students.read; later runs reuse it and rotate its secret), then times:

  token, test client   POST /oauth/token grant_type=client_credentials (HTTP Basic), N times in a row
                       through Flask's test client: tokens/s, median / p95
  token, HTTP          the same over real HTTP, as a district deploys it: gunicorn started by this script
                       on 127.0.0.1 (--gunicorn-workers processes, gthread, --threads each; the app made
                       by gunicorn_app() below from JIZUO_BENCH_* variables), and a ThreadPoolExecutor of
                       --workers clients each with its own requests.Session (keep-alive) in this process;
                       --http-requests requests (stopped after 60 s): tokens/s, median / p95.
                       --server waitress runs the previous setup (waitress threads=8 in a thread here).
  roster               GET /api/v1/students?class_id=<id> (classes rotate), authorised by
                         bearer (client)  the client-credentials token (school client, students.read)
                         bearer (user)    an access token of s001.admin (oidc.tokens.issue_for_account)
                         cookie           the session cookie of s001.admin (/login)
                       interleaved (order rotated), after checking all three return the same ids

OIDC_ISSUER is set to http://localhost (the test client's host). Every token request stores one
oidc_tokens row (kept; nothing here reads them but by jti); every roster request one audit_log row.

    .venv/bin/python benchmarks/bench_tokens.py                 # defaults below
    .venv/bin/python benchmarks/bench_tokens.py --profile       # also cProfile 200 token requests
"""
from __future__ import annotations

import argparse
import base64
import cProfile
import logging
import os
import platform
import pstats
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from importlib.metadata import version

import requests
import sqlalchemy as sa
from bench_students_api import DEFAULT_URL, SECRET, USERNAME, ensure_database, login, run, summary
from waitress.server import create_server

from foundation import create_app, db
from foundation.models import Account, Membership, OAuthClient, OAuthToken, OrgUnit
from foundation.oidc.clients import register, rotate_secret
from foundation.oidc.tokens import issue_for_account
from foundation.tenancy import unscoped

CLIENT_ID = "jizuo-bench-tokens"
ISSUER = "http://localhost"
SCOPE = "students.read"
FORM = {"grant_type": "client_credentials", "scope": SCOPE}


def setup_client(app) -> tuple[int, str, str]:
    """(school id of USERNAME, client_id, fresh secret): register the school's client, or rotate its secret."""
    with app.app_context():
        sess = unscoped("test setup").mark(db.session())
        school = sess.scalar(sa.select(Membership.school_id).join(Account).where(Account.username == USERNAME))
        row = sess.scalar(sa.select(OAuthClient).where(OAuthClient.client_id == CLIENT_ID))
        if row is None:
            secret = register({"client_id": CLIENT_ID, "name": "基准测试", "name_en": "Benchmark",
                               "grant_types": ["client_credentials"], "scopes": [SCOPE], "school_id": school}).secret
        else:
            secret = rotate_secret(row)
        sess.commit()
    return school, CLIENT_ID, secret


def check(resp, what: str):
    if resp.status_code != 200:
        raise SystemExit(f"{what}: HTTP {resp.status_code} {resp.text[:300]}")
    return resp


def gunicorn_app():
    """The app gunicorn serves (``bench_tokens:gunicorn_app()``), configured as this script's own."""
    return create_app({"DATABASE_URL": os.environ["JIZUO_BENCH_DATABASE_URL"], "SECRET_KEY": SECRET,
                       "PASSWORD_HASH_FAST": True, "REDIS_URL": None, "OIDC_ISSUER": ISSUER,
                       "INSTANCE_PATH": os.path.join(tempfile.gettempdir(), "jizuo-bench-instance")})


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(database_url: str, workers: int, threads: int) -> tuple[subprocess.Popen, str]:
    """gunicorn on a free loopback port, started from this directory; returns (process, base URL) once it
    answers /healthz."""
    port = _free_port()
    here = os.path.dirname(os.path.abspath(__file__))
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
         "--worker-class", "gthread", "--threads", str(threads), "--chdir", here, "--log-level", "warning",
         "bench_tokens:gunicorn_app()"],
        env=os.environ | {"JIZUO_BENCH_DATABASE_URL": database_url, "PYTHONPATH": os.path.dirname(here)})
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited with {proc.returncode}")
        try:
            if requests.get(base + "/healthz", timeout=10).status_code == 200:
                return proc, base
        except requests.RequestException:  # not listening yet, or its workers still starting
            pass
        time.sleep(0.3)
    proc.terminate()
    raise SystemExit("gunicorn did not answer /healthz within 120 s")


def http_tokens(app, basic: str, total: int, workers: int, limit_s: float = 60.0, *, server_kind: str = "gunicorn",
                database_url: str = "", gunicorn_workers: int = 2, threads: int = 4) -> tuple[list[float], float]:
    """Token requests over loopback HTTP against gunicorn (or waitress); (latencies, wall time)."""
    if server_kind == "gunicorn":
        proc, base = start_gunicorn(database_url, gunicorn_workers, threads)
        server = thread = None
    else:
        logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "Task queue depth is 1": expected here
        server = create_server(app, host="127.0.0.1", port=0, threads=8)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        proc, base = None, f"http://127.0.0.1:{server.effective_port}"
    url = base + "/oauth/token"
    local = threading.local()

    def one(deadline: float) -> float | None:
        if time.perf_counter() > deadline:
            return None
        if not hasattr(local, "http"):
            local.http = requests.Session()
        t0 = time.perf_counter()
        check(local.http.post(url, data=FORM, headers={"Authorization": basic}, timeout=30), "HTTP token")
        return time.perf_counter() - t0

    try:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(one, [float("inf")] * (workers * 5)))  # warm-up: connections, sessions
            t0 = time.perf_counter()
            lat = [x for x in pool.map(one, [t0 + limit_s] * total) if x is not None]
            wall = time.perf_counter() - t0
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
        else:
            server.close()
            thread.join(timeout=5)
    return lat, wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--database-url", default=DEFAULT_URL)
    ap.add_argument("--schools", type=int, default=100)
    ap.add_argument("--students-per-school", type=int, default=1000)
    ap.add_argument("--tokens", type=int, default=500, help="sequential token requests (test client)")
    ap.add_argument("--http-requests", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=8, help="concurrent HTTP clients")
    ap.add_argument("--server", choices=("gunicorn", "waitress"), default="gunicorn")
    ap.add_argument("--gunicorn-workers", type=int, default=2, help="gunicorn worker processes")
    ap.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker (gthread)")
    ap.add_argument("--repeat", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=30)
    ap.add_argument("--profile", action="store_true", help="cProfile 200 token requests afterwards")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("terminated"))  # so the finally below stops gunicorn
    url = args.database_url
    ensure_database(url, args.schools, args.students_per_school, rebuild=False)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": SECRET, "PASSWORD_HASH_FAST": True,
                      "INSTANCE_PATH": os.path.join(tempfile.gettempdir(), "jizuo-bench-instance"),
                      "REDIS_URL": None, "OIDC_ISSUER": ISSUER})
    engine = app.extensions["jizuo.engine"]
    school, client_id, secret = setup_client(app)
    basic = "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    api = app.test_client(use_cookies=False)  # an API client: no cookie jar
    browser = app.test_client()
    login(browser, USERNAME)

    def token() -> str:
        return check(api.post("/oauth/token", data=FORM, headers={"Authorization": basic}), "token").get_json()[
            "access_token"]

    statements: list[str] = []

    def count(_conn, _cursor, sql, *_rest) -> None:
        statements.append(sql.split()[0])

    sa.event.listen(engine, "before_cursor_execute", count)
    machine_token = token()  # also creates the signing key on the first run
    statements.clear()
    token()
    token_sql = " ".join(statements)
    sa.event.remove(engine, "before_cursor_execute", count)

    # (a) token endpoint, sequential through the test client
    for _ in range(20):
        token()
    seq = []
    t_all = time.perf_counter()
    for _ in range(args.tokens):
        t0 = time.perf_counter()
        token()
        seq.append(time.perf_counter() - t0)
    seq_wall = time.perf_counter() - t_all
    http_lat, http_wall = http_tokens(app, basic, args.http_requests, args.workers, server_kind=args.server,
                                      database_url=url, gunicorn_workers=args.gunicorn_workers,
                                      threads=args.threads)

    # (b) the roster with three kinds of credentials
    with app.app_context():
        user_token = issue_for_account(USERNAME, None, SCOPE)  # the CLI client, as `jizuo token` does
        sess = unscoped("test setup").mark(db.session())
        classes = sess.scalars(sa.select(OrgUnit.id).where(OrgUnit.school_id == school, OrgUnit.kind == "class")
                               .order_by(OrgUnit.id)).all()
        n_tokens = sess.scalar(sa.select(sa.func.count()).select_from(OAuthToken))
        pg_version = sess.scalar(sa.text("SELECT version()"))
    roster = lambda i: f"/api/v1/students?class_id={classes[i % len(classes)]}"  # noqa: E731
    bearer = {"bearer (client token)": machine_token, "bearer (user token)": user_token}
    calls = {name: (lambda i, h={"Authorization": "Bearer " + tok}: check(api.get(roster(i), headers=h), roster(i)))
             for name, tok in bearer.items()}
    calls["cookie (session)"] = lambda i: check(browser.get(roster(i)), roster(i))
    sql_of = {}
    sa.event.listen(engine, "before_cursor_execute", count)
    for i in range(len(classes)):
        ids = {}
        for name, call in calls.items():
            statements.clear()
            ids[name] = [row["id"] for row in call(i).get_json()["items"]]
            sql_of[name] = " ".join(statements)
        if len({tuple(x) for x in ids.values()}) != 1 or not ids["cookie (session)"]:
            raise SystemExit(f"the three credentials disagree on {roster(i)}: {[len(x) for x in ids.values()]}")
    rows = sum(len(check(browser.get(roster(i)), "").get_json()["items"]) for i in range(len(classes)))
    sa.event.remove(engine, "before_cursor_execute", count)
    times = run(calls, args.repeat, args.warmup)

    cpuinfo = open("/proc/cpuinfo").read() if os.path.exists("/proc/cpuinfo") else ""
    cpu = next(iter(re.findall(r"model name\s*:\s*(.+)", cpuinfo)), platform.processor())
    print(f"\n{datetime.now():%Y-%m-%d %H:%M}  CPUs: {os.cpu_count()} x {cpu} ({platform.machine()}, "
          f"{platform.system()} {platform.release()})")
    print(f"Python {platform.python_version()}, SQLAlchemy {version('sqlalchemy')}, Flask {version('flask')}, "
          f"Authlib {version('authlib')}, joserfc {version('joserfc')}, cryptography {version('cryptography')}, "
          f"psycopg {version('psycopg')}, gunicorn {version('gunicorn')}, waitress {version('waitress')}")
    print(pg_version)
    print(f"database {sa.make_url(url).database}; client {client_id} (school {school}, {SCOPE}); "
          f"oidc_tokens: {n_tokens} rows after the token runs")
    print(f"SQL per token request: {token_sql} (+ pool pre-ping, COMMIT)")
    for name, sql in sql_of.items():
        print(f"SQL per roster request, {name}: {sql}")
    print(f"\n{'token endpoint (client_credentials)':<44}{'requests':>9}{'tokens/s':>10}{'median ms':>10}"
          f"{'p95 ms':>9}")
    for label, lat, wall in (("test client, sequential", seq, seq_wall),
                             (f"HTTP gunicorn {args.gunicorn_workers}x{args.threads}, {args.workers} clients"
                              if args.server == "gunicorn" else f"HTTP waitress threads=8, {args.workers} clients",
                              http_lat, http_wall)):
        med, p95 = summary(lat)
        print(f"{label:<44}{len(lat):>9}{len(lat) / wall:>10.1f}{med:>10.2f}{p95:>9.2f}")
    print(f"\n{'roster GET /api/v1/students?class_id=':<44}{'median ms':>9}{'p95 ms':>9}{'x cookie':>10}"
          f"   ({len(classes)} classes, {rows / len(classes):.1f} rows avg; repeat {args.repeat}, "
          f"warmup {args.warmup})")
    ref = statistics.median(times["cookie (session)"])
    for name, xs in times.items():
        med, p95 = summary(xs)
        print(f"{name:<44}{med:>9.2f}{p95:>9.2f}{statistics.median(xs) / ref:>9.2f}x")
    for name in bearer:
        print(f"ratio {name} / cookie: {statistics.median(times[name]) / ref:.2f}x")

    if args.profile:
        prof = cProfile.Profile()
        prof.runcall(lambda: [token() for _ in range(200)])
        print("\ncProfile of 200 token requests (test client; top 40 by cumulative, top 12 by own time):")
        pstats.Stats(prof).sort_stats("cumulative").print_stats(40).sort_stats("tottime").print_stats(12)
    engine.dispose()


if __name__ == "__main__":
    main()
