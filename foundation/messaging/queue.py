"""The delivery queue and the worker that drains it.

The database row (``message_deliveries``, unique per message × account × channel) is the truth; the
queue only says "look at delivery N now". A worker *claims* a row with one conditional UPDATE (pending
and due, or sending with an expired lease → sending, attempts + 1, lease set), sends, then marks it sent
— or, on failure, pending again after an exponential backoff, or dead once the attempts are used up.
Two workers, a duplicate queue entry, a replay or a restarted worker therefore never send one delivery
twice while its lease holds; a worker killed mid-send leaves a row whose lease runs out, and the next
sweep sends it again with the same delivery key (the portal and mail clients drop a repeat by it).

Transport: with Redis, a Stream with a consumer group (``XREADGROUP``; ``XACK`` + ``XDEL`` when done;
``XAUTOCLAIM`` of entries a dead worker held). Without Redis, a local ``queue.Queue`` drained by a
thread. Either way every worker also sweeps the table for due rows, which covers retries after backoff,
expired leases, and ids that never reached the queue because Redis was down at the time.
"""
from __future__ import annotations

import logging
import queue as stdlib_queue
import random
from datetime import timedelta

import sqlalchemy as sa

from foundation.db import utcnow
from foundation.messaging.channels import DeliveryFailed, send_email, send_webhook
from foundation.messaging.settings import Settings
from foundation.models import Account
from foundation.models.messages import Delivery, Message, MessageContact
from foundation.tenancy import unscoped

DELIVER = unscoped("the delivery worker sends each queued message, whatever its school")

log = logging.getLogger("jizuo.messaging.queue")
D = Delivery.__table__.c


class Transport:
    """Where delivery ids wait for a worker: a Redis Stream (consumer group) or a local queue."""

    def __init__(self, redis_client, stream: str, group: str = "workers", chunk: int = 500) -> None:
        self.redis, self.stream, self.group, self.chunk = redis_client, stream, group, chunk
        self.local: stdlib_queue.Queue[int] = stdlib_queue.Queue()
        self._group_ready = False

    def push(self, ids: list[int]) -> None:
        """Queue ids (Redis: in pipelined chunks). Raises redis errors to the caller, who logs them."""
        if self.redis is None:
            for i in ids:
                self.local.put(i)
            return
        for start in range(0, len(ids), self.chunk):
            self._push_chunk(ids[start:start + self.chunk])

    def _push_chunk(self, ids: list[int]) -> None:
        pipe = self.redis.pipeline(transaction=False)
        for i in ids:
            pipe.xadd(self.stream, {"d": i})
        pipe.execute()

    def _ensure_group(self) -> None:
        if self._group_ready:
            return
        try:
            self.redis.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except Exception as err:  # noqa: BLE001 - BUSYGROUP: it exists already
            if "BUSYGROUP" not in str(err):
                raise
        self._group_ready = True

    def take(self, consumer: str, block: float, count: int = 100) -> list[tuple[str | None, int]]:
        """Up to ``count`` (entry id, delivery id) pairs, waiting up to ``block`` seconds."""
        if self.redis is None:
            try:
                first = self.local.get(timeout=block)
            except stdlib_queue.Empty:
                return []
            out = [(None, first)]
            while len(out) < count:
                try:
                    out.append((None, self.local.get_nowait()))
                except stdlib_queue.Empty:
                    break
            return out
        self._ensure_group()
        try:
            reply = self.redis.xreadgroup(self.group, consumer, {self.stream: ">"}, count=count,
                                          block=max(1, int(block * 1000)))
        except Exception as err:
            self._lost_group(err)
            raise
        return [(eid, int(fields[b"d"])) for _stream, entries in reply or [] for eid, fields in entries]

    def reclaim(self, consumer: str, min_idle: float, count: int = 100) -> list[tuple[str, int]]:
        """Entries another (dead) consumer took but never acknowledged."""
        if self.redis is None:
            return []
        self._ensure_group()
        try:
            reply = self.redis.xautoclaim(self.stream, self.group, consumer, int(min_idle * 1000), "0-0", count=count)
        except Exception as err:
            self._lost_group(err)
            raise
        return [(eid, int(fields[b"d"])) for eid, fields in reply[1] if fields]

    def _lost_group(self, err: Exception) -> None:
        """A Redis that restarted empty has no group (NOGROUP) and a dropped connection may mean that:
        create the group again on the next call."""
        self._group_ready = False
        log.debug("stream read failed (%s); the consumer group is recreated on the next read", err)

    def ack(self, entry_ids: list[str]) -> None:
        if self.redis is None or not entry_ids:
            return
        pipe = self.redis.pipeline(transaction=False)
        pipe.xack(self.stream, self.group, *entry_ids)
        pipe.xdel(self.stream, *entry_ids)
        pipe.execute()


def due_ids(engine: sa.Engine, limit: int = 500) -> list[int]:
    """Rows a worker should look at now: pending and due, or claimed by a worker whose lease ran out."""
    now = utcnow()
    stmt = (sa.select(D.id).where(sa.or_(sa.and_(D.status == "pending", D.next_attempt_at <= now),
                                         sa.and_(D.status == "sending", D.lease_until < now)))
            .order_by(D.next_attempt_at).limit(limit))
    with engine.connect() as conn:
        return list(conn.scalars(stmt))


def outstanding(engine: sa.Engine) -> int:
    """How many deliveries are not finished (pending or sending)."""
    with engine.connect() as conn:
        return conn.scalar(sa.select(sa.func.count()).where(D.status.in_(("pending", "sending"))))


def backoff(cfg: Settings, attempts: int) -> float:
    """Seconds before attempt ``attempts + 1``: base × 2^(attempts-1), at most an hour, with up to 10% jitter
    so a portal coming back is not hit by every retry at once."""
    base = min(cfg.backoff * 2 ** max(attempts - 1, 0), 3600.0)
    return base * (1 + random.random() * 0.1)


def claim(engine: sa.Engine, cfg: Settings, delivery_id: int) -> bool:
    now = utcnow()
    stmt = (sa.update(Delivery.__table__)
            .where(D.id == delivery_id,
                   sa.or_(sa.and_(D.status == "pending", D.next_attempt_at <= now),
                          sa.and_(D.status == "sending", D.lease_until < now)))
            .values(status="sending", attempts=D.attempts + 1, lease_until=now + timedelta(seconds=cfg.lease)))
    with engine.begin() as conn:
        return conn.execute(stmt).rowcount == 1


def process(engine: sa.Engine, cfg: Settings, delivery_id: int) -> str | None:
    """Claim and send one delivery. Returns "sent", "retry", "dead", or None when it was not ours to send
    (already sent, not due, or held by another worker)."""
    if not claim(engine, cfg, delivery_id):
        return None
    with DELIVER.session(engine) as sess:
        row = sess.get(Delivery, delivery_id)
        msg, account = sess.get(Message, row.message_id), sess.get(Account, row.account_id)
        contact = sess.get(MessageContact, row.account_id)
        attempts, channel = row.attempts, row.channel
    error = None
    try:
        if channel == "webhook":
            send_webhook(cfg, msg, account)
        elif channel == "email":
            if contact is None or not contact.email:
                raise DeliveryFailed("email: the person has no address")
            send_email(cfg, msg, account, contact.email)
        else:
            raise DeliveryFailed(f"unknown channel {channel}")
    except DeliveryFailed as err:
        error = str(err)
    now = utcnow()
    if error is None:
        values, outcome = {"status": "sent", "delivered_at": now, "lease_until": None, "last_error": None}, "sent"
    elif attempts >= cfg.max_attempts:
        values, outcome = {"status": "dead", "lease_until": None, "last_error": error}, "dead"
    else:
        values = {"status": "pending", "lease_until": None, "last_error": error,
                  "next_attempt_at": now + timedelta(seconds=backoff(cfg, attempts))}
        outcome = "retry"
    with engine.begin() as conn:
        conn.execute(sa.update(Delivery.__table__).where(D.id == delivery_id, D.status == "sending").values(**values))
    if error:
        log.info("delivery %s (%s) attempt %s failed: %s → %s", delivery_id, channel, attempts, error, outcome)
    return outcome
