"""The delivery loop, given what it works on: the engine, the channels' settings and a transport.

Each round: sweep the table for due rows every ``sweep`` seconds (retries after backoff, expired leases,
ids that never reached Redis), reclaim stream entries a dead worker held, then take new entries from the
queue. Redis going away does not stop deliveries: the loop keeps sweeping the database and picks the
stream up again when Redis is back.

It knows nothing of the hub: the hub runs one in a thread of the app process (without Redis), and
``worker.Worker`` runs one on the hub's transport (``jizuo worker``, tests).
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time

from foundation.messaging.queue import Transport, due_ids, outstanding, process
from foundation.messaging.settings import Settings

log = logging.getLogger("jizuo.messaging.worker")


class DeliveryLoop:
    def __init__(self, app, transport: Transport, *, sweep: float = 1.0, block: float = 0.5) -> None:
        self.app, self.transport = app, transport
        self.engine = app.extensions["jizuo.engine"]
        self.cfg = Settings.of(app.config)
        self.sweep_every, self.block = sweep, block
        self.consumer = f"{socket.gethostname()}-{os.getpid()}-{threading.get_ident()}"
        self.counts = {"sent": 0, "retry": 0, "dead": 0}

    def _run_ids(self, ids) -> int:
        done = 0
        for delivery_id in ids:
            outcome = process(self.engine, self.cfg, delivery_id)
            if outcome:
                self.counts[outcome] += 1
                done += 1
        return done

    def step(self, last_sweep: float) -> tuple[int, float]:
        """One round; returns (deliveries attempted + queue entries read, time of the last sweep)."""
        done, transport = 0, self.transport
        now = time.monotonic()
        if now - last_sweep >= self.sweep_every:
            done += self._run_ids(due_ids(self.engine))
            last_sweep = now
            try:
                entries = transport.reclaim(self.consumer, self.cfg.lease)
                done += self._run_ids(d for _, d in entries)
                transport.ack([e for e, _ in entries])
            except Exception as err:  # noqa: BLE001 - redis down: the sweep above carries on
                log.warning("reclaiming stream entries failed: %s", err)
        try:
            entries = transport.take(self.consumer, self.block)
        except Exception as err:  # noqa: BLE001
            log.warning("reading the delivery stream failed: %s; sweeping the database meanwhile", err)
            time.sleep(self.block)
            return done, last_sweep
        done += self._run_ids(d for _, d in entries) + len(entries)  # an entry for a finished row counts too
        if entries:
            try:
                transport.ack([e for e, _ in entries if e is not None])
            except Exception as err:  # noqa: BLE001 - an unacked entry is reclaimed and finds its row done
                log.warning("acknowledging stream entries failed: %s", err)
        return done, last_sweep

    def run(self, stop: threading.Event, *, until_idle: bool = False, timeout: float | None = None) -> dict:
        """Work until ``stop`` is set; with ``until_idle``, also stop once no delivery is pending or being
        sent (``timeout`` bounds that wait). Returns the counts of outcomes."""
        started, last_sweep = time.monotonic(), 0.0
        while not stop.is_set():
            done, last_sweep = self.step(last_sweep)
            if until_idle and not done and outstanding(self.engine) == 0:  # no rows due, queue drained
                break
            if timeout is not None and time.monotonic() - started > timeout:
                break
        return self.counts
