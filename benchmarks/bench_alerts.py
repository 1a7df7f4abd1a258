"""Alert evaluation of one rule over 100,000 students (the 100 x 1000 demo district) on PostgreSQL: the
platform's scheduled scan (``foundation.alerts.run_scans``: the rule's scan per school, then one district
batch for all schools' hits that deduplicates against open cases, assigns the homeroom teacher, sets the
yellow deadline on each school's calendar, writes the timeline and tells the teachers through the message
center — one message per class, a digest when several of a class's students are hit) against a
hand-written SQL transaction producing the same rows, in the same run. Each is timed twice: the first pass
opens the cases, the second (the next day's scan) finds them open and re-triggers them (count + 1,
escalation restarted, the teacher told again).

    .venv/bin/python benchmarks/bench_alerts.py                 # 100 x 1000, ~10% of students hit
    .venv/bin/python benchmarks/bench_alerts.py --rounds 3      # more rounds (median reported)
    .venv/bin/python benchmarks/bench_alerts.py --profile /tmp/alerts   # cProfile of one platform round

It stops with an error when the platform's rows (cases, count sum, assignees, timeline, inbox) differ from
the hand-written SQL's.

Uses (and builds when missing) the bench database of bench_students_api.py. Writes only the table
``bench_alert_drop`` (the indicator: each student's weekly conduct-score drop) and alert/message rows,
which it deletes before every variant.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import datetime, timedelta

import sqlalchemy as sa

sys.path.insert(0, os.path.dirname(__file__))
from bench_students_api import DEFAULT_URL, SECRET, ensure_database  # noqa: E402

from foundation import create_app, db  # noqa: E402
from foundation.alerts import notify, register_rule, run_scans  # noqa: E402
from foundation.alerts.calendar import load_clock  # noqa: E402
from foundation.tenancy import unscoped  # noqa: E402

RULE = "bench.weekly_drop"
NOW = datetime(2026, 11, 23, 1, 0)  # a Monday, 09:00 in Shanghai
THRESHOLD = 50
DROP = sa.table("bench_alert_drop", sa.column("student_id"), sa.column("school_id"), sa.column("drop"))


def indicator(engine: sa.Engine, share: float, seed: int) -> int:
    """(Re)build ``bench_alert_drop``: every student's weekly drop, ``share`` of them at or over the threshold."""
    rnd = random.Random(seed)
    with engine.begin() as conn:
        ids = conn.execute(sa.text("SELECT id, school_id FROM students ORDER BY id")).all()
        conn.exec_driver_sql("DROP TABLE IF EXISTS bench_alert_drop")
        conn.exec_driver_sql("CREATE TABLE bench_alert_drop (student_id int PRIMARY KEY, school_id int NOT NULL,"
                             " drop int NOT NULL)")
        rows = [{"s": sid, "sc": school, "d": rnd.randint(THRESHOLD, 120) if rnd.random() < share
                 else rnd.randint(0, THRESHOLD - 1)} for sid, school in ids]
        conn.execute(sa.text("INSERT INTO bench_alert_drop VALUES (:s, :sc, :d)"), rows)
        conn.exec_driver_sql("CREATE INDEX ix_bench_alert_drop_school ON bench_alert_drop (school_id, drop)")
        conn.exec_driver_sql("ANALYZE bench_alert_drop")
        return conn.scalar(sa.text("SELECT count(*) FROM bench_alert_drop WHERE drop >= :t"), {"t": THRESHOLD})


def scan(sess, school_id: int):
    """The rule's scan: the school's students whose drop reached the threshold."""
    t = DROP.c
    return [{"student_id": s, "value": d} for s, d in sess.execute(
        sa.select(t.student_id, t.drop).where(t.school_id == school_id, t.drop >= THRESHOLD).order_by(t.student_id))]


def reset(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("TRUNCATE alert_events, alert_assignees, alert_escalations, alert_cases")
        conn.execute(sa.text("DELETE FROM messages WHERE type_key LIKE 'alert.%'"))


def platform(app, at: datetime, messages: bool = True) -> float:
    real = notify.tell
    if not messages:  # ablation: the engine without the message center
        notify.tell = lambda *a, **kw: 0
    try:
        with app.app_context():
            sess = unscoped("test setup").mark(db.session())
            t0 = time.perf_counter()
            hits = run_scans(sess, at, rules={RULE})[RULE]
            sess.commit()
            elapsed = time.perf_counter() - t0
    finally:
        notify.tell = real
    assert hits > 0
    return elapsed


SQL = """
WITH hits AS (
  SELECT d.student_id, d.school_id, d.drop, s.class_id, s.name FROM bench_alert_drop d
  JOIN students s ON s.id = d.student_id WHERE d.drop >= :t),
upserted AS (
  INSERT INTO alert_cases (school_id, student_id, class_id, rule_key, rule_title, category, level, sensitive,
    source, value, status, open_key, count, opened_at, last_triggered_at, round_no, round_at, follow_due_at,
    next_due_at, missed, escalation_epoch, escalation_step)
  SELECT school_id, student_id, class_id, CAST(:rule AS varchar), CAST(:title AS json), 'conduct', 'yellow', false, 'scan',
    to_json(drop), 'opened', student_id || ':' || CAST(:rule AS varchar), 1, CAST(:now AS timestamp), CAST(:now AS timestamp), 1, CAST(:now AS timestamp), CAST(:due AS timestamp), CAST(:due AS timestamp), false, 0, 0 FROM hits
  ON CONFLICT (open_key) DO UPDATE SET count = alert_cases.count + 1, last_triggered_at = EXCLUDED.last_triggered_at,
    value = EXCLUDED.value, escalation_epoch = alert_cases.escalation_epoch + 1, escalation_step = 0,
    last_escalated_at = NULL
  RETURNING id, school_id, student_id, class_id, count),
assigned AS (
  INSERT INTO alert_assignees (case_id, account_id, role, reason, at)
  SELECT u.id, m.account_id, 'homeroom_teacher', 'assigned', CAST(:now AS timestamp) FROM upserted u
  JOIN memberships m ON m.org_unit_id = u.class_id AND m.role = 'homeroom_teacher'
  JOIN accounts a ON a.id = m.account_id AND a.active
  ON CONFLICT (case_id, account_id) DO NOTHING RETURNING case_id, account_id),
evented AS (
  INSERT INTO alert_events (case_id, school_id, at, kind, data)
  SELECT id, school_id, CAST(:now AS timestamp), CASE WHEN count = 1 THEN 'opened' ELSE 'retriggered' END,
    json_build_object('count', count) FROM upserted RETURNING id),
sent AS (
  INSERT INTO messages (type_key, school_id, subject_zh, body_zh, subject_en, body_en, variables, link, dedupe_key,
    recipient_count, created_at)
  SELECT 'alert.case.digest', u.school_id, '【黄色预警】德育分周降：' || count(*) || ' 名学生',
    string_agg(h.name, '、') || ' 触发了德育分周降', '[yellow alert] Conduct score weekly drop: ' || count(*),
    string_agg(h.name, ', '), json_build_object('class_id', u.class_id), '/alerts',
    'alert:digest:' || u.class_id || ':' || to_char(CAST(:now AS timestamp), 'YYYYMMDDHH24MI'), 1,
    CAST(:now AS timestamp)
  FROM upserted u JOIN hits h ON h.student_id = u.student_id GROUP BY u.school_id, u.class_id
  RETURNING id, school_id, variables)
INSERT INTO message_inbox (message_id, account_id, school_id, created_at)
SELECT s.id, m.account_id, s.school_id, CAST(:now AS timestamp) FROM sent s
JOIN memberships m ON m.org_unit_id = CAST(s.variables->>'class_id' AS int) AND m.role = 'homeroom_teacher'
JOIN accounts a ON a.id = m.account_id AND a.active
"""


def handwritten(engine: sa.Engine, at: datetime, due: datetime) -> float:
    t0 = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(sa.text(SQL), {"t": THRESHOLD, "rule": RULE, "now": at, "due": due,
                                    "title": '{"zh": "德育分周降", "en": "Conduct score weekly drop"}'})
    return time.perf_counter() - t0


def counts(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as conn:
        q = {"cases": "SELECT count(*) FROM alert_cases", "count_sum": "SELECT coalesce(sum(count), 0) FROM alert_cases",
             "assignees": "SELECT count(*) FROM alert_assignees", "events": "SELECT count(*) FROM alert_events",
             "inbox": "SELECT count(*) FROM message_inbox i JOIN messages m ON m.id = i.message_id "
                      "WHERE m.type_key LIKE 'alert.%'"}
        return {k: conn.scalar(sa.text(v)) for k, v in q.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--database-url", default=DEFAULT_URL)
    ap.add_argument("--share", type=float, default=0.10, help="share of students over the threshold")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--profile", metavar="PREFIX", help="write cProfile stats of one platform open and re-trigger "
                    "pass to PREFIX.open.prof / PREFIX.retrigger.prof, then stop")
    args = ap.parse_args()
    ensure_database(args.database_url, 100, 1000, rebuild=False)
    app = create_app({"DATABASE_URL": args.database_url, "SECRET_KEY": SECRET, "REDIS_URL": None})
    engine = app.extensions["jizuo.engine"]
    hits = indicator(engine, args.share, args.seed)
    register_rule({"key": RULE, "title": {"zh": "德育分周降", "en": "Conduct score weekly drop"}, "level": "yellow",
                   "category": "conduct", "scan": scan})
    with app.app_context():
        sess = unscoped("benchmark setup").mark(db.session())
        school = sess.scalar(sa.text("SELECT min(school_id) FROM bench_alert_drop"))
        due = load_clock(sess, school).deadlines_for("yellow", NOW)["follow"]
    print(f"rule {RULE}: {hits} of 100,000 students hit (drop >= {THRESHOLD}); {args.rounds} rounds; "
          f"load average {os.getloadavg()[0]:.1f}", flush=True)
    if args.profile:
        profile(app, engine, args.profile)
        return
    times: dict[str, list[float]] = {}
    shapes: dict[str, dict] = {}
    variants = {"platform": lambda at: platform(app, at), "platform, no messages": lambda at: platform(app, at, False),
                "hand-written SQL": lambda at: handwritten(engine, at, due)}
    for r in range(args.rounds):
        order = list(variants)[r % 3:] + list(variants)[:r % 3]
        for name in order:
            reset(engine)
            first = variants[name](NOW)
            second = variants[name](NOW + timedelta(days=1))  # the next day's scan finds them again
            times.setdefault(f"{name} · open", []).append(first)
            times.setdefault(f"{name} · re-trigger", []).append(second)
            shapes[name] = counts(engine)
    for name, shape in shapes.items():
        print(f"  rows after two passes, {name}: {shape}")
    want = shapes["hand-written SQL"]
    if shapes["platform"] != want or {**shapes["platform, no messages"], "inbox": want["inbox"]} != want:
        sys.exit("the platform's rows differ from the hand-written SQL's")
    base = {k.split(" · ")[1]: statistics.median(v) for k, v in times.items() if k.startswith("hand-written")}
    for key, xs in times.items():
        med = statistics.median(xs)
        ratio = med / base[key.split(" · ")[1]]
        print(f"{key:34s} median {med:7.2f} s   {hits / med:9.0f} cases/s   x{ratio:5.1f} of SQL")
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    reset(engine)


def profile(app, engine: sa.Engine, prefix: str) -> None:
    """cProfile of the platform's open and re-trigger passes (read with ``python -m pstats``)."""
    import cProfile

    reset(engine)
    for label, at in (("open", NOW), ("retrigger", NOW + timedelta(days=1))):
        prof = cProfile.Profile()
        prof.enable()
        took = platform(app, at)
        prof.disable()
        prof.dump_stats(f"{prefix}.{label}.prof")
        print(f"{label}: {took:.2f} s under the profiler -> {prefix}.{label}.prof")
    reset(engine)


if __name__ == "__main__":
    main()
