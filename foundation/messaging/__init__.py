"""The message center (消息中心): typed messages with zh/en templates, recipients resolved from people,
roles and org units, a per-account inbox, and delivery through the live push (SSE), a signed webhook and
e-mail on a queue with retries and a dead-letter list. See docs/messages.md.

Public interface (also re-exported as ``send_message`` from foundation/plugin_api.py)::

    register_type(spec)                                  declare a message type
    send(sess, type_key, *, recipients, variables, school_id, sender_account_id=None,
         dedupe_key=None, link=None, class_id=None, reply_to_id=None) -> Message
    send_many(sess, [{type_key, recipients, variables, school_id, …}, …]) -> [message ids]
    send_messages(sess, type_key, [{recipients, variables, …}, …], school_id=…) -> [message ids]
"""
from __future__ import annotations

import json
from pathlib import Path

from foundation.i18n import add_messages
from foundation.messaging.batch import send_many, send_messages
from foundation.messaging.recipients import RecipientError, account_ids
from foundation.messaging.service import send
from foundation.messaging.types import MessageTypeError, all_types, get_type, register_type

for _lang in ("zh", "en"):
    add_messages(_lang, json.loads((Path(__file__).parent / "locales" / f"{_lang}.json").read_text("utf-8")))

__all__ = ["MessageTypeError", "RecipientError", "account_ids", "all_types", "get_type", "register_type", "send",
           "send_many", "send_messages"]
