"""Message types: what kinds of messages exist, their zh/en templates, variables, channels and whether a
person may switch them off.

The core registers its types here in code; plugins declare theirs through the ``jizuo_message_types``
hook (same dict shape), collected the first time a type is looked up in an app. Templates are rendered
once, when a message is sent, and the rendered text is stored with the message.

A type whose messages carry a link names it in words (``link_label`` {zh, en}, e.g. 查看申请 / View the
request): the inbox shows a button with those words, never the bare path.
"""
from __future__ import annotations

import logging
import string
from typing import Any

log = logging.getLogger("jizuo.messaging")

CHANNELS = ("inbox", "push", "webhook", "email")
# what a type uses unless it says otherwise: the portal webhook leaves the platform for an outside system,
# so a type opts into it by naming it (the core notices do; an alert about a student's psychology should not)
DEFAULT_CHANNELS = ("inbox", "push", "email")
# channels a person may switch off per type; the inbox is where a message is stored and always kept
SWITCHABLE = ("push", "webhook", "email")
LANGS = ("zh", "en")
DEFAULT_LINK_LABEL = {"zh": "打开", "en": "Open"}
# the words on the link of types declared elsewhere without them (their owners may declare their own)
KNOWN_LINK_LABELS = {
    "alert.case.opened": {"zh": "查看预警", "en": "View the alert"},
    "alert.case.retriggered": {"zh": "查看预警", "en": "View the alert"},
    "alert.case.escalated": {"zh": "查看预警", "en": "View the alert"},
    "alert.case.digest": {"zh": "查看预警列表", "en": "View the alerts"},
}

_TYPES: dict[str, dict[str, Any]] = {}
_plugins_loaded: set[int] = set()


class MessageTypeError(ValueError):
    """A type spec or a send() call that does not fit the declared type (a programming error)."""


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def register_type(spec: dict) -> None:
    """Declare (or redeclare, idempotently) a message type. ``spec``: key, title {zh, en}, template
    {zh: {subject, body}, en: {...}}, variables [names], optional mandatory (default False), channels
    (default inbox, push and e-mail; the portal webhook only when named) and link_label {zh, en} (the words
    on the button its messages' links become). Every ``{name}`` in a template must be a declared variable."""
    key = spec.get("key")
    if not isinstance(key, str) or not key or len(key) > 80:
        raise MessageTypeError(f"message type key {key!r} must be a string of 1-80 characters")
    variables = list(spec.get("variables") or [])
    channels = list(spec.get("channels") or DEFAULT_CHANNELS)
    if unknown := set(channels) - set(CHANNELS):
        raise MessageTypeError(f"{key}: unknown channels {sorted(unknown)}")
    if "inbox" not in channels:
        channels.insert(0, "inbox")  # a message is always stored in the inbox first
    template = spec.get("template") or {}
    for lang in LANGS:
        parts = template.get(lang) or {}
        for part in ("subject", "body"):
            text = parts.get(part)
            if not isinstance(text, str):
                raise MessageTypeError(f"{key}: template.{lang}.{part} is missing")
            if extra := _fields(text) - set(variables):
                raise MessageTypeError(f"{key}: template.{lang}.{part} uses undeclared {sorted(extra)}")
    title = spec.get("title") or {}
    label = spec.get("link_label") or KNOWN_LINK_LABELS.get(key) or DEFAULT_LINK_LABEL
    _TYPES[key] = {
        "key": key, "title": {lang: title.get(lang) or key for lang in LANGS},
        "link_label": {lang: label.get(lang) or DEFAULT_LINK_LABEL[lang] for lang in LANGS},
        "template": {lang: dict(template[lang]) for lang in LANGS}, "variables": variables,
        "mandatory": bool(spec.get("mandatory", False)), "channels": channels,
    }


def _load_plugin_types() -> None:
    """Collect the ``jizuo_message_types`` of the current app's plugins once per plugin host."""
    from flask import current_app, has_app_context

    if not has_app_context():
        return
    host = current_app.extensions.get("jizuo.plugins")
    if host is None or id(host) in _plugins_loaded:
        return
    _plugins_loaded.add(id(host))
    for name, specs in host.each("jizuo_message_types"):
        for spec in specs or []:
            try:
                register_type(spec)
            except MessageTypeError:
                log.exception("plugin %s declared a bad message type", name)


def get_type(key: str) -> dict[str, Any]:
    if key not in _TYPES:
        _load_plugin_types()
    try:
        return _TYPES[key]
    except KeyError:
        raise MessageTypeError(f"unknown message type {key!r}") from None


def all_types() -> list[dict[str, Any]]:
    _load_plugin_types()
    return sorted(_TYPES.values(), key=lambda t: t["key"])


class _Vars(dict):
    def __missing__(self, name: str) -> str:  # never reached for declared variables (checked in render)
        return "{" + name + "}"


def render(spec: dict[str, Any], variables: dict[str, Any]) -> dict[str, str]:
    """``{subject_zh, body_zh, subject_en, body_en}`` from the type's templates. Every declared variable
    must be given (a missing one is the caller's bug, reported by name); values are turned into text."""
    if missing := [v for v in spec["variables"] if v not in variables]:
        raise MessageTypeError(f"{spec['key']}: missing variables {missing}")
    values = _Vars({k: "" if v is None else str(v) for k, v in variables.items()})
    out = {}
    for lang in LANGS:
        for part in ("subject", "body"):
            out[f"{part}_{lang}"] = spec["template"][lang][part].format_map(values)
    out["subject_zh"], out["subject_en"] = out["subject_zh"][:300], out["subject_en"][:300]
    return out


# ---- the core's own types ----------------------------------------------------------------------------
CORE_TYPES = [
    {"key": "notice", "title": {"zh": "通知", "en": "Notice"},
     "template": {"zh": {"subject": "{subject}", "body": "{body}"}, "en": {"subject": "{subject}", "body": "{body}"}},
     "variables": ["subject", "body"], "mandatory": False, "channels": list(CHANNELS)},
    {"key": "notice.reply", "title": {"zh": "通知回复", "en": "Reply to a notice"},
     "template": {"zh": {"subject": "回复：{subject}", "body": "{sender}：{body}"},
                  "en": {"subject": "Re: {subject}", "body": "{sender}: {body}"}},
     "variables": ["subject", "body", "sender"], "mandatory": False, "channels": ["inbox", "push", "email"],
     "link_label": {"zh": "查看全部回复", "en": "See all replies"}},
    {"key": "notice.reminder", "title": {"zh": "确认提醒", "en": "Reminder to confirm"},
     "template": {"zh": {"subject": "提醒：请确认收到「{subject}」",
                         "body": "{sender} 提醒您：通知「{subject}」需要您确认收到。请打开通知，点“确认收到”。"},
                  "en": {"subject": "Reminder: please confirm \"{subject}\"",
                         "body": "{sender} asks you to confirm that you received the notice \"{subject}\". "
                                 "Open it and tap \"Confirm receipt\"."}},
     "variables": ["subject", "sender"], "mandatory": False, "channels": ["inbox", "push", "webhook", "email"],
     "link_label": {"zh": "查看通知并确认", "en": "Open the notice"}},
    {"key": "emergency", "title": {"zh": "紧急通知", "en": "Emergency notice"},
     "template": {"zh": {"subject": "【紧急】{subject}", "body": "{body}"},
                  "en": {"subject": "[Urgent] {subject}", "body": "{body}"}},
     "variables": ["subject", "body"], "mandatory": True, "channels": list(CHANNELS)},
]

for _spec in CORE_TYPES:
    register_type(_spec)
