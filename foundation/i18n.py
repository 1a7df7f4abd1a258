"""A small message catalogue: Chinese first, English second.

Catalogues are JSON files in foundation/locales (plugins may add their own with :func:`add_messages`).
The language of a request is the ``lang`` cookie (the UI switch); else, for the API, ``Accept-Language``;
else Chinese.
"""
from __future__ import annotations

import json
from pathlib import Path

from flask import has_request_context, request

LANGS = ("zh", "en")
_CATALOG: dict[str, dict[str, str]] = {}
_LOADED = False


def _load() -> None:
    global _LOADED
    _LOADED = True
    for lang in LANGS:
        _CATALOG.setdefault(lang, {}).update(load_catalogue(Path(__file__).parent / "locales", lang))


def load_catalogue(folder: Path, lang: str) -> dict[str, str]:
    """``folder/<lang>.json`` and every ``folder/<lang>/*.json`` (one file per area, so that parts of the
    product keep their texts apart), merged."""
    out: dict[str, str] = {}
    for path in [folder / f"{lang}.json", *sorted((folder / lang).glob("*.json"))]:
        if path.is_file():
            out.update(json.loads(path.read_text("utf-8")))
    return out


def add_messages(lang: str, messages: dict[str, str]) -> None:
    if not _LOADED:
        _load()
    _CATALOG.setdefault(lang, {}).update(messages)


def current_lang() -> str:
    if not has_request_context():
        return "zh"
    forced = request.args.get("lang") or request.cookies.get("lang")
    if forced in LANGS:
        return forced
    if "/api/" not in request.path:  # the core's /api/v1 and plugins' own APIs (/points/api/…)
        return "zh"  # pages are Chinese until the person picks English with the switch
    best = request.accept_languages.best_match(["zh", "zh-CN", "en", "en-US"])
    return "en" if best and best.startswith("en") else "zh"


def t(key: str, lang: str | None = None, **kw: object) -> str:
    """Translate ``key``; unknown keys come back as they are (so plain text passes through)."""
    if not _LOADED:
        _load()
    lang = lang or current_lang()
    if ":" in key and key not in _CATALOG.get(lang, {}):
        # "field.too_long:60" — a key with one argument, as marshmallow validators produce them; several
        # arguments ride as "key:a|b", the text naming them {args[0]}, {args[1]}
        base, _, arg = key.partition(":")
        if base in _CATALOG.get(lang, {}):
            kw = {"arg": arg, "args": arg.split("|"), **kw}
            key = base
    text = _CATALOG.get(lang, {}).get(key) or key
    return text.format(**kw) if kw else text
