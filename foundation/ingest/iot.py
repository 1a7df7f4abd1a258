"""IoT templates: a device payload (gate, POS terminal, check-in terminal, smart pen) mapped into a
business library by the template's declarative mapping, then ingested like any record."""
from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any


class MappingError(ValueError):
    def __init__(self, field: str, key: str) -> None:
        super().__init__(f"{field}: {key}")
        self.field, self.key = field, key


def _epoch(value: Any, scale: int) -> str:
    try:
        return datetime.fromtimestamp(float(value) / scale, UTC).replace(tzinfo=None).isoformat() + "Z"
    except (TypeError, ValueError, OverflowError, OSError):
        raise MappingError("ts", "iot.bad_timestamp") from None


def _fen_to_yuan(value: Any) -> str:
    try:
        return str((Decimal(str(value)) / 100).quantize(Decimal("0.01")))
    except (InvalidOperation, ValueError):
        raise MappingError("amount", "iot.bad_number") from None


TRANSFORMS = {
    "epoch_seconds": lambda v, spec: _epoch(v, 1),
    "epoch_millis": lambda v, spec: _epoch(v, 1000),
    "fen_to_yuan": lambda v, spec: _fen_to_yuan(v),
    "upper": lambda v, spec: str(v).upper(),
    "lower": lambda v, spec: str(v).lower(),
    "map": lambda v, spec: spec["values"].get(str(v), v),
}


def map_payload(template: dict, payload: Any) -> dict:
    """One device payload → one record of ``template['library']`` (envelope + elements)."""
    if not isinstance(payload, dict):
        raise MappingError("_payload", "ingest.not_object")
    out: dict[str, Any] = {}
    for target, spec in template["mapping"].items():
        if "const" in spec:
            out[target] = spec["const"]
            continue
        src = spec["from"]
        if isinstance(src, list):
            parts = [payload.get(k) for k in src]
            if any(p is None for p in parts):
                continue
            value: Any = spec.get("join", "-").join(str(p) for p in parts)
        else:
            value = payload.get(src)
            if value is None:
                continue
        if "transform" in spec:
            value = TRANSFORMS[spec["transform"]](value, spec)
        out[target] = value
    return out
