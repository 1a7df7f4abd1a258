"""Code dictionaries (standards/dictionaries/*.json): lookup and validation of coded fields, over the
dictionaries the standards catalogue has already loaded and validated."""
from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def _by_code() -> dict[str, dict[str, dict]]:
    from foundation.standards import catalog

    return {name: {c["code"]: c for c in d["codes"]} for name, d in catalog().dictionaries.items()}


def codes_of(dictionary: str) -> dict[str, dict]:
    """code → entry (with its zh and en labels) of one dictionary."""
    return _by_code()[dictionary]


def is_valid(dictionary: str, code: str | None) -> bool:
    return code is not None and code in codes_of(dictionary)


def label(dictionary: str, code: str | None, lang: str = "zh") -> str | None:
    entry = codes_of(dictionary).get(code or "")
    return entry[lang] if entry else None
