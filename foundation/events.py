"""The internal event bus: domain events raised by ingestion (``attendance.late``, ``card.transaction``…)
and delivered to subscribers in the same process, in batches. The plugin host's hook delivers to plugins
through this same bus. A failing subscriber is logged and does not undo the records that raised it."""
from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from fnmatch import fnmatchcase

log = logging.getLogger("jizuo.events")
Handler = Callable[[str, list[dict]], None]
_subscribers: dict[str, list[Handler]] = defaultdict(list)


def subscribe(pattern: str, handler: Handler) -> Callable[[], None]:
    """Call ``handler(event, payloads)`` for events matching ``pattern`` (``*`` wildcards). Returns an
    unsubscribe function."""
    _subscribers[pattern].append(handler)
    return lambda: _subscribers[pattern].remove(handler)


def publish(event: str, payloads: list[dict]) -> int:
    """Deliver a batch; returns how many subscribers got it."""
    delivered = 0
    for pattern, handlers in list(_subscribers.items()):
        if not fnmatchcase(event, pattern):
            continue
        for handler in list(handlers):
            try:
                handler(event, payloads)
                delivered += 1
            except Exception:  # noqa: BLE001 - a subscriber's bug must not lose the records
                log.exception("subscriber %r failed on %s", handler, event)
    return delivered
