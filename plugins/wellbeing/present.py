"""Small formatting helpers shared by the API and the pages."""
from __future__ import annotations

from datetime import datetime


def iso(at: datetime | None) -> str | None:
    """A stored UTC time as ISO 8601 with its zone, as every time the API gives out."""
    return None if at is None else at.replace(microsecond=0).isoformat() + "Z"
