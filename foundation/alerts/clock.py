"""The alert engine's clock. Everything that compares against "now" reads :func:`now` (or takes ``now=``),
so tests move time forward by replacing this function instead of sleeping."""
from __future__ import annotations

from datetime import datetime

from foundation.db import utcnow


def now() -> datetime:
    """The current time, naive UTC like every timestamp column."""
    return utcnow()
