"""Where the class-roster request spends its time: the same request with one part switched off.

A diagnostic companion to bench_students_api.py (same database, secret and login; run that first so
the database exists). Each variant monkeypatches one part of the request path for the duration of its
own calls only, interleaved with the unpatched request, and the table shows how much the median drops.
The patches are measuring devices, not proposed code: each one removes work (an audit row, the
session and principal-version check, the tenancy filter) that the platform does on purpose.

    .venv/bin/python benchmarks/ablate_students_api.py [--repeat 300]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from contextlib import ExitStack
from unittest import mock

import sqlalchemy as sa
import sqlalchemy.orm as so
from bench_students_api import DEFAULT_URL, SECRET, USERNAME, ensure_database, login, run, summary

import foundation.api.people as api_people
import foundation.auth as auth
import foundation.services.people as svc
import foundation.tenancy as tenancy
import foundation.tenancy_sql as tenancy_sql
from foundation import create_app
from foundation.api.schemas import StudentOut, StudentQuery
from foundation.models import Account, Membership, OrgUnit


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--database-url", default=DEFAULT_URL)
    ap.add_argument("--schools", type=int, default=100)
    ap.add_argument("--students-per-school", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=300)
    ap.add_argument("--warmup", type=int, default=30)
    args = ap.parse_args()
    ensure_database(args.database_url, args.schools, args.students_per_school, rebuild=False)
    app = create_app({"DATABASE_URL": args.database_url, "SECRET_KEY": SECRET, "PASSWORD_HASH_FAST": True,
                      "INSTANCE_PATH": os.path.join(tempfile.gettempdir(), "jizuo-bench-instance"),
                      "REDIS_URL": None})
    client = app.test_client()
    login(client, USERNAME)
    with so.Session(app.extensions["jizuo.engine"]) as s:
        tenancy.unscoped("benchmark setup").mark(s)
        account_id, school = s.execute(sa.select(Account.id, Membership.school_id).join(Membership)
                                       .where(Account.username == USERNAME)).one()
        classes = s.scalars(sa.select(OrgUnit.id).where(OrgUnit.school_id == school, OrgUnit.kind == "class")
                            .order_by(OrgUnit.id)).all()
    with app.test_request_context():
        versions = auth.account_versions(account_id)
    out_schema, query_schema = StudentOut(many=True), StudentQuery()

    parts = {
        "per-row current_lang()": [mock.patch.object(svc, "current_lang", lambda: "zh")],
        "tenancy criteria (5 models)": [mock.patch.object(tenancy_sql, "scoped_tables", dict), mock.patch.object(tenancy_sql, "loader_criteria", lambda scope, *a: ())],
        # the session check and the principal's versions: one SELECT (the principal itself comes from the cache)
        "session + version check (1 SELECT)": [mock.patch.object(auth, "session_versions", lambda *a: versions)],
        "audit row (head UPDATE + INSERT)": [mock.patch.object(api_people, "record", lambda *a, **k: None)],
        "schema instantiation": [mock.patch.object(api_people, "StudentOut", lambda many=False: out_schema),
                                 mock.patch.object(api_people, "StudentQuery", lambda: query_schema)],
        "pool pre-ping": [mock.patch.object(app.extensions["jizuo.engine"].pool, "_pre_ping", False)],
    }
    parts["all of the above"] = [p for ps in parts.values() for p in ps]

    def request(patches: list):
        def call(i: int) -> None:
            with ExitStack() as stack:
                for p in patches:
                    stack.enter_context(p)
                resp = client.get(f"/api/v1/students?class_id={classes[i % len(classes)]}")
            if resp.status_code != 200 or not resp.get_json()["items"]:
                sys.exit(f"HTTP {resp.status_code}: {resp.get_data(as_text=True)[:300]}")
        return call

    variants = {"full request": request([])} | {f"- {name}": request(ps) for name, ps in parts.items()}
    times = run(variants, args.repeat, args.warmup)
    full = statistics.median(times["full request"]) * 1e3
    print(f"class roster, {USERNAME}, {len(classes)} classes rotating; repeat {args.repeat}\n")
    print(f"{'variant':<36}{'median ms':>10}{'p95 ms':>9}{'saves ms':>10}{'saves':>8}")
    for name, xs in times.items():
        med, p95 = summary(xs)
        print(f"{name:<36}{med:>10.2f}{p95:>9.2f}{full - med:>10.2f}{(full - med) / full:>8.0%}")


if __name__ == "__main__":
    main()
