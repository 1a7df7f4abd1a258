"""The delivery worker: ``jizuo worker`` with Redis (any number of processes share the stream), and
:func:`run_until_idle` for tests and ``jizuo worker --burst``. A worker is the delivery loop (loop.py) on
the app's hub transport; without Redis the hub runs the same loop in a thread of the app process.
"""
from __future__ import annotations

import threading

from foundation.messaging.hub import hub
from foundation.messaging.loop import DeliveryLoop


class Worker(DeliveryLoop):
    """The delivery loop on the transport of the app's hub (the Redis stream, or the in-process queue)."""

    def __init__(self, app, *, sweep: float = 1.0, block: float = 0.5) -> None:
        super().__init__(app, hub(app).transport, sweep=sweep, block=block)


def run_until_idle(app, timeout: float = 30.0, sweep: float = 0.2) -> dict:
    """Drain every outstanding delivery in this process (tests, ``jizuo worker --burst``)."""
    return Worker(app, sweep=sweep, block=0.1).run(threading.Event(), until_idle=True, timeout=timeout)
