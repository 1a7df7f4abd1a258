"""Attachments of a notice: images and PDF, their type read from the content, sizes and counts limited; a bad
file is a 422 naming the field and the reason, and nothing of the send is written; files are served only to
the sender and the recipients, with the right type, a file name and nosniff."""
from __future__ import annotations

import io
import json
import struct
import zlib

import sqlalchemy as sa

from foundation.models import Message
from foundation.models.messages import MessageAttachment
from tests.messaging.test_inbox import sample_class

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64 + b"\xff\xd9"
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 32


def png(width: int = 240, height: int = 160) -> bytes:
    """A real PNG (a colour gradient), so a browser draws the thumbnail."""
    rows = b"".join(b"\x00" + b"".join(bytes((x * 255 // width, y * 255 // height, 170)) for x in range(width))
                    for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def multipart(klass: int, files: list[tuple[str, bytes]], **extra) -> dict:
    return {"subject": "春游路线", "body": "路线图和回执见附件。", "ack": "1",
            "audience": json.dumps({"kind": "class", "class_id": klass}),
            "attachments": [(io.BytesIO(data), name) for name, data in files], **extra}


def test_images_and_a_pdf_reach_only_the_sender_and_the_recipients(users, demo, db_session):
    klass = sample_class(db_session, demo)
    teacher, parent = users("homeroom_teacher"), users("parent")
    sent = teacher.post("/api/v1/messages", data=multipart(klass, [
        ("路线图.png", png()), ("集合点.jpg", JPEG), ("天气.webp", WEBP), ("回执.pdf", PDF)]),
        content_type="multipart/form-data")
    assert sent.status_code == 201, sent.get_json()
    assert sent.get_json()["ack_required"] is True
    item = parent.get("/api/v1/messages/inbox").get_json()["items"][0]
    files = {f["name"]: f for f in item["attachments"]}
    assert [f["type"] for f in item["attachments"]] == ["image/png", "image/jpeg", "image/webp", "application/pdf"]
    image, pdf = files["路线图.png"], files["回执.pdf"]
    assert image["image"] and not pdf["image"]
    got = parent.client.get(image["url"])
    assert got.status_code == 200 and got.data == png() and got.mimetype == "image/png"
    assert got.headers["X-Content-Type-Options"] == "nosniff" and got.headers["Content-Disposition"].startswith("inline")
    doc = parent.client.get(pdf["url"])
    assert doc.status_code == 200 and doc.mimetype == "application/pdf" and doc.data == PDF
    assert doc.headers["Content-Disposition"].startswith("attachment") and "filename*=UTF-8''" in \
        doc.headers["Content-Disposition"]
    assert teacher.client.get(pdf["url"]).status_code == 200  # the sender
    for stranger in (users("school_admin"), users("parent", 1), users("homeroom_teacher", 1)):
        assert stranger.client.get(image["url"]).status_code == 404
    assert parent.client.get(image["url"][:-3] + "xyz").status_code == 404
    page = parent.client.get("/messages").get_data(as_text=True)
    assert f'<img src="{image["url"]}" alt="路线图.png"' in page and f'href="{pdf["url"]}"' in page
    assert "/static/" not in image["url"]  # served through the checked route, never a static path


def test_a_bad_file_is_named_and_nothing_is_written(users, demo, db_session, app):
    klass = sample_class(db_session, demo)
    teacher = users("homeroom_teacher")

    def refused(files, lang="zh"):
        r = teacher.post("/api/v1/messages", data=multipart(klass, files), content_type="multipart/form-data",
                         lang=lang)
        assert r.status_code == 422, r.get_json()
        return r.get_json()["error"]["fields"]["attachments"]

    assert refused([("路线图.png", png()), ("病毒.exe", b"MZ\x90\x00")]) == \
        "附件类型不支持：只接受 PNG、JPEG、WebP、PDF（病毒.exe）"
    assert "only PNG, JPEG, WebP and PDF" in refused([("notes.txt", b"hello")], "en")
    assert "与扩展名不符" in refused([("photo.png", PDF)])  # a PDF calling itself a PNG
    assert "PNG" in refused([("fake.pdf", b"<html><script>alert(1)</script>")])
    assert "空文件" in refused([("empty.png", b"")])
    assert "最多 5 个" in refused([(f"p{i}.png", png(8, 8)) for i in range(6)])
    app.config["MESSAGE_ATTACHMENT_MAX_MB"] = 0.01  # 10 KB
    assert "每个不超过 10 KB" in refused([("大图.png", png(240, 160) + b"\x00" * 20_000)])
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Message)) == 0
    assert db_session.scalar(sa.select(sa.func.count()).select_from(MessageAttachment)) == 0
    # the page: the same words, a 422, nothing written
    page = teacher.client.get("/messages/send").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page and 'name="attachments"' in page
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    r = teacher.client.post("/messages/send", content_type="multipart/form-data", data={
        "csrf_token": token, "kind": "class", "class_id": str(klass), "target": "parents", "subject": "x", "body": "y",
        "attachments": [(io.BytesIO(b"MZ"), "setup.exe")]})
    assert r.status_code == 422 and "附件类型不支持" in r.get_data(as_text=True)
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Message)) == 0
