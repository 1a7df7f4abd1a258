"""Reading what a source sends: JSON batches and CSV uploads (UTF-8, UTF-8 with BOM or GB18030, which
Chinese school systems commonly export), turned into records for the ingest service."""
from __future__ import annotations

import csv
import io
from typing import Any

ENCODINGS = ("utf-8-sig", "gb18030")


class IntakeError(ValueError):
    def __init__(self, key: str, line: int | None = None) -> None:
        super().__init__(key)
        self.key, self.line = key, line


def decode(raw: bytes) -> tuple[str, str]:
    """The text and the encoding it was in. UTF-8 (with or without BOM) first: GB18030 would also
    'decode' most UTF-8 bytes, wrongly."""
    for enc in ENCODINGS:
        try:
            return raw.decode(enc), ("utf-8-bom" if enc == "utf-8-sig" and raw.startswith(b"\xef\xbb\xbf")
                                      else "utf-8" if enc == "utf-8-sig" else enc)
        except UnicodeDecodeError:
            continue
    raise IntakeError("ingest.encoding")


def csv_records(raw: bytes) -> tuple[list[dict[str, Any]], str]:
    text, encoding = decode(raw)
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    if not reader.fieldnames:
        raise IntakeError("ingest.csv_empty")
    names = [n.strip() for n in reader.fieldnames]
    if len(set(names)) != len(names):
        raise IntakeError("ingest.csv_duplicate_header", 1)
    out = []
    try:
        for row in reader:
            if None in row:  # more cells than headers
                raise IntakeError("ingest.csv_extra_cells", reader.line_num)
            out.append({k.strip(): (v if v != "" else None) for k, v in row.items()})
    except csv.Error as err:
        raise IntakeError("ingest.csv_malformed", reader.line_num) from err
    return out, encoding


def json_records(body: Any) -> list[Any]:
    if isinstance(body, dict) and isinstance(body.get("records"), list):
        return body["records"]
    if isinstance(body, list):
        return body
    raise IntakeError("ingest.body_shape")
