"""Attachments of a notice: images (PNG, JPEG, WebP), shown inline as thumbnails, and PDF, offered as a
download. The type is read from the file's first bytes and must agree with its name; sizes and counts are
limited (settings.py). Every file of a send is checked before anything is written, so one bad file among
several leaves nothing behind. Files are stored with their message in the database and served only to the
message's sender and recipients (see :func:`for_viewer`)."""
from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app

from foundation.errors import ValidationFailed
from foundation.i18n import t
from foundation.messaging.settings import ATTACHMENT_TYPES, Settings, settings
from foundation.models.messages import InboxItem, Message, MessageAttachment

FIELD = "attachments"
IMAGES = ("image/png", "image/jpeg", "image/webp")
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


@dataclass(frozen=True)
class Upload:
    filename: str
    content_type: str
    data: bytes


def sniff(data: bytes) -> str | None:
    """The content type of ``data`` by its magic bytes, among the accepted ones (None: none of them)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def clean_name(name: str | None) -> str:
    """The file's own name, without a client's folders or characters a header or a file system chokes on."""
    base = re.split(r"[/\\]", name or "")[-1]
    return _UNSAFE.sub("_", base).strip(" ._")[:200] or "attachment"


def body_limit() -> int:
    """The request size a notice with attachments may reach: every file at its limit, plus the usual body
    limit for the text fields (foundation/inputs.py marks the send views with it)."""
    cfg = settings()
    return cfg.attachment_max_bytes * cfg.attachment_max_files + int(current_app.config["MAX_CONTENT_LENGTH"])


def _refuse(key: str, **kw) -> ValidationFailed:
    return ValidationFailed({FIELD: [t(key, **kw)]})


def check(files: list[tuple[str | None, bytes]], cfg: Settings) -> list[Upload]:
    """``[(filename, content)]`` → uploads, or a 422 on ``attachments`` naming the file and the reason."""
    if len(files) > cfg.attachment_max_files:
        raise _refuse("messages.attachment.too_many", n=cfg.attachment_max_files)
    out = []
    for raw_name, data in files:
        name = clean_name(raw_name)
        if not data:
            raise _refuse("messages.attachment.empty", name=name)
        if len(data) > cfg.attachment_max_bytes:
            raise _refuse("messages.attachment.too_large", name=name, max=human_size(cfg.attachment_max_bytes))
        kind = sniff(data)
        ext = "." + name.rpartition(".")[2].lower() if "." in name else ""
        if kind is None or not any(ext in exts for exts in ATTACHMENT_TYPES.values()):
            raise _refuse("messages.attachment.type", name=name)
        if ext not in ATTACHMENT_TYPES[kind]:
            raise _refuse("messages.attachment.mismatch", name=name)
        out.append(Upload(name, kind, data))
    return out


def read_uploads(storages, cfg: Settings) -> list[Upload]:
    """Werkzeug ``FileStorage`` objects (a form's or an API call's ``attachments``) → checked uploads. An empty
    file input (no file chosen) is skipped; nothing is read past one byte over the size limit."""
    files = []
    for fs in storages:
        if not fs or not fs.filename:
            continue
        if len(files) >= cfg.attachment_max_files:
            raise _refuse("messages.attachment.too_many", n=cfg.attachment_max_files)
        files.append((fs.filename, fs.stream.read(cfg.attachment_max_bytes + 1)))
    return check(files, cfg)


def store(sess: so.Session, message: Message, uploads: list[Upload]) -> list[MessageAttachment]:
    rows = [MessageAttachment(message_id=message.id, key=secrets.token_urlsafe(12), seq=i, filename=u.filename,
                              content_type=u.content_type, size=len(u.data), sha256=hashlib.sha256(u.data).hexdigest(),
                              data=u.data) for i, u in enumerate(uploads)]
    sess.add_all(rows)
    sess.flush()
    return rows


def url(message_id: int, key: str) -> str:
    return f"/api/v1/messages/{message_id}/attachments/{key}"


def listing(sess: so.Session, message_ids: list[int]) -> dict[int, list[dict]]:
    """``{message_id: [{key, name, type, size, size_text, image, url}]}`` (the files' bytes are not loaded)."""
    if not message_ids:
        return {}
    a = MessageAttachment
    rows = sess.execute(sa.select(a.message_id, a.key, a.filename, a.content_type, a.size)
                        .where(a.message_id.in_(set(message_ids))).order_by(a.message_id, a.seq)).all()
    out: dict[int, list[dict]] = {}
    for mid, key, name, kind, size in rows:
        out.setdefault(mid, []).append({"key": key, "name": name, "type": kind, "size": size,
                                        "size_text": human_size(size), "image": kind in IMAGES,
                                        "url": url(mid, key)})
    return out


def for_viewer(sess: so.Session, account_id: int, message_id: int, key: str) -> MessageAttachment | None:
    """The attachment when ``account_id`` sent its message or received it; None otherwise (not found)."""
    if not (0 < message_id < 2**31) or not isinstance(key, str) or len(key) > 32:
        return None
    reaches = sa.or_(Message.sender_account_id == account_id, sa.exists().where(
        InboxItem.message_id == Message.id, InboxItem.account_id == account_id))
    return sess.scalar(sa.select(MessageAttachment).join(Message, Message.id == MessageAttachment.message_id)
                       .where(MessageAttachment.message_id == message_id, MessageAttachment.key == key, reaches)
                       .options(so.undefer(MessageAttachment.data)))


def human_size(size: int) -> str:
    """"10 MB", "1.5 MB", "12 KB"."""
    if size >= 1024 * 1024:
        return f"{round(size / 1024 / 1024, 1):g} MB"
    return f"{max(1, round(size / 1024))} KB"
