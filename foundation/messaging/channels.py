"""Outside channels: a signed webhook to the city/parent portal, and e-mail through SMTP.

Webhook: ``POST`` of a JSON body with ``X-Jizuo-Timestamp`` (unix seconds), ``X-Jizuo-Delivery`` (the
delivery key ``<message>:<account>:webhook``, stable across retries and replays: the portal uses it to
apply each message once) and ``X-Jizuo-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">``
under the shared secret. :func:`verify` is what a portal runs (docs/messages.md shows it standalone).
E-mail: a plain-text message (Chinese, then English) whose ``Message-ID`` is derived from the delivery
key, so a mailbox can drop a duplicate the same way.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import time
from email.message import EmailMessage
from email.utils import formatdate

import requests

from foundation.messaging.settings import Settings


class DeliveryFailed(Exception):
    """The channel did not take the message (retried with backoff, then dead-lettered)."""


def delivery_key(message_id: int, account_id: int, channel: str) -> str:
    return f"{message_id}:{account_id}:{channel}"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str, *, tolerance: int = 300,
           now: float | None = None) -> bool:
    """True when ``signature`` is ours for this body and the timestamp is within ``tolerance`` seconds
    (a captured request cannot be replayed later)."""
    try:
        age = abs((now if now is not None else time.time()) - int(timestamp))
    except ValueError:
        return False
    return age <= tolerance and hmac.compare_digest(sign(secret, timestamp, body), signature or "")


def _link_label(msg) -> dict | None:
    """The words of the message's link (a portal draws a button with them, not the path)."""
    if not msg.link:
        return None
    from foundation.messaging.types import DEFAULT_LINK_LABEL, get_type

    try:
        return dict(get_type(msg.type_key)["link_label"])
    except ValueError:
        return dict(DEFAULT_LINK_LABEL)


def payload(msg, account, key: str) -> dict:
    return {"delivery": key, "message_id": msg.id, "type": msg.type_key, "account": account.username,
            "person_kind": account.person_kind, "school_id": msg.school_id,
            "subject": {"zh": msg.subject_zh, "en": msg.subject_en},
            "body": {"zh": msg.body_zh, "en": msg.body_en}, "link": msg.link, "link_label": _link_label(msg),
            "ack_required": bool(msg.ack_required), "created_at": msg.created_at.isoformat() + "Z"}


def send_webhook(cfg: Settings, msg, account) -> None:
    key = delivery_key(msg.id, account.id, "webhook")
    body = json.dumps(payload(msg, account, key), ensure_ascii=False, sort_keys=True).encode()
    ts = str(int(time.time()))
    headers = {"Content-Type": "application/json; charset=utf-8", "X-Jizuo-Timestamp": ts,
               "X-Jizuo-Delivery": key, "X-Jizuo-Signature": sign(cfg.webhook_secret or "", ts, body)}
    try:
        resp = requests.post(cfg.webhook_url, data=body, headers=headers, timeout=cfg.webhook_timeout)
    except requests.RequestException as err:
        raise DeliveryFailed(f"webhook: {type(err).__name__}: {err}"[:480]) from err
    if not 200 <= resp.status_code < 300:
        raise DeliveryFailed(f"webhook: HTTP {resp.status_code}")


def send_email(cfg: Settings, msg, account, address: str) -> None:
    key = delivery_key(msg.id, account.id, "email")
    mail = EmailMessage()
    mail["From"] = cfg.smtp_from
    mail["To"] = address
    mail["Subject"] = msg.subject_zh if msg.subject_zh == msg.subject_en else f"{msg.subject_zh} / {msg.subject_en}"
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = f"<jizuo-{key.replace(':', '-')}@{cfg.smtp_from.rpartition('@')[2] or 'jizuo'}>"
    text = f"{msg.body_zh}\n\n---\n{msg.body_en}"
    if msg.link:
        label = _link_label(msg)
        text += f"\n\n{label['zh']} / {label['en']}: {msg.link}"
    mail.set_content(text)
    try:
        with smtplib.SMTP(cfg.smtp_host, cfg.smtp_port, timeout=cfg.webhook_timeout) as smtp:
            if cfg.smtp_starttls:
                smtp.starttls()
            if cfg.smtp_user:
                smtp.login(cfg.smtp_user, cfg.smtp_password or "")
            smtp.send_message(mail)
    except (OSError, smtplib.SMTPException) as err:
        raise DeliveryFailed(f"email: {type(err).__name__}: {err}"[:480]) from err
