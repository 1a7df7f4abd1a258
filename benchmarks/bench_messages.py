"""A district notice to every account of the 100 x 1000 demo district (every student given an account:
~101,000 recipients) through the message center on PostgreSQL + Redis — from ``send()`` until every
inbox row is committed and the live fan-out has been received by a Redis subscriber — against a plain
bulk insert (COPY) of the same inbox rows, ids already known, in the same run. A second platform line
turns the webhook channel on: one delivery row per recipient plus one Redis Stream entry each.

    .venv/bin/python benchmarks/bench_messages.py              # 3 rounds, median
    .venv/bin/python benchmarks/bench_messages.py --rounds 5

Uses its own database (``jizuo_bench_messages``, built like bench_students_api.py's the first time) because
it adds 100,000 student accounts, which the other benchmarks should not see. Redis: ``--redis-url``
(default redis://127.0.0.1:6379/0), keys under a fresh prefix, removed at the end.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime

import redis
import sqlalchemy as sa

sys.path.insert(0, os.path.dirname(__file__))
from bench_students_api import SECRET, ensure_database  # noqa: E402

from foundation import create_app, db  # noqa: E402
from foundation.messaging import send  # noqa: E402
from foundation.messaging.recipients import resolve  # noqa: E402
from foundation.messaging.service import delete_message  # noqa: E402
from foundation.models import InboxItem  # noqa: E402
from foundation.tenancy import unscoped  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/jizuo_bench_messages"


def student_accounts(engine: sa.Engine) -> int:
    """Give every student an account with a student membership at their class (once)."""
    with engine.begin() as conn:
        have = conn.scalar(sa.text("SELECT count(*) FROM accounts WHERE username LIKE 'bench.st%'"))
        if not have:
            print("giving every student an account ...", flush=True)
            conn.execute(sa.text(
                "INSERT INTO accounts (username, display_name, person_kind, person_id, active, failed_logins,"
                " created_at, updated_at) SELECT 'bench.st' || id, name, 'student', id, true, 0, now(), now()"
                " FROM students"))
            conn.execute(sa.text(
                "INSERT INTO memberships (account_id, role, org_unit_id, school_id) SELECT a.id, 'student',"
                " s.class_id, s.school_id FROM accounts a JOIN students s ON s.id = a.person_id"
                " WHERE a.username LIKE 'bench.st%'"))
        conn.exec_driver_sql("ANALYZE accounts")
        conn.exec_driver_sql("ANALYZE memberships")
        return conn.scalar(sa.text("SELECT count(*) FROM accounts WHERE active"))


class Listener:
    """A Redis subscriber on the live channel: when did the publish of message N arrive?"""

    def __init__(self, client: redis.Redis, channel: str) -> None:
        self.pubsub = client.pubsub(ignore_subscribe_messages=True)
        self.pubsub.subscribe(channel)
        self.seen: dict[int, float] = {}
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            msg = self.pubsub.get_message(timeout=0.05)
            if msg:
                self.seen[int(msg["data"])] = time.perf_counter()

    def wait(self, message_id: int, timeout: float = 30) -> float:
        end = time.perf_counter() + timeout
        while message_id not in self.seen and time.perf_counter() < end:
            time.sleep(0.001)
        return self.seen[message_id]

    def close(self) -> None:
        self._stop.set()
        self.thread.join()
        self.pubsub.close()


def platform_round(app, listener: Listener) -> tuple[float, int]:
    with app.app_context():
        sess = unscoped("test setup").mark(db.session())
        start = time.perf_counter()
        msg = send(sess, "notice", recipients=[{"district": True}], school_id=None,
                   variables={"subject": "寒假安全告家长书", "body": "各位家长：寒假将至，请注意……"})
        sess.commit()  # the inbox rows are durable; the hub publishes after this commit
        done = listener.wait(msg.id)
        count = sess.scalar(sa.select(sa.func.count()).select_from(InboxItem).where(InboxItem.message_id == msg.id))
        assert count == msg.recipient_count
        delete_message(sess, msg.id)
        sess.commit()
        return done - start, count


def copy_round(app) -> float:
    """COPY the same (message, account, school, time) rows into a plain table with only a primary key."""
    engine = app.extensions["jizuo.engine"]
    with engine.connect() as conn:
        rows = conn.execute(resolve([{"district": True}])).all()
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("DROP TABLE IF EXISTS bench_copy_inbox")
        cur.execute("CREATE TABLE bench_copy_inbox (id bigserial primary key, message_id int, account_id int,"
                    " school_id int, created_at timestamp)")
        raw.commit()
        now = datetime.utcnow()
        start = time.perf_counter()
        with cur.copy("COPY bench_copy_inbox (message_id, account_id, school_id, created_at) FROM STDIN") as cp:
            for account_id, school_id in rows:
                cp.write_row((1, account_id, school_id, now))
        raw.commit()
        elapsed = time.perf_counter() - start
        cur.execute("DROP TABLE bench_copy_inbox")
        raw.commit()
        return elapsed
    finally:
        raw.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--database-url", default=DEFAULT_URL)
    ap.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    ensure_database(args.database_url, 100, 1000, False)
    prefix = f"jizuo-bench-{uuid.uuid4().hex[:8]}"
    app = create_app({"DATABASE_URL": args.database_url, "SECRET_KEY": SECRET, "INSTANCE_PATH": tempfile.mkdtemp(),
                      "REDIS_URL": args.redis_url, "MESSAGE_REDIS_PREFIX": prefix})
    accounts = student_accounts(app.extensions["jizuo.engine"])
    client = redis.Redis.from_url(args.redis_url)
    listener = Listener(client, f"{prefix}:messages:live")
    results: dict[str, list[float]] = {"platform": [], "webhook": [], "copy": []}
    recipients = 0
    try:
        for n in range(args.rounds):
            seconds, recipients = platform_round(app, listener)
            results["platform"].append(seconds)
            app.config.update({"MESSAGE_WEBHOOK_URL": "http://127.0.0.1:9/unused", "MESSAGE_WEBHOOK_SECRET": "x"})
            results["webhook"].append(platform_round(app, listener)[0])
            app.config.update({"MESSAGE_WEBHOOK_URL": None, "MESSAGE_WEBHOOK_SECRET": None})
            results["copy"].append(copy_round(app))
            print(f"  round {n + 1}: platform {results['platform'][-1]:.2f}s, with webhook rows "
                  f"{results['webhook'][-1]:.2f}s, COPY {results['copy'][-1]:.2f}s", flush=True)
        queued = client.xlen(f"{prefix}:messages:deliveries")
    finally:
        listener.close()
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)
        for stop in app.extensions.get("jizuo.plugin_unsubscribe", []):
            stop()
    with app.extensions["jizuo.engine"].connect() as conn:
        version = conn.scalar(sa.text("SELECT version()")).split(",")[0]
    med = {k: statistics.median(v) for k, v in results.items()}
    print(f"\n{datetime.now():%Y-%m-%d %H:%M}  CPUs: {os.cpu_count()}  {version}  active accounts: {accounts:,}")
    print(f"{'path (median of ' + str(args.rounds) + ')':<66}{'rows':>10}{'seconds':>9}{'rows/s':>10}")
    for key, label in (("platform", "district notice: inbox rows committed + live publish received"),
                       ("webhook", "the same with the webhook on (+ delivery rows + stream entries)"),
                       ("copy", "COPY of the same inbox rows into a plain table")):
        print(f"{label:<66}{recipients:>10,}{med[key]:>9.2f}{recipients / med[key]:>10,.0f}")
    print(f"ratio platform/COPY time: {med['platform'] / med['copy']:.2f}  "
          f"(stream entries queued in the webhook rounds: {queued:,})")


if __name__ == "__main__":
    main()
