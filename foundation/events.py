"""The internal event bus: domain events raised by ingestion (``attendance.late``, ``card.transaction``…), by
low-code submissions and by plugins, delivered to subscribers in the same process, in batches. Every event
and its payload is in the catalogue, docs/events.md (a test fails on an undocumented one).

Each subscriber runs in a savepoint of the publisher's session: a failing handler's writes are rolled back,
the other subscribers' kept, the failure logged and counted (``/healthz`` shows the counts). The records
that raised the event are never undone by a subscriber's bug. Plugins' subscribers are further wrapped by
the plugin runtime: one delivery per school where the plugin is enabled, acting for that school."""
from __future__ import annotations

import logging
import threading
from collections import Counter, defaultdict
from collections.abc import Callable
from fnmatch import fnmatchcase
from typing import Any

log = logging.getLogger("jizuo.events")
Handler = Callable[[str, list[dict]], None]
_subscribers: dict[str, list[Handler]] = defaultdict(list)
_failures: Counter[str] = Counter()
_lock = threading.Lock()


def subscribe(pattern: str, handler: Handler) -> Callable[[], None]:
    """Call ``handler(event, payloads)`` for events matching ``pattern`` (``*`` wildcards). Returns an
    unsubscribe function."""
    _subscribers[pattern].append(handler)
    return lambda: _subscribers[pattern].remove(handler)


def _session() -> Any:
    from flask import has_app_context

    if not has_app_context():
        return None
    from foundation import db

    return db.session()


def isolated(label: str, fn: Callable[[], None]) -> bool:
    """Run ``fn`` in a savepoint of the current session (when there is one): on an exception its writes
    are rolled back, the failure logged and counted under ``label``. True when it succeeded."""
    sess = _session()
    try:
        if sess is None:
            fn()
        else:
            with sess.begin_nested():
                fn()
        return True
    except Exception:  # noqa: BLE001 - a subscriber's bug must not lose the records or the other subscribers
        log.exception("event subscriber %s failed", label)
        with _lock:
            _failures[label] += 1
        return False


def failures() -> dict[str, int]:
    """Failed deliveries since the process started, per ``subscriber: event`` (for /healthz)."""
    with _lock:
        return dict(_failures)


def _label(handler: Handler, event: str) -> str:
    name = getattr(handler, "jizuo_label", None) or f"{handler.__module__}.{getattr(handler, '__qualname__', handler)}"
    return f"{name}: {event}"


def publish(event: str, payloads: list[dict]) -> int:
    """Deliver a batch; returns how many subscribers took it without failing."""
    delivered = 0
    for pattern, handlers in list(_subscribers.items()):
        if not fnmatchcase(event, pattern):
            continue
        for handler in list(handlers):
            if getattr(handler, "jizuo_isolates", False):  # the plugin runtime isolates each school's delivery
                handler(event, payloads)
                delivered += 1
            elif isolated(_label(handler, event), lambda h=handler: h(event, payloads)):
                delivered += 1
    return delivered
