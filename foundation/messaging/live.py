"""Live fan-out: telling open browsers (server-sent events) that new inbox rows exist.

A publish carries only the message id; each SSE stream then reads its own account's new inbox rows from
the database past the last event id it sent. So the wire never carries who gets what, a stream never
repeats or skips a row (the browser resumes with ``Last-Event-ID``), and when Redis is unreachable the
streams still catch up by polling. With Redis, every app process subscribes to one pub/sub channel and
wakes its local streams, so a message created in one process reaches a browser connected to another.
"""
from __future__ import annotations

import logging
import threading
import time

log = logging.getLogger("jizuo.messaging.live")


class Notifier:
    """A process-local wake-up: a counter bumped on every publish, which streams wait on."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.version = 0
        self.stopping = False  # the process is stopping: open streams end, their browsers reconnect elsewhere

    def stop(self) -> None:
        """Wake every waiting stream for good (a worker's graceful stop must not wait on them)."""
        with self._cond:
            self.stopping = True
            self.version += 1
            self._cond.notify_all()

    def bump(self) -> None:
        with self._cond:
            self.version += 1
            self._cond.notify_all()

    def wait(self, seen: int, timeout: float) -> int:
        """Block until the counter moves past ``seen`` or ``timeout`` passes; returns the counter."""
        with self._cond:
            self._cond.wait_for(lambda: self.version != seen, timeout=timeout)
            return self.version


class Live:
    """Publishing and listening for one app: in-process, or through Redis pub/sub."""

    def __init__(self, redis_client, channel: str) -> None:
        self.redis, self.channel = redis_client, channel
        self.notifier = Notifier()
        self._listener: threading.Thread | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()

    def publish(self, message_id: int) -> bool:
        """Announce a stored message. Returns False when Redis could not be reached (the streams' poll
        delivers it a little later)."""
        if self.redis is None:
            self.notifier.bump()
            return True
        try:
            self.redis.publish(self.channel, str(message_id))
            return True
        except Exception as err:  # noqa: BLE001 - redis down: stored rows reach browsers on the next poll
            log.warning("live publish of message %s failed: %s", message_id, err)
            self.notifier.bump()  # at least this process's streams look now
            return False

    def listen(self) -> None:
        """Start (once) the thread that relays Redis publishes to this process's streams."""
        if self.redis is None or self._listener is not None:
            return
        with self._lock:
            if self._listener is None:
                self._listener = threading.Thread(target=self._relay, name="jizuo-live", daemon=True)
                self._listener.start()

    def _relay(self) -> None:
        while not self._stop.is_set():
            pubsub = None
            try:
                pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(self.channel)
                self.notifier.bump()  # (re)connected: look for anything missed meanwhile
                while not self._stop.is_set():
                    if pubsub.get_message(timeout=1.0) is not None:
                        self.notifier.bump()
            except Exception as err:  # noqa: BLE001 - keep relaying after Redis comes back
                log.warning("live relay lost Redis (%s); retrying", err)
                time.sleep(0.5)
            finally:
                if pubsub is not None:
                    try:
                        pubsub.close()
                    except Exception:  # noqa: BLE001
                        pass

    def close(self) -> None:
        self._stop.set()
        self.notifier.bump()
        if self._listener is not None:
            self._listener.join(timeout=3)
