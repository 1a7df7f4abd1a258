"""Faults against real Redis (a redis-server of the test's own) and the real database: Redis stopped in
the middle of a fan-out, and a `jizuo worker` process killed mid-delivery. Afterwards every message is
in every inbox once and applied once by the portal; the delivery table is the ground truth."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from foundation.messaging.hub import hub
from foundation.messaging.worker import run_until_idle
from foundation.models import Delivery, InboxItem, MessageContact
from tests.conftest import SECRET
from tests.messaging.support import WEBHOOK_SECRET, classes, parent_accounts, schools
from tests.messaging.test_delivery import channels, faulty_portal, keys, send_to_class

JIZUO = str(Path(sys.executable).with_name("jizuo"))


def test_redis_stopped_mid_fanout_loses_nothing_and_doubles_nothing(app, db_session, portal, mailbox, redis_server,
                                                                     prefix):
    channels(app, portal, mailbox, REDIS_URL=redis_server.url, MESSAGE_REDIS_PREFIX=prefix, MESSAGE_ENQUEUE_CHUNK=10)
    parents = parent_accounts(db_session, classes(db_session, schools(db_session)[0])[0])
    for aid in parents[::4]:
        db_session.add(MessageContact(account_id=aid, email=f"p{aid}@home.test"))
    db_session.commit()
    h = hub(app)
    real, chunks = h.transport._push_chunk, []

    def push_then_redis_dies(ids):
        real(ids)
        chunks.append(len(ids))
        if len(chunks) == 2:
            redis_server.stop()  # the server really goes away between two chunks of the fan-out

    h.transport._push_chunk = push_then_redis_dies
    msg = send_to_class(app, db_session)  # commit → live publish → queue: 2 chunks, then Redis is gone
    assert chunks == [10, 10] and msg.recipient_count == len(parents) > 20
    assert db_session.scalar(sa.select(sa.func.count()).select_from(InboxItem).where(
        InboxItem.message_id == msg.id)) == len(parents)  # stored before any delivery, whatever Redis does
    with app.app_context():
        run_until_idle(app, timeout=60)  # Redis still down: the worker sweeps the table instead
    db_session.expire_all()
    rows = keys(db_session, msg.id, "webhook")
    assert len(rows) == len(parents) and all(d.status == "sent" and d.attempts == 1 for d in rows.values())
    assert set(portal.applied) == set(rows) and set(portal.seen.values()) == {1}
    mails = keys(db_session, msg.id, "email")
    assert len(mails) == len(parents[::4]) and all(d.status == "sent" for d in mails.values())
    assert len(mailbox.messages) == len(mails) and set(mailbox.ids().values()) == {1}
    # Redis comes back (empty): the next message flows through the stream again
    redis_server.start()
    h.transport._push_chunk = real
    msg2 = send_to_class(app, db_session)
    assert h.redis.xlen(h.transport.stream) == len(parents) + len(mails)
    with app.app_context():
        run_until_idle(app, timeout=60)
    assert h.redis.xlen(h.transport.stream) == 0  # acknowledged and removed
    db_session.expire_all()
    assert all(d.status == "sent" for d in keys(db_session, msg2.id, "webhook").values())
    assert set(portal.seen.values()) == {1} and len(portal.applied) == 2 * len(parents)
    assert len(mailbox.messages) == 2 * len(mails) and set(mailbox.ids().values()) == {1}


def test_failing_portal_with_redis_and_a_worker(app, demo, db_session, portal, redis_server, prefix):
    """The 500s / time-outs / dead letters / replay scenario of test_delivery.py, on the Redis stream."""
    channels(app, portal, REDIS_URL=redis_server.url, MESSAGE_REDIS_PREFIX=prefix)
    faulty_portal(app, demo, db_session, portal)
    h = hub(app)
    assert h.redis.xlen(h.transport.stream) == 0 and h._thread is None  # the stream carried it, no thread


def _worker(app, redis_server, prefix, tmp_path, *args) -> subprocess.Popen:
    env = os.environ | {
        "JIZUO_DATABASE_URL": app.config["DATABASE_URL"], "JIZUO_REDIS_URL": redis_server.url,
        "JIZUO_MESSAGE_REDIS_PREFIX": prefix, "JIZUO_MESSAGE_WEBHOOK_URL": app.config["MESSAGE_WEBHOOK_URL"],
        "JIZUO_MESSAGE_WEBHOOK_SECRET": WEBHOOK_SECRET, "JIZUO_MESSAGE_LEASE": "2",
        "JIZUO_MESSAGE_WEBHOOK_TIMEOUT": "10", "JIZUO_SECRET_KEY": SECRET, "JIZUO_PLUGINS": "",
        "JIZUO_INSTANCE_PATH": str(tmp_path / "worker")}
    return subprocess.Popen([JIZUO, "worker", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def test_worker_killed_mid_delivery_is_finished_by_the_next_once(app, db_session, portal, redis_server, prefix,
                                                                  tmp_path):
    channels(app, portal, REDIS_URL=redis_server.url, MESSAGE_REDIS_PREFIX=prefix, MESSAGE_LEASE=2)
    parents = parent_accounts(db_session, classes(db_session, schools(db_session)[0])[0])
    msg = send_to_class(app, db_session)  # queued in the Redis stream; no worker yet
    expected = {f"{msg.id}:{a}:webhook" for a in parents}
    portal.slow = dict.fromkeys(expected, 1)  # the portal applies each one, but answers after 3 s
    portal.hang_seconds = 3
    first = _worker(app, redis_server, prefix, tmp_path)
    deadline = time.monotonic() + 60
    while not portal.seen and time.monotonic() < deadline:
        time.sleep(0.05)
    first.kill()  # mid-job: the request is out, the answer has not come back
    first.wait()
    (victim,) = portal.seen
    db_session.expire_all()
    held = keys(db_session, msg.id, "webhook")[victim]
    assert held.status == "sending" and held.attempts == 1  # claimed by the dead worker, lease running
    assert sum(1 for d in keys(db_session, msg.id, "webhook").values() if d.status == "sent") == 0
    portal.slow.clear()
    second = _worker(app, redis_server, prefix, tmp_path, "--burst", "--sweep", "0.2")
    out = second.communicate(timeout=120)[0].decode()
    assert second.returncode == 0, out
    db_session.expire_all()
    rows = keys(db_session, msg.id, "webhook")
    assert set(rows) == expected and all(d.status == "sent" for d in rows.values())
    assert rows[victim].attempts == 2  # the lease ran out and the second worker sent it again …
    assert portal.seen[victim] == 2 and portal.applied[victim] == 1  # … under the same key: applied once
    assert all(portal.seen[k] == 1 for k in expected - {victim}) and set(portal.applied.values()) == {1}
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Delivery).where(
        Delivery.status != "sent")) == 0
    h = hub(app)
    assert h.redis.xpending(h.transport.stream, "workers")["pending"] == 0  # the dead worker's entry reclaimed
