"""Bad input never gets a 500 (issue 13): a lone UTF-16 surrogate, a NUL, JSON nested thousands deep, control
characters in a query or a free-text reason, an oversized body — each answers a 4xx naming the field, in
the caller's language, and writes nothing. Every write route of the core's API and of every plugin
(tests/probe_support.py lists them, as the isolation probe does) is driven with each bad body."""
from __future__ import annotations

import io
import json
import re
import time
from pathlib import Path

import sqlalchemy as sa

from foundation.inputs import MAX_DEPTH, json_depth_exceeds
from tests.probe_support import KEY_COLUMNS, PARAM, VOCAB, VOCAB_AT, routes

ROOT = Path(__file__).resolve().parents[1]
DEEP = '{"data": ' + "[" * 3000 + "]" * 3000 + "}"
# (raw JSON body, status, the field named, its message in English)
BAD_BODIES = [
    ('{"name": "ok", "reason": "x\\ud800"}', 422, "reason", "Contains an invalid character (a lone UTF-16 surrogate)"),
    ('{"links": [{"relation_code": "51", "name": "\\udfff"}]}', 422, "links.0.name",
     "Contains an invalid character (a lone UTF-16 surrogate)"),
    ('{"reason": "' + "\\u0000" * 20 + '"}', 422, "reason", "Must not contain control characters"),
    (DEEP, 400, "_body", f"JSON must not nest more than {MAX_DEPTH} levels"),
]


def send(user, method: str, url: str, raw: str | bytes, lang: str | None = None, ctype: str = "application/json"):
    return user.client.open(url, method=method, data=raw, content_type=ctype, headers=user._headers(lang))


def counts(engine) -> dict[str, int]:
    """Rows per table (the audit log aside: reads append to it)."""
    meta = sa.MetaData()
    meta.reflect(bind=engine)
    with engine.connect() as conn:
        return {name: conn.scalar(sa.select(sa.func.count()).select_from(t))
                for name, t in meta.tables.items() if name != "audit_log"}


def fill(route) -> str:
    words = VOCAB_AT.get(route.endpoint, {}) | VOCAB
    return PARAM.sub(lambda m: str(1 if dict(route.params)[m.group(1)] else
                                   "probe" if m.group(1) in KEY_COLUMNS else words.get(m.group(1), "probe")),
                     route.rule)


def test_every_write_route_refuses_bad_json_naming_the_field(app, users, capsys):
    """Every write of the API and of every plugin, as a school admin and with the paths filled (the check runs
    before any view, so whether the row exists does not matter): each bad body answers its 4xx naming its
    field, in English and in Chinese, and no table gains or loses a row."""
    engine, admin = app.extensions["jizuo.engine"], users("school_admin", 0)
    before, started, calls = counts(engine), time.monotonic(), 0
    writes = [r for r in routes(app) if r.write]
    assert len(writes) > 40, "the route list lost the API's writes"
    problems = []
    for n, route in enumerate(writes):
        for raw, status, field, english in BAD_BODIES:
            lang = "en" if n % 2 else None
            resp = send(admin, route.method, fill(route), raw, lang)
            calls += 1
            fields = (resp.get_json(silent=True) or {}).get("error", {}).get("fields", {})
            expected = english if lang == "en" else None
            if resp.status_code != status or field not in fields or (expected and fields[field] != expected):
                problems.append(f"{route.method} {route.rule} {raw[:40]!r}: {resp.status_code} {fields}")
            elif lang is None and re.fullmatch(r"[A-Za-z ()._:0-9-]+", fields[field]):
                problems.append(f"{route.method} {route.rule}: not in Chinese: {fields[field]}")
    assert not problems, "\n".join(problems[:20])
    assert counts(engine) == before
    with capsys.disabled():
        print(f"\nbad input: {len(writes)} write routes, {calls} calls, {time.monotonic() - started:.1f}s")


def test_a_lone_surrogate_in_a_student_write_is_a_422_and_nothing_changes(users, db_session, demo):
    from foundation.models import Student

    admin = users("school_admin", 0)
    student = admin.get("/api/v1/students?per_page=1").get_json()["items"][0]
    resp = send(admin, "PATCH", f"/api/v1/students/{student['id']}", '{"name": "\\ud800"}', "en")
    assert resp.status_code == 422, resp.get_data(as_text=True)
    assert resp.get_json()["error"]["fields"] == {"name": "Contains an invalid character (a lone UTF-16 surrogate)"}
    assert db_session.get(Student, student["id"]).name == student["name"]
    # a valid pair (an emoji) is a character like any other
    ok = admin.patch(f"/api/v1/students/{student['id']}", json={"name": student["name"] + "😀"})
    assert ok.status_code == 200 and ok.get_json()["name"].endswith("😀")


def test_json_depth_is_found_without_parsing():
    assert not json_depth_exceeds(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH)
    assert json_depth_exceeds(b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1))
    assert json_depth_exceeds(b'{"a":' * 100 + b"1" + b"}" * 100)
    # brackets inside strings, escaped quotes and backslashes among them, are text
    assert not json_depth_exceeds(('["' + "[" * 500 + '"]').encode())
    assert not json_depth_exceeds(('["\\"' + "{" * 500 + '", "\\\\"]').encode())
    assert json_depth_exceeds(('["\\\\"' + ",[" * 100 + "]" * 100 + "]").encode())
    assert json_depth_exceeds(("[" * 100 + "]" * 100).encode("utf-16"))  # as the parser reads it
    big = b"[" + b",".join([b'{"a": [1, 2, {"b": "[[["}]}'] * 50_000) + b"]"  # 1.4 MB, shallow
    started = time.monotonic()
    assert not json_depth_exceeds(big)
    assert time.monotonic() - started < 2


def test_control_characters_in_a_query_are_refused_naming_the_parameter(users):
    teacher = users("homeroom_teacher", 0)
    for url, name in (("/api/v1/messages/inbox?q=%00", "q"), ("/api/v1/students?q=a%01b", "q"),
                      ("/points/api/appeals?status=%00", "status"), ("/api/v1/audit?action%00=x", "action?")):
        resp = teacher.get(url, lang="en")
        assert resp.status_code == 422, (url, resp.status_code)
        assert resp.get_json()["error"]["fields"] == {name: "Must not contain control characters"}, url
    page = teacher.get("/messages?q=%00")
    assert page.status_code == 400 and "text/html" in page.content_type
    assert teacher.get("/api/v1/messages/inbox?q=%09").status_code == 200  # a tab is not refused


def test_control_characters_in_a_form_field_are_refused(users, db_session):
    from foundation.models import AlertCase

    teacher = users("homeroom_teacher", 0)
    before = db_session.scalar(sa.select(sa.func.count()).select_from(AlertCase))
    resp = teacher.client.post("/alerts", data={"student_id": "1", "note": "a\x00b", "csrf_token": teacher.csrf})
    assert resp.status_code == 400
    assert db_session.scalar(sa.select(sa.func.count()).select_from(AlertCase)) == before


def test_bodies_over_the_limit_get_413_and_uploads_keep_their_own(app, users):
    teacher = users("homeroom_teacher", 0)
    big = json.dumps({"name": "x" * (3 * 1024 * 1024)})
    resp = send(teacher, "POST", "/api/v1/students", big, "en")
    assert resp.status_code == 413
    assert resp.get_json()["error"] == {"code": "too_large", "message": "Request too large (at most 2 MB)", "fields": {}}
    # ingest takes JIZUO_MAX_UPLOAD_MB: 3 MB passes the door (then is answered on its merits), past the limit 413
    app.config["UPLOAD_MAX_CONTENT_LENGTH"] = 4 * 1024 * 1024
    csv = b"x" * (3 * 1024 * 1024)
    assert send(teacher, "POST", "/api/v1/ingest/card_transaction", csv, ctype="text/csv").status_code != 413
    over = send(teacher, "POST", "/api/v1/ingest/card_transaction", csv * 2, "en", ctype="text/csv")
    assert over.status_code == 413 and "4 MB" in over.get_json()["error"]["message"]
    # a notice's attachments: each up to its own limit (10 MB), more than the 2 MB of other bodies
    classes = teacher.get("/api/v1/messages/audiences").get_json()["classes"]
    pdf = b"%PDF-1.4\n" + b"0" * (3 * 1024 * 1024)
    sent = teacher.client.post("/api/v1/messages", headers=teacher._headers(None), data={
        "subject": "通知", "body": "正文", "audience": json.dumps({"kind": "class", "class_id": classes[0]["id"],
                                                               "target": "parents"}),
        "attachments": (io.BytesIO(pdf), "plan.pdf")}, content_type="multipart/form-data")
    assert sent.status_code == 201, sent.get_data(as_text=True)[:300]


def test_free_text_reasons_refuse_control_characters_and_blank_text(users, db_session):
    from foundation.models import AuditEntry, Student

    admin = users("school_admin", 0)
    sid = db_session.scalar(sa.select(Student.id).where(Student.school_id == admin.get("/api/v1/me").get_json()
                                                         ["roles"][0]["school_id"]).limit(1))
    url = f"/api/v1/students/{sid}/reveal-id-number"
    for reason, message in (("\x00" * 20, "Must not contain control characters"),
                            ("\x01" * 20, "Must not contain control characters"),
                            ("核查\x1b[2J身份", "Must not contain control characters")):
        resp = admin.post(url, json={"reason": reason}, lang="en")
        assert resp.status_code == 422 and resp.get_json()["error"]["fields"] == {"reason": message}, reason
    blank = admin.post(url, json={"reason": " \n\t "}, lang="en")
    assert blank.status_code == 422 and list(blank.get_json()["error"]["fields"]) == ["reason"]
    assert not db_session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
        AuditEntry.action.like("%reveal%")))
    assert admin.post(url, json={"reason": "核查身份\n学籍变更"}).status_code == 200
    # an alert note and an approval note: the same rule
    note = admin.post("/api/v1/alerts/cases", json={"student_id": sid, "note": "关注\x07"}, lang="en")
    assert note.status_code == 422 and note.get_json()["error"]["fields"] == {"note": "Must not contain control characters"}
    blank_note = admin.post("/api/v1/alerts/cases", json={"student_id": sid, "note": "   "}, lang="en")
    assert blank_note.status_code == 422 and list(blank_note.get_json()["error"]["fields"]) == ["note"]


def test_error_messages_name_the_right_field_in_words(users):
    parent = users("parent", 0)
    for query, field in (("per_page=abc", "per_page"), ("page=0", "page"), ("per_page=101", "per_page")):
        resp = parent.get(f"/api/v1/messages/inbox?{query}", lang="en")
        assert resp.status_code == 422 and list(resp.get_json()["error"]["fields"]) == [field], query
    assert parent.get("/api/v1/messages/inbox?per_page=abc", lang="en").get_json()["error"]["fields"] == {
        "per_page": "Must be within 1-100"}
    teacher = users("homeroom_teacher", 0)
    classes = teacher.get("/api/v1/messages/audiences").get_json()["classes"]
    body = {"subject": "长" * 121, "body": "正文", "audience": {"kind": "class", "class_id": classes[0]["id"]}}
    zh = teacher.post("/api/v1/messages", json=body).get_json()["error"]["fields"]
    en = teacher.post("/api/v1/messages", json=body, lang="en").get_json()["error"]["fields"]
    assert zh == {"subject": "最多 120 个字符"} and en == {"subject": "At most 120 characters"}


def test_a_key_no_catalogue_knows_is_never_shown(app):
    from foundation.errors import ValidationFailed, error_response

    with app.test_request_context("/api/v1/x", headers={"Accept-Language": "en"}):
        body = error_response("validation_failed", 422, ValidationFailed({"a": ["no.such.key:3"]}).fields).get_json()
    assert body["error"]["fields"] == {"a": "Not a valid value"}


# a message key where the code raises one: ``{"field": ["key"]}`` (maybe ``f"key:{arg}"``) or ``error="key"``
ERROR_KEY = re.compile(r"""(?::\s*\[|error=)f?["']([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+)(?::[^"']*)?["']""")


def test_every_error_key_in_the_code_is_in_both_catalogues(app):
    """The message keys the code raises (the core, admin, plugins) read as words in zh and en."""
    from foundation.i18n import t

    keys = {m.group(1) for folder in ("foundation", "admin", "plugins") for path in (ROOT / folder).rglob("*.py")
            if "tests" not in path.parts for line in path.read_text("utf-8").splitlines()
            if re.search(r"ValidationFailed|Error\(|error=", line) for m in ERROR_KEY.finditer(line)}
    assert len(keys) > 40
    with app.app_context():
        missing = sorted(f"{k} ({lang})" for k in keys for lang in ("zh", "en") if t(k, lang) == k)
    assert not missing, missing


def test_a_bad_query_before_login_answers_the_apis_json(client):
    resp = client.get("/api/v1/openapi.json?x=%00")
    assert resp.status_code == 422 and resp.get_json()["error"]["code"] == "validation_failed"
