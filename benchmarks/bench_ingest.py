"""Ingest 1,000,000 card transactions (a synthetic month, October 2026, for a 100-school district) through the
platform's bulk path — validation against the standard, envelope resolution, idempotency on
(source, source_id), change feed, domain events — and, in the same run, COPY the same rows into a plain
table. Prints rows per second for both and the ratio.

    .venv/bin/python benchmarks/bench_ingest.py                # PostgreSQL jizuo_bench, 1,000,000 rows
    .venv/bin/python benchmarks/bench_ingest.py --rows 200000  # a shorter run

Uses the 100 x 1000 demo database of bench_students_api.py (built if missing).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta

import sqlalchemy as sa

sys.path.insert(0, os.path.dirname(__file__))
from bench_students_api import DEFAULT_URL, SECRET, ensure_database  # noqa: E402

from foundation import create_app, db, events  # noqa: E402
from foundation.ingest.service import Context, ingest  # noqa: E402
from foundation.models import OrgUnit, Student  # noqa: E402
from foundation.tenancy import unscoped  # noqa: E402

SOURCE = "bench_card_system"
MERCHANTS = ["canteen", "canteen", "canteen", "supermarket", "bookstore", "other"]


def synthesize(students: list[tuple[str, str]], rows: int, seed: int = 1) -> list[dict]:
    """A month of campus-card payments: meals mostly, at meal times, cheap."""
    rnd = random.Random(seed)
    start = datetime(2026, 10, 1, 7, 0)
    out = []
    for n in range(rows):
        school, student_no = students[n % len(students)]
        day = rnd.randrange(30)
        hour = rnd.choice((7, 11, 12, 17, 18, 15))
        when = start + timedelta(days=day, hours=hour - 7, minutes=rnd.randrange(60), seconds=rnd.randrange(60))
        out.append({"source_id": f"tx-{n:08d}", "school": school, "student": student_no,
                    "occurred_at": when.isoformat() + "+08:00", "card_no": f"C{student_no}",
                    "amount": f"{rnd.choice((3, 4, 5, 6, 8, 10, 12, 15)) + rnd.choice((0, 0.5)):.2f}",
                    "merchant_type": rnd.choice(MERCHANTS), "terminal": f"POS-{rnd.randrange(40):02d}"})
    return out


def copy_baseline(engine: sa.Engine, records: list[dict], student_ids: dict, school_ids: dict) -> float:
    """COPY the same rows (ids resolved, data as JSON) into a plain table: the floor of what storing costs."""
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("DROP TABLE IF EXISTS bench_copy_tx")
        cur.execute("CREATE TABLE bench_copy_tx (id bigserial primary key, source_id text, school_id int,"
                    " student_id int, occurred_at timestamp, data jsonb)")
        raw.commit()
        start = time.perf_counter()
        with cur.copy("COPY bench_copy_tx (source_id, school_id, student_id, occurred_at, data) FROM STDIN") as cp:
            for r in records:
                sid = school_ids[r["school"]]
                cp.write_row((r["source_id"], sid, student_ids[(sid, r["student"])], r["occurred_at"][:19],
                              json.dumps({k: r[k] for k in ("occurred_at", "card_no", "amount", "merchant_type",
                                                            "terminal")}, ensure_ascii=False)))
        raw.commit()
        elapsed = time.perf_counter() - start
        cur.execute("DROP TABLE bench_copy_tx")
        raw.commit()
        return elapsed
    finally:
        raw.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--database-url", default=DEFAULT_URL)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--chunk", type=int, default=20_000)
    ap.add_argument("--steps", action="store_true", help="print where each load's time goes (PostgreSQL path)")
    args = ap.parse_args()
    if args.steps:
        import logging

        logging.basicConfig(format="  %(message)s")
        logging.getLogger("jizuo.ingest").setLevel(logging.DEBUG)
    ensure_database(args.database_url, 100, 1000, False)
    app = create_app({"DATABASE_URL": args.database_url, "SECRET_KEY": SECRET, "PASSWORD_HASH_FAST": True,
                      "INSTANCE_PATH": tempfile.mkdtemp()})
    with app.app_context():
        sess = unscoped("test setup").mark(db.session())
        sess.execute(sa.text("DELETE FROM changes WHERE library = 'card_transaction'"))
        sess.execute(sa.text("DELETE FROM records WHERE source = :s"), {"s": SOURCE})
        sess.commit()
        schools = dict(sess.execute(sa.select(OrgUnit.code, OrgUnit.id).where(OrgUnit.kind == "school")).all())
        id_to_code = {v: k for k, v in schools.items()}
        pairs = sess.execute(sa.select(Student.school_id, Student.student_no, Student.id)).all()
        students = [(id_to_code[s], no) for s, no, _ in pairs]
        student_ids = {(s, no): i for s, no, i in pairs}
        t0 = time.perf_counter()
        records = synthesize(students, args.rows)
        print(f"synthesized {len(records):,} records in {time.perf_counter() - t0:.1f}s "
              f"({len(students):,} students, {len(schools)} schools)")

        delivered = []
        stop = events.subscribe("card.*", lambda name, batch: delivered.append(len(batch)))
        done = [0]

        def tick(n: int) -> None:
            done[0] += n
            if done[0] % 200_000 < n:
                print(f"  platform: {done[0]:,} rows, {done[0] / (time.perf_counter() - start):,.0f}/s", flush=True)

        start = time.perf_counter()
        report = ingest(sess, "card_transaction", records, source=SOURCE, ctx=Context(set(schools.values())),
                        chunk=args.chunk, progress=tick)
        sess.commit()
        platform = time.perf_counter() - start
        stop()
        assert not report.rejected, report.rejected[:3]
        assert report.created == len(records) and sum(delivered) == len(records)

        start = time.perf_counter()
        again = ingest(sess, "card_transaction", records[:100_000], source=SOURCE, ctx=Context(set(schools.values())),
                       chunk=args.chunk)
        sess.commit()
        replay = time.perf_counter() - start
        assert again.created == 0 and again.unchanged == min(100_000, len(records))

        baseline = copy_baseline(db.engine(), records, student_ids, schools)
        version = sess.scalar(sa.text("SELECT version()")).split(",")[0]
    n = len(records)
    print(f"\n{datetime.now():%Y-%m-%d %H:%M}  CPUs: {os.cpu_count()}  {version}")
    print(f"{'path':<52}{'rows':>12}{'seconds':>10}{'rows/s':>12}")
    print(f"{'platform ingest (validate, resolve, idempotent, feed, events)':<52}{n:>12,}{platform:>10.1f}{n / platform:>12,.0f}")
    print(f"{'platform re-send of 100,000 (all unchanged)':<52}{min(n, 100_000):>12,}{replay:>10.1f}"
          f"{min(n, 100_000) / replay:>12,.0f}")
    print(f"{'COPY into a plain table (ids already resolved)':<52}{n:>12,}{baseline:>10.1f}{n / baseline:>12,.0f}")
    print(f"ratio platform/COPY throughput: {baseline / platform:.2f}  (events delivered: {sum(delivered):,})")


if __name__ == "__main__":
    main()
