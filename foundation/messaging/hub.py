"""One hub per app: the Redis connection (when ``REDIS_URL`` is set), the live fan-out, the delivery
transport, and — without Redis — the in-process worker thread.

With Redis, deliveries are run by ``jizuo worker`` processes (any number); the app only queues them.
Without Redis, a thread of the app process runs them, started when there is work and ending when none is
left (pending rows due later keep it alive until they are done).
"""
from __future__ import annotations

import logging
import threading

import sqlalchemy as sa

from foundation.messaging.live import Live
from foundation.messaging.loop import DeliveryLoop
from foundation.messaging.queue import D, Transport, outstanding

log = logging.getLogger("jizuo.messaging")
_lock = threading.Lock()


class Hub:
    def __init__(self, app) -> None:
        self.app = app
        url = app.config.get("REDIS_URL")
        prefix = app.config.get("MESSAGE_REDIS_PREFIX") or "jizuo"
        if url:
            import redis

            self.redis = redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=3)
        else:
            self.redis = None
        self.live = Live(self.redis, f"{prefix}:messages:live")
        self.transport = Transport(self.redis, f"{prefix}:messages:deliveries",
                                   chunk=int(app.config.get("MESSAGE_ENQUEUE_CHUNK", 500)))
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        # each open event stream holds a server thread (waitress, werkzeug): cap them so page and API
        # requests always find a free one; a browser turned away retries later (messages.js)
        self.streams = threading.BoundedSemaphore(int(app.config.get("MESSAGE_SSE_MAX", 4)))

    def dispatch(self, message_id: int) -> None:
        """After a message is committed: announce it live and queue its pending deliveries."""
        self.live.publish(message_id)
        with self.app.extensions["jizuo.engine"].connect() as conn:
            ids = list(conn.scalars(sa.select(D.id).where(D.message_id == message_id, D.status == "pending")))
        if ids:
            self.enqueue(ids)

    def dispatch_many(self, message_ids: list[int]) -> None:
        """``dispatch`` for a batch (``send_many``): one publish wakes every stream (each reads its own new
        inbox rows, whichever message they belong to) and one query finds the pending deliveries."""
        if not message_ids:
            return
        self.live.publish(max(message_ids))
        ids: list[int] = []
        with self.app.extensions["jizuo.engine"].connect() as conn:
            for i in range(0, len(message_ids), 5000):
                ids += conn.scalars(sa.select(D.id).where(D.message_id.in_(message_ids[i:i + 5000]),
                                                          D.status == "pending"))
        if ids:
            self.enqueue(ids)

    def enqueue(self, ids: list[int]) -> None:
        try:
            self.transport.push(ids)
        except Exception as err:  # noqa: BLE001 - the rows are stored; a worker's sweep finds them
            log.warning("queueing %d deliveries failed (%s); the worker sweep will send them", len(ids), err)
        if self.redis is None:
            self.ensure_worker()

    def ensure_worker(self) -> None:
        """Without Redis: make sure the in-process worker thread is running."""
        if self.redis is not None or self._stop.is_set():
            return
        with _lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._thread = threading.Thread(target=self._work, name="jizuo-deliveries", daemon=True)
            self._thread.start()

    def _work(self) -> None:
        try:
            with self.app.app_context():
                DeliveryLoop(self.app, self.transport, sweep=0.5, block=0.5).run(self._stop, until_idle=True)
        except Exception:  # noqa: BLE001 - logged; the next send starts a fresh thread
            log.exception("in-process delivery worker stopped")

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.live.close()
        if self.redis is not None:
            self.redis.close()


def hub(app) -> Hub:
    found = app.extensions.get("jizuo.messaging")
    if found is None:
        with _lock:
            found = app.extensions.get("jizuo.messaging")
            if found is None:
                found = app.extensions["jizuo.messaging"] = Hub(app)
                # the test fixtures (and a clean shutdown) call these when the app goes away
                app.extensions.setdefault("jizuo.plugin_unsubscribe", []).append(found.close)
    return found


def resume(app) -> None:
    """Without Redis, deliveries left pending by a previous run of the app (a retry waiting out its
    backoff when the server restarted) have no thread to run them: start one on the app's first request.
    With Redis, ``jizuo worker`` processes resume them by their sweep."""
    if app.config.get("REDIS_URL") or app.extensions.get("jizuo.messaging.resumed"):
        return
    app.extensions["jizuo.messaging.resumed"] = True
    try:
        waiting = outstanding(app.extensions["jizuo.engine"])
    except Exception:  # noqa: BLE001 - a database without the tables yet (before jizuo init): nothing waits
        log.debug("delivery table not readable yet", exc_info=True)
        return
    if waiting:
        hub(app).ensure_worker()
