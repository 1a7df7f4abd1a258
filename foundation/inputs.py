"""Reading a request's JSON the platform's way, for the core's routes and plugins' alike: a body that is not
a JSON object, a missing or blank text, one too long or holding a control character each answer 422 naming
the field, in the caller's language (``field.*`` messages)."""
from __future__ import annotations

from typing import Any

from flask import request

from foundation.errors import ValidationFailed


def json_body() -> dict[str, Any]:
    """The request's JSON object (422 ``_body`` when it is anything else)."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ValidationFailed({"_body": ["body.not_json_object"]})
    return data


def text_field(data: dict[str, Any], key: str, *, required: bool = True, limit: int = 500) -> str | None:
    """``data[key]`` as trimmed text: required unless ``required`` is False (then None when absent), at
    most ``limit`` characters, no NUL or other control character but newlines and tabs."""
    value = data.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed({key: ["field.required"]})
    if any(ord(ch) < 32 and ch not in "\n\r\t" for ch in value):
        raise ValidationFailed({key: ["field.control_char"]})
    if len(value.strip()) > limit:
        raise ValidationFailed({key: [f"field.length:{limit}"]})
    return value.strip()
