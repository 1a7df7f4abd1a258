"""Code dictionaries (standards/dictionaries/*.json): lookup and validation of coded fields."""
from __future__ import annotations

import json
from functools import lru_cache

from standards import ROOT


@lru_cache(maxsize=1)
def dictionaries() -> dict[str, dict]:
    out = {}
    for path in sorted((ROOT / "dictionaries").glob("*.json")):
        data = json.loads(path.read_text("utf-8"))
        data["by_code"] = {c["code"]: c for c in data["codes"]}
        out[data["id"]] = data
    return out


def is_valid(dictionary: str, code: str | None) -> bool:
    return code is not None and code in dictionaries()[dictionary]["by_code"]


def label(dictionary: str, code: str | None, lang: str = "zh") -> str | None:
    entry = dictionaries()[dictionary]["by_code"].get(code or "")
    return entry[lang] if entry else None
