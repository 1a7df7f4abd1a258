"""Benchmark: what the audit hash chain costs an audited request, and how many audited commits per second
the chain's one head admits with concurrent writers.

A fresh database (PostgreSQL ``jizuo_bench_audit``, or ``--sqlite``) with a small demo district (2 schools x
100 students). Three measurements, the chain on and off (its ``before_commit`` listener removed) interleaved:

  request   GET /api/v1/students/<id> as the school admin (one audit row), through the Flask test client
  commit    record() + commit alone: the audit row's own transaction
  writers   --threads threads, each its own session, 100 commits of one audit row each (chain on): commits/s,
            then ``jizuo audit verify`` over the result

    .venv/bin/python benchmarks/bench_audit_chain.py [--repeat 300] [--threads 8] [--sqlite]
"""
from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import threading
import time

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation import create_app, db
from foundation.audit import record
from foundation.audit_chain import verify
from foundation.cli.common import district_session
from foundation.demo import build_demo
from foundation.migrate import upgrade
from foundation.models import audit as chain

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
SECRET, PASSWORD = "bench-audit-secret", "Bench-pass-2026"


def fresh_database(sqlite: bool) -> str:
    if sqlite:
        return f"sqlite:///{tempfile.mkdtemp()}/bench_audit.db"
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text("DROP DATABASE IF EXISTS jizuo_bench_audit WITH (FORCE)"))
        conn.execute(sa.text("CREATE DATABASE jizuo_bench_audit"))
    admin.dispose()
    return PG_ADMIN.rsplit("/", 1)[0] + "/jizuo_bench_audit"


def chain_on(on: bool) -> None:
    if on != sa.event.contains(so.Session, "before_commit", chain._chain_new_rows):
        (sa.event.listen if on else sa.event.remove)(so.Session, "before_commit", chain._chain_new_rows)


def ms(values: list[float]) -> str:
    values = sorted(values)
    return f"median {statistics.median(values) * 1000:6.2f} ms, p95 {values[int(len(values) * 0.95)] * 1000:6.2f} ms"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=300)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--sqlite", action="store_true")
    args = ap.parse_args()
    url = fresh_database(args.sqlite)
    upgrade(url)
    engine = db.make_engine(url)
    demo = build_demo(engine, schools=2, students_per_school=100, seed=1, password=PASSWORD, secret_key=SECRET,
                      fast_hash=True)
    engine.dispose()
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": SECRET, "PASSWORD_HASH_FAST": True, "REDIS_URL": None,
                      "INSTANCE_PATH": tempfile.mkdtemp()})
    admin = next(e["username"] for e in demo["logins"] if e["role"] == "school_admin")
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/login", data={"username": admin, "password": PASSWORD, "csrf_token": token}).status_code == 302
    kid = client.get("/api/v1/students").get_json()["items"][0]["id"]

    timings: dict[tuple[str, bool], list[float]] = {}
    for i in range(args.repeat + 20):
        for on in ((True, False) if i % 2 else (False, True)):
            chain_on(on)
            t = time.perf_counter()
            assert client.get(f"/api/v1/students/{kid}").status_code == 200
            mid = time.perf_counter()
            with app.app_context():
                record("bench.commit", "student", kid)
                db.session().commit()
            end = time.perf_counter()
            if i >= 20:
                timings.setdefault(("request", on), []).append(mid - t)
                timings.setdefault(("commit", on), []).append(end - mid)
    chain_on(True)
    print(f"database: {sa.make_url(url).get_backend_name()}, {args.repeat} rounds each, interleaved")
    for what in ("request", "commit"):
        on, off = timings[(what, True)], timings[(what, False)]
        delta = (statistics.median(on) - statistics.median(off)) * 1000
        print(f"{what:<8} chain on:  {ms(on)}\n{'':<8} chain off: {ms(off)}   → +{delta:.2f} ms per audited commit")

    with app.app_context():  # the rows written with the chain off have no place: start the writers on a clean log
        sess = district_session()
        sess.execute(sa.delete(chain.AuditEntry).where(chain.AuditEntry.seq.is_(None)))
        sess.commit()

    def writer() -> None:
        for _ in range(100):
            with app.app_context():
                record("bench.writer", "student", kid)
                db.session().commit()

    threads = [threading.Thread(target=writer) for _ in range(args.threads)]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    took = time.perf_counter() - t
    print(f"writers  {args.threads} threads x 100 commits: {args.threads * 100 / took:,.0f} audited commits/s")
    with app.app_context():
        verdict = verify(district_session())
    print(f"verify   {'OK' if verdict.ok else verdict.problem}: {verdict.rows} rows, head seq {verdict.head_seq}")
    app.extensions["jizuo.engine"].dispose()


if __name__ == "__main__":
    main()
