"""Benchmark: a district deployment under load — gunicorn (``jizuo serve``, 4 worker processes) and one
``jizuo worker`` on 127.0.0.1 against PostgreSQL and Redis, a demo district (``jizuo demo``, plugins and
their demo data installed), and 30 concurrent clients driven by locust (headless) for a bounded time.

The clients log in for real (the login form, its CSRF token, argon2 at the production cost, the session
cookie; then the API's CSRF token from ``/api/v1/me``) and then mix, as their role would:

  homeroom teachers (2 of 3)   roster   GET /api/v1/students?class_id=<their class>
                               board    GET /points/api/classes/<their class>/board   (conduct points)
                               inbox    GET /api/v1/messages/inbox
  parents (1 of 3)             inbox    GET /api/v1/messages/inbox
                               submit   POST /api/v1/forms/<社团报名>/submissions    (a form, for their child)

First one client alone (no waiting: what a request costs on the machine at that moment, without
queueing), then two phases of ``--seconds`` each, the same clients: *paced* (each client waits
0–2×``--think`` s between requests, as people do; the latency goals are for this one: reads p50 < 20 ms,
p95 < 100 ms) and *flat out* (no waiting: the most the deployment serves). Each phase also reports the CPU
the server side spent per request (gunicorn's processes, and the PostgreSQL backends serving them): on a
machine shared with other work the latencies follow its load, the CPU per request much less. Measured
from the moment every client has logged in; the logins are reported on their own. Per kind and in all:
requests, failures, requests/s, p50, p95.

    .venv/bin/pip install -e '.[bench]'        # locust
    .venv/bin/python benchmarks/bench_load.py                        # 4 schools × 500, 30 clients, 60 s ×2
    .venv/bin/python benchmarks/bench_load.py --seconds 20 --schools 1 --students-per-school 200

It makes its own database (``jizuo_load_<random>``, dropped at the end unless ``--keep``) on the server of
``--database-url`` and a private key prefix on ``--redis-url``. This file is also the locustfile (locust
imports it with ``JIZUO_LOAD_PLAN`` set).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PASSWORD = "Load-pass-2026"
READS = ("roster", "board", "inbox")

# ---- the locustfile part: only when locust imports this file ----------------------------------------------
if os.environ.get("JIZUO_LOAD_PLAN"):
    import gevent
    from gevent.event import Event
    from locust import FastHttpUser, between, constant, events, task

    PLAN = json.loads(Path(os.environ["JIZUO_LOAD_PLAN"]).read_text())
    THINK = float(os.environ.get("JIZUO_LOAD_THINK", "0"))
    GO = Event()
    STATE = {"logged_in": 0, "go_at": None}
    SAMPLES: list[tuple[str, float, bool]] = []  # (kind, ms, ok) after GO
    ENV: list = []

    @events.init.add_listener
    def _keep_env(environment, **_kw):
        ENV.append(environment)

    def _stop_later() -> None:
        gevent.sleep(PLAN["seconds"])
        STATE["stop_at"] = time.time()
        ENV[0].runner.quit()

    @events.request.add_listener
    def _record(request_type, name, response_time, response_length, exception=None, **_kw):
        if name == "login" or (GO.is_set() and not STATE.get("stop_at")):
            SAMPLES.append((name, response_time, exception is None))

    @events.quitting.add_listener
    def _dump(environment, **_kw):
        out = {"go_at": STATE["go_at"], "stop_at": STATE.get("stop_at") or time.time(), "samples": SAMPLES}
        Path(os.environ["JIZUO_LOAD_OUT"]).write_text(json.dumps(out))

    class Client(FastHttpUser):
        abstract = True
        wait_time = between(0, 2 * THINK) if THINK else constant(0)
        accounts: list = []
        _next = 0

        def on_start(self) -> None:
            cls = type(self)
            self.me = cls.accounts[cls._next % len(cls.accounts)]
            cls._next += 1
            page = self.client.get("/login", name="login").text
            token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
            with self.client.post("/login", data={"username": self.me["username"], "password": PASSWORD,
                                                  "csrf_token": token}, name="login", allow_redirects=False,
                                  catch_response=True) as resp:
                if resp.status_code != 302:
                    resp.failure(f"login {self.me['username']}: {resp.status_code}")
            self.csrf = self.client.get("/api/v1/me", name="login").json()["csrf_token"]
            STATE["logged_in"] += 1
            if STATE["logged_in"] >= PLAN["users"]:
                STATE["go_at"] = time.time()
                Path(os.environ["JIZUO_LOAD_OUT"] + ".go").touch()  # the bench starts counting server CPU
                GO.set()
                gevent.spawn(_stop_later)
            GO.wait()

        def read(self, kind: str, path: str) -> None:
            self.client.get(path, name=kind)

    class Teacher(Client):
        weight = 2
        accounts = PLAN["teachers"]

        @task(3)
        def roster(self) -> None:
            self.read("roster", f"/api/v1/students?class_id={self.me['class_id']}")

        @task(2)
        def board(self) -> None:
            self.read("board", f"/points/api/classes/{self.me['class_id']}/board")

        @task(2)
        def inbox(self) -> None:
            self.read("inbox", "/api/v1/messages/inbox")

    class Parent(Client):
        weight = 1
        accounts = PLAN["parents"]

        @task(2)
        def inbox(self) -> None:
            self.read("inbox", "/api/v1/messages/inbox")

        @task(1)
        def submit(self) -> None:
            body = {"data": {"student": self.me["student_no"], "clubs": [random.choice(["choir", "drama"])]}}
            with self.client.post(f"/api/v1/forms/{PLAN['form_id']}/submissions", json=body, name="submit",
                                  headers={"X-CSRFToken": self.csrf}, catch_response=True) as resp:
                if resp.status_code != 201:
                    resp.failure(f"submit: {resp.status_code} {resp.text[:200]}")



# ---- the benchmark: build, serve, drive, report ---------------------------------------------------------
def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def summary(samples: list, seconds: float) -> dict[str, dict]:
    kinds: dict[str, list] = {}
    for kind, ms, ok in samples:
        kinds.setdefault(kind, []).append((ms, ok))
    groups = {k: v for k, v in kinds.items() if k != "login"}
    groups["reads (all)"] = [s for k in READS for s in kinds.get(k, [])]
    groups["all"] = [s for k, v in kinds.items() if k != "login" for s in v]
    if "login" in kinds:
        groups["login"] = kinds["login"]
    out = {}
    for name, rows in groups.items():
        ms = [r[0] for r in rows]
        out[name] = {"requests": len(rows), "failures": sum(1 for r in rows if not r[1]),
                     "per_s": round(len(rows) / seconds, 1) if name != "login" else None,
                     "p50": round(percentile(ms, 0.5), 1), "p95": round(percentile(ms, 0.95), 1)}
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def admin_exec(admin_url: str, sql: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text(sql))
    finally:
        engine.dispose()


def plan_of(url: str, users: int) -> dict:
    """The accounts the clients sign in as: homeroom teachers with their class, parents with a child."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            teachers = [dict(r._mapping) for r in conn.execute(sa.text(
                "SELECT a.username, m.org_unit_id AS class_id FROM accounts a "
                "JOIN memberships m ON m.account_id = a.id "
                "WHERE m.role = 'homeroom_teacher' AND a.active ORDER BY a.id"))]
            parents = [dict(r._mapping) for r in conn.execute(sa.text(
                "SELECT DISTINCT ON (a.id) a.username, s.student_no FROM accounts a "
                "JOIN guardian_links l ON l.guardian_id = a.person_id JOIN students s ON s.id = l.student_id "
                "WHERE a.person_kind = 'guardian' AND a.active ORDER BY a.id, l.is_primary DESC"))]
            form = conn.scalar(sa.text("SELECT id FROM lowcode_forms WHERE template_key = 'club_signup'"))
    finally:
        engine.dispose()
    if not teachers or not parents or form is None:
        raise SystemExit(f"the demo lacks teachers ({len(teachers)}), parents ({len(parents)}) "
                         f"or 社团报名 ({form})")
    return {"users": users, "teachers": teachers, "parents": parents, "form_id": form, "seconds": 60}


def server_cpu(serve_pid: int, admin_url: str, dbname: str, since: dict | None = None) -> dict:
    """CPU seconds of gunicorn's processes and of the PostgreSQL backends on the database (their totals,
    or with ``since`` the difference; a backend absent before counts whole)."""
    import psutil
    import sqlalchemy as sa

    def total(procs) -> dict[int, float]:
        out = {}
        for proc in procs:
            try:
                t = proc.cpu_times()
                out[proc.pid] = t.user + t.system
            except psutil.Error:
                pass
        return out

    master = psutil.Process(serve_pid)
    app = total([master, *master.children(recursive=True)])
    engine = sa.create_engine(admin_url)
    try:
        with engine.connect() as conn:
            pids = list(conn.scalars(sa.text("SELECT pid FROM pg_stat_activity WHERE datname = :n"),
                                     {"n": dbname}))
    finally:
        engine.dispose()
    pg = total([psutil.Process(p) for p in pids if psutil.pid_exists(p)])
    now = {"app": app, "postgresql": pg}
    if since is None:
        return now
    return {k: sum(v - since[k].get(pid, 0.0) for pid, v in now[k].items()) for k in now}


def wait_healthy(base: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("jizuo serve stopped")
        try:
            if requests.get(base + "/healthz", timeout=3).json()["status"] == "ok":
                return
        except (requests.RequestException, ValueError):
            pass
        time.sleep(0.3)
    raise SystemExit("jizuo serve did not answer")


def drive(base: str, plan_path: Path, workdir: Path, users: int, seconds: int, think: float,
          cpu_of) -> tuple[dict, float]:
    """One phase; ``cpu_of(since)`` snapshots the server's CPU, taken when the last client has logged in
    and again when locust has stopped (so the logins' argon2 is not in it)."""
    out = workdir / f"samples-{users}-{think}.json"
    plan_path.write_text(json.dumps(json.loads(plan_path.read_text()) | {"seconds": seconds, "users": users}))
    env = {**os.environ, "JIZUO_LOAD_PLAN": str(plan_path), "JIZUO_LOAD_THINK": str(think),
           "JIZUO_LOAD_OUT": str(out)}
    log = open(workdir / "locust.log", "a")  # noqa: SIM115 - closed below
    before = os.times()
    # the clients stop themselves ``seconds`` after the last login; -t is only a ceiling
    cmd = [str(BIN / "locust"), "-f", __file__, "--headless", "-u", str(users), "-r", str(users), "-t",
           f"{seconds + 120}s", "--host", base, "--only-summary", "--loglevel", "WARNING", "--stop-timeout", "2",
           "--exit-code-on-error", "0"]
    proc = subprocess.Popen(cmd, env=env, cwd=workdir, stdout=log, stderr=subprocess.STDOUT)
    go = Path(str(out) + ".go")
    while not go.exists() and proc.poll() is None:
        time.sleep(0.05)
    start = cpu_of(None)
    if proc.wait() != 0:
        raise SystemExit(f"locust failed: see {workdir / 'locust.log'}")
    spent = cpu_of(start)
    after = os.times()
    log.close()
    data = json.loads(out.read_text())
    window = data["stop_at"] - (data["go_at"] or data["stop_at"])
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    result = summary(data["samples"], max(window, 0.001)) | {"_window_s": round(window, 1)}
    n = max(1, result["all"]["requests"])
    result["_server_cpu_ms_per_request"] = {k: round(v * 1000 / n, 1) for k, v in spent.items()}
    return result, cpu


def show(title: str, result: dict, cpu: float) -> None:
    per = result.get("_server_cpu_ms_per_request") or {}
    print(f"\n{title}: measured {result['_window_s']} s; locust used {cpu:.1f} s of CPU; server CPU per "
          f"request: app {per.get('app')} ms, PostgreSQL {per.get('postgresql')} ms")
    print(f"  {'kind':12} {'requests':>9} {'failed':>7} {'per s':>8} {'p50 ms':>8} {'p95 ms':>8}")
    for name, r in result.items():
        if name.startswith("_"):
            continue
        per_s = "" if r["per_s"] is None else f"{r['per_s']:.1f}"
        print(f"  {name:12} {r['requests']:>9} {r['failures']:>7} {per_s:>8} {r['p50']:>8.1f} "
              f"{r['p95']:>8.1f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--database-url", help="a server where we may CREATE DATABASE",
                    default=os.environ.get("JIZUO_TEST_DATABASE_URL")
                    or "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    ap.add_argument("--redis-url", default=os.environ.get("JIZUO_TEST_REDIS_URL")
                    or "redis://127.0.0.1:6379/0")
    ap.add_argument("--schools", type=int, default=4)
    ap.add_argument("--students-per-school", type=int, default=500)
    ap.add_argument("--users", type=int, default=30)
    ap.add_argument("--seconds", type=int, default=60, help="measured seconds of each phase")
    ap.add_argument("--think", type=float, default=0.5, help="mean think time of the paced phase (s)")
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--keep", action="store_true", help="keep the database (its name is printed)")
    args = ap.parse_args()
    try:
        import locust  # noqa: F401
    except ImportError:
        raise SystemExit("locust is not installed: .venv/bin/pip install -e '.[bench]'") from None
    import sqlalchemy as sa

    from foundation.config import normalise_db_url

    admin = normalise_db_url(args.database_url)
    name = f"jizuo_load_{uuid.uuid4().hex[:8]}"
    url = sa.make_url(admin).set(database=name).render_as_string(hide_password=False)
    admin_exec(admin, f'CREATE DATABASE "{name}"')
    workdir = Path(tempfile.mkdtemp(prefix="jizuo-load-"))
    env = {**os.environ, "JIZUO_DATABASE_URL": url, "JIZUO_REDIS_URL": args.redis_url,
           "JIZUO_MESSAGE_REDIS_PREFIX": f"jizuo-load-{uuid.uuid4().hex[:6]}",
           "JIZUO_INSTANCE_PATH": str(workdir),
           "JIZUO_SECRET_KEY": "load-bench-secret-not-for-production", "JIZUO_LOGIN_IP_MAX_FAILURES": "1000"}
    procs: list[subprocess.Popen] = []
    try:
        t0 = time.monotonic()
        subprocess.run([str(BIN / "jizuo"), "demo", "--schools", str(args.schools), "--students-per-school",
                        str(args.students_per_school), "--password", PASSWORD, "--json"], env=env, check=True,
                       stdout=subprocess.DEVNULL, cwd=workdir)
        print(f"demo district: {args.schools} schools × {args.students_per_school} students, built in "
              f"{time.monotonic() - t0:.0f} s (database {name})")
        plan = plan_of(url, args.users)
        plan_path = workdir / "plan.json"
        plan_path.write_text(json.dumps(plan))
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log = open(workdir / "serve.log", "w")  # noqa: SIM115 - closed with the process
        serve = [str(BIN / "jizuo"), "serve", "--port", str(port), "--workers", str(args.workers),
                 "--threads", str(args.threads), "--access-log", "off"]
        worker = [str(BIN / "jizuo"), "worker", "--jobs-every", "0", "--alerts-every", "0"]
        for cmd in (serve, worker):
            procs.append(subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=workdir))
        wait_healthy(base, procs[0])
        print(f"gunicorn: {args.workers} workers × {args.threads} threads at {base}; {args.users} clients "
              f"({len(plan['teachers'])} homeroom teacher and {len(plan['parents'])} parent accounts to sign "
              "in as)")
        print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
              f"load average before {os.getloadavg()[0]:.2f}")
        results = {}
        # one client alone first: what a request costs at this moment on this machine, without queueing
        phases = (("one client", 1, 0.0, max(10, args.seconds // 3)),
                  ("paced", args.users, args.think, args.seconds),
                  ("flat out", args.users, 0.0, args.seconds))
        for phase, users, think, seconds in phases:
            results[phase], cpu = drive(base, plan_path, workdir, users, seconds, think,
                                        lambda since: server_cpu(procs[0].pid, admin, name, since))
            show(f"{phase} ({users} client(s), think {think} s)", results[phase], cpu)
            print(f"  load average after: {os.getloadavg()[0]:.2f}", flush=True)
        reads = results["paced"]["reads (all)"]
        met = reads["p50"] < 20 and reads["p95"] < 100
        print(f"\ngoal (paced reads p50 < 20 ms, p95 < 100 ms): {'met' if met else 'NOT met'} "
              f"(p50 {reads['p50']} ms, p95 {reads['p95']} ms)")
        print(json.dumps({"schools": args.schools, "students_per_school": args.students_per_school,
                          "users": args.users, "workers": args.workers, "threads": args.threads,
                          "results": results}, ensure_ascii=False))
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                proc.kill()
        if not args.keep:
            admin_exec(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            import redis

            r = redis.Redis.from_url(args.redis_url)
            for key in r.scan_iter(env["JIZUO_MESSAGE_REDIS_PREFIX"] + ":*"):
                r.delete(key)
            r.close()


if __name__ == "__main__" and not os.environ.get("JIZUO_LOAD_PLAN"):
    main()
