"""Every message the product sends, as its recipient reads it in Chinese and in English: from the right person
(an approval result from the approver, never from the parent who asked), no doubled 已, no raw path in the
text, and a link drawn as a button with words that the recipient can open (GET as them answers 200)."""
from __future__ import annotations

import re

import sqlalchemy as sa

from foundation.messaging import all_types
from tests.conftest import login_of
from tests.lowcode.test_apps import APP, SCHEMA, _child, _ids
from tests.messaging.test_inbox import sample_class
from tests.points.conftest import publish

PATH = re.compile(r"(?<![\w.:/])/[a-z][\w/-]*")  # "/forms/5/app" in a text; dates such as 12/05 do not match
SENT_IN_THIS_TEST = {
    "notice", "notice.reply", "notice.reminder", "emergency", "lowcode.rule", "lowcode.approval.requested",
    "lowcode.approval.decided", "alert.case.opened", "alert.case.retriggered", "points.appeal.created",
    "points.appeal.decided",
}
# sent by the alert engine's schedule (deadlines, batches of a scan): their templates are checked below
SCHEDULED = {"alert.case.escalated", "alert.case.digest"}


def _name(db_session, demo, role: str) -> str:
    from foundation.models import Account

    return db_session.scalar(sa.select(Account.display_name).where(Account.username == login_of(demo, role, 0)))


def _send_everything(app, users, demo, db_session) -> dict[str, int]:
    """Each kind of message, sent by the flow that sends it in the product. → {type: message id}"""
    teacher, parent, admin = users("homeroom_teacher"), users("parent"), users("school_admin")
    klass = sample_class(db_session, demo)
    notice = teacher.post("/api/v1/messages", {"subject": "秋游通知", "body": "周五秋游，请确认。", "ack": True,
                                               "audience": {"kind": "class", "class_id": klass}})
    assert notice.status_code == 201, notice.get_json()
    mid = notice.get_json()["message_id"]
    item = parent.get("/api/v1/messages/inbox").get_json()["items"][0]
    assert parent.post(f"/api/v1/messages/inbox/{item['id']}/reply", {"body": "收到，谢谢老师"}).status_code == 201
    assert teacher.post(f"/api/v1/messages/{mid}/remind").status_code == 201
    school = admin.get("/api/v1/messages/audiences").get_json()["schools"][0]["id"]
    assert admin.post("/api/v1/messages", {"subject": "停课通知", "body": "明日暴雨停课。", "urgent": True,
                                           "audience": {"kind": "school", "school_id": school}}).status_code == 201
    # a health-check app: a fever raises an alert (twice: re-triggered), a cough tells the teacher, and
    # every submission waits for the teacher's approval, whose result the parent hears
    form = teacher.post("/api/v1/forms", {"title": {"zh": "晨检", "en": "Morning check"}, "schema": SCHEMA,
                                          "app": {**APP, "approval": {"by": "homeroom_teacher"}}}).get_json()
    assert teacher.post(f"/api/v1/forms/{form['id']}/publish").status_code == 201
    form_id = form["id"]
    child = _child(db_session, _ids(demo, db_session, "parent")[1])
    for temperature in (38.2, 38.5):
        sub = parent.post(f"/api/v1/forms/{form_id}/submissions", {"data": {
            "student": child.student_no, "temperature": temperature, "symptom": "cough"}})
        assert sub.status_code == 201, sub.get_json()
    decided = teacher.post(f"/api/v1/forms/{form_id}/submissions/{sub.get_json()['id']}/decision",
                           {"decision": "approved", "note": "注意休息"})
    assert decided.status_code == 200, decided.get_json()
    # a conduct entry the parent appeals; the teacher decides the appeal
    publish(app)
    assert admin.post("/api/v1/plugins/points/install", {"config": {}}).status_code == 201
    entry = teacher.post("/points/api/entries", {"student_id": child.id, "rule_code": "late", "reason": "晨会迟到"})
    assert entry.status_code == 201, entry.get_json()
    appeal = parent.post("/points/api/appeals", {"entry_id": entry.get_json()["id"], "reason": "公交晚点"})
    assert appeal.status_code == 201, appeal.get_json()
    assert teacher.post(f"/points/api/appeals/{appeal.get_json()['id']}/decide",
                        {"decision": "reject", "note": "考勤记录属实"}).status_code == 200
    from foundation.models.messages import Message

    db_session.expire_all()
    return {t: i for t, i in db_session.execute(sa.select(Message.type_key, sa.func.max(Message.id))
                                                .group_by(Message.type_key))}


def test_every_message_reads_right_in_both_languages(app, users, demo, db_session):
    sent = _send_everything(app, users, demo, db_session)
    assert SENT_IN_THIS_TEST <= set(sent), SENT_IN_THIS_TEST - set(sent)
    teacher, parent = _name(db_session, demo, "homeroom_teacher"), _name(db_session, demo, "parent")
    admin = _name(db_session, demo, "school_admin")
    # type → (who reads it, whose name it is from: None for the platform itself)
    expected = {
        "notice": ("parent", teacher), "notice.reply": ("homeroom_teacher", parent),
        "notice.reminder": ("parent", teacher), "emergency": ("parent", admin),
        "lowcode.rule": ("homeroom_teacher", None), "lowcode.approval.requested": ("homeroom_teacher", parent),
        "lowcode.approval.decided": ("parent", teacher), "alert.case.opened": ("homeroom_teacher", None),
        "alert.case.retriggered": ("homeroom_teacher", None), "points.appeal.created": ("homeroom_teacher", parent),
        "points.appeal.decided": ("parent", teacher),
    }
    assert set(expected) == SENT_IN_THIS_TEST
    for key, (reader, sender) in expected.items():
        who = users(reader)
        pages = {}
        for lang in ("zh", "en"):
            items = who.get(f"/api/v1/messages/inbox?per_page=100&box=all&lang={lang}").get_json()["items"]
            m = next((i for i in items if i["message_id"] == sent[key]), None)
            assert m is not None, f"{key} did not reach the {reader}"
            text = f"{m['subject']}\n{m['body']}"
            assert m["sender"] == sender, f"{key} ({lang}) says it is from {m['sender']!r}, not {sender!r}"
            assert "已已" not in text, f"{key}: {text}"
            assert not PATH.search(text), f"{key} ({lang}) shows a raw path: {text}"
            assert "{" not in text and "None" not in text, f"{key} ({lang}): {text}"
            if lang == "en" and key not in ("notice", "emergency"):  # a person's own words stay as written
                assert m["subject"] != pages.get("zh_subject"), f"{key} has no English subject"
            pages["zh_subject"] = m["subject"]
            if m["link"] is not None:
                assert m["link"].startswith("/") and m["link_label"] and not m["link_label"].startswith("/")
                page = who.client.get(f"/messages/m/{m['message_id']}?lang={lang}").get_data(as_text=True)
                assert f'<a class="button" href="{m["link"]}">{m["link_label"]}</a>' in page, key
                assert f">{m['link']}<" not in page  # the path itself is never the link's text
                opened = who.client.get(m["link"])
                assert opened.status_code == 200, f"{key}: {m['link']} answers {opened.status_code} to the {reader}"
        if key in ("lowcode.approval.decided", "notice.reminder", "notice.reply", "points.appeal.created",
                   "points.appeal.decided", "lowcode.approval.requested", "lowcode.rule", "alert.case.opened"):
            assert m["link"], f"{key} should lead somewhere"
    decided = next(i for i in parent_inbox(users) if i["message_id"] == sent["lowcode.approval.decided"])
    assert "已批准" in decided["body"] and teacher in decided["body"] and "注意休息" in decided["body"]


def parent_inbox(users) -> list[dict]:
    return users("parent").get("/api/v1/messages/inbox?per_page=100&box=all&lang=zh").get_json()["items"]


def test_every_type_names_its_link_in_words_and_writes_no_path(app):
    """Every registered type — the core's, the low-code layer's, the alert engine's and the plugins' — has a
    title and link words in both languages, and no template writes a path into the text."""
    from foundation.alerts import notify as alerts_notify  # noqa: F401 - registers the alert types
    from foundation.lowcode.notify import register_types

    with app.app_context():
        register_types()
        types = {t["key"]: t for t in all_types()}
    assert SENT_IN_THIS_TEST | SCHEDULED <= set(types), (SENT_IN_THIS_TEST | SCHEDULED) - set(types)
    for key, spec in types.items():
        for lang in ("zh", "en"):
            assert spec["title"][lang] and spec["title"][lang] != key, key
            label = spec["link_label"][lang]
            assert label and not label.startswith("/"), key
            for part in ("subject", "body"):
                template = spec["template"][lang][part]
                assert not PATH.search(template) and "已{" not in template, f"{key}.{lang}.{part}: {template}"
    for key in SCHEDULED:  # never sent in the tests above: their words are at least the alert's own
        assert types[key]["link_label"]["zh"].startswith("查看"), key
