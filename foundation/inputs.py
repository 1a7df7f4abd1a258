"""What a request may carry, checked once for every route, the core's and plugins' alike, and reading its
JSON the platform's way.

- **Size.** A body above ``MAX_CONTENT_LENGTH`` (``JIZUO_MAX_BODY_MB``, 2 MB) answers 413 before anything
  is read; a view marked :func:`large_body` takes more (ingest: ``JIZUO_MAX_UPLOAD_MB``; a notice with
  attachments: their size × count).
- **JSON.** Nested deeper than :data:`MAX_DEPTH` answers 400 before the parser recurses; a string (or key)
  holding a lone UTF-16 surrogate or a NUL answers 422 naming its path (``links.0.name``): no database
  can store either, and nobody types them.
- **Query and form fields.** A control character (newlines and tabs aside) answers 422 naming the
  parameter (a page gets the 400 page).
- **Free text** (reasons, notes, comments): :func:`clean_text` — trimmed, whitespace-only is missing, no
  control character, at most ``limit`` characters; :func:`text_field` reads one from a JSON body.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from flask import Flask, Request, abort, current_app, request

from foundation.errors import APIError, ValidationFailed, wants_json

MAX_DEPTH = 64
BAD_JSON_TEXT = re.compile("[\x00\ud800-\udfff]")  # NUL and lone surrogates (valid pairs decode to one char)
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # control characters but tab, newline, return
MB = 1024 * 1024


# ---- JSON bodies ------------------------------------------------------------------------------------------
def json_depth_exceeds(raw: bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether the JSON text nests arrays and objects deeper than ``limit`` — found without parsing: strings
    are cut out (their escapes first), then brackets are counted; most bodies hold too few to need it."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    try:
        text = raw.decode(json.detect_encoding(raw))
    except (UnicodeDecodeError, LookupError):
        return False  # the parser refuses it
    outside = "".join(text.replace("\\\\", "").replace('\\"', "").split('"')[::2])
    depth = 0
    for ch in re.sub(r"[^\[\]{}]", "", outside):
        depth += 1 if ch in "[{" else -1
        if depth > limit:
            return True
    return False


def safe_name(key: str) -> str:
    """A key as it can be shown back: unencodable characters escaped."""
    return key.encode("utf-8", "backslashreplace").decode("utf-8") if BAD_JSON_TEXT.search(key) else key


def bad_text_path(value: Any, path: str = "") -> tuple[str, str] | None:
    """``(path, message key)`` of the first string or key in a decoded JSON value holding a NUL or a lone
    surrogate; None when there is none."""
    if isinstance(value, str):
        found = BAD_JSON_TEXT.search(value)
        if found:
            return path or "_body", "field.control_char" if found.group() == "\x00" else "field.surrogate"
        return None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        name = f"{path}.{key}" if path else str(key)
        if isinstance(key, str) and BAD_JSON_TEXT.search(key):
            return safe_name(name), "field.control_char" if "\x00" in key else "field.surrogate"
        if (bad := bad_text_path(item, name)) is not None:
            return bad
    return None


class JizuoRequest(Request):
    """Flask's request, its JSON checked for depth and for text no database stores — for every caller of
    ``request.get_json`` (silent or not): the check is not a parse error to be silenced."""

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        if (force or self.is_json) and json_depth_exceeds(self.get_data(cache=True)):
            raise APIError("json_too_deep", 400, {"_body": [f"body.too_deep:{MAX_DEPTH}"]}, max=MAX_DEPTH)
        data = super().get_json(force=force, silent=silent, cache=cache)
        if (bad := bad_text_path(data)) is not None:
            raise ValidationFailed({bad[0]: [bad[1]]})
        return data


def json_body() -> dict[str, Any]:
    """The request's JSON object (422 ``_body`` when it is anything else)."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ValidationFailed({"_body": ["body.not_json_object"]})
    return data


# ---- free text --------------------------------------------------------------------------------------------
def clean_text(value: Any, key: str, *, required: bool = True, limit: int = 500,
               missing: str = "field.required") -> str | None:
    """``value`` as trimmed free text (a reason, a note, a comment): whitespace only counts as missing (422
    ``missing`` when ``required``, else None); no control character but newlines and tabs; at most
    ``limit`` characters."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValidationFailed({key: [missing]})
        return None
    if not isinstance(value, str):
        raise ValidationFailed({key: [missing]})
    if CONTROL.search(value) or BAD_JSON_TEXT.search(value):
        raise ValidationFailed({key: ["field.control_char"]})
    if len(value.strip()) > limit:
        raise ValidationFailed({key: [f"field.too_long:{limit}"]})
    return value.strip()


def text_field(data: dict[str, Any], key: str, *, required: bool = True, limit: int = 500) -> str | None:
    """``data[key]`` as free text (:func:`clean_text`)."""
    return clean_text(data.get(key), key, required=required, limit=limit)


def no_control_chars(value: Any) -> bool:
    """A marshmallow validator: free text without control characters (``field.control_char``)."""
    from marshmallow import ValidationError

    if isinstance(value, str) and (CONTROL.search(value) or BAD_JSON_TEXT.search(value)):
        raise ValidationError("field.control_char")
    return True


# ---- query and form fields, body size ---------------------------------------------------------------------
def control_char_fields(pairs: Any) -> list[str]:
    """Names of the fields of a MultiDict (query or form) whose name or a value holds a control character."""
    return [safe_name(CONTROL.sub("?", k)) for k, v in pairs.items(multi=True) if CONTROL.search(k + v)]


def large_body(limit: Callable[[], int]) -> Callable:
    """Mark a view taking more than ``MAX_CONTENT_LENGTH``: ``limit()`` gives its bytes (read per request,
    under the app's config). Put it under the route decorator."""

    def mark(view: Callable) -> Callable:
        view.jizuo_body_limit = limit  # type: ignore[attr-defined]
        return view

    return mark


def upload_limit() -> int:
    """Ingest uploads: ``UPLOAD_MAX_CONTENT_LENGTH`` (``JIZUO_MAX_UPLOAD_MB``)."""
    return int(current_app.config["UPLOAD_MAX_CONTENT_LENGTH"])


def init_app(app: Flask) -> None:
    """Use :class:`JizuoRequest`; before anything reads the request (CSRF reads the form), set the body
    limit of the view, parse a JSON body (so that a view ignoring it is no way around the checks) and
    refuse control characters in the query and the form."""
    app.request_class = JizuoRequest

    @app.before_request
    def _check_request() -> None:
        limit = getattr(app.view_functions.get(request.endpoint or ""), "jizuo_body_limit", None)
        if limit is not None:
            request.max_content_length = limit()
        if request.is_json:
            request.get_json(silent=True)  # refused here, whether or not the view reads it
        bad = control_char_fields(request.args)
        if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            bad += control_char_fields(request.form)
        if bad:
            if not wants_json():
                abort(400)
            raise ValidationFailed({name: ["field.control_char"] for name in bad})
