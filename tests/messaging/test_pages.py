"""The message-center pages: inbox with the unread badge, sending a notice from the form (within the
sender's reach), sent notices with read receipts, preferences, figures with their chart, dead letters."""
from __future__ import annotations

import re

import sqlalchemy as sa

from foundation.messaging import send
from foundation.models import Delivery, InboxItem, Message
from tests.messaging.support import schools
from tests.messaging.test_inbox import as_, sample_class


def form_post(client, url, data):
    page = client.get(url).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return client.post(url, data={"csrf_token": token, **data})


def test_teacher_sends_from_the_form_and_parent_reads_in_the_inbox(app, demo, db_session):
    klass = sample_class(db_session, demo)
    teacher, parent = as_(app, demo, "homeroom_teacher"), as_(app, demo, "parent")
    page = teacher.client.get("/messages/send").get_data(as_text=True)
    assert 'value="class"' in page and 'value="district"' not in page
    r = form_post(teacher.client, "/messages/send", {"kind": "class", "class_id": klass, "target": "parents",
                                                     "subject": "校服征订", "body": "请于周五前回复尺码。",
                                                     "client_token": "form-token-1"})
    assert r.status_code == 302 and "/messages/sent" in r.headers["Location"]
    inbox = parent.client.get("/messages").get_data(as_text=True)
    assert "校服征订" in inbox and 'id="nav-unread"' in inbox and ">1</span>" in inbox
    item = db_session.scalar(sa.select(InboxItem).join(Message, Message.id == InboxItem.message_id).where(Message.subject_zh == "校服征订"))
    parent.post(f"/api/v1/messages/inbox/{item.id}/read")
    sent = teacher.client.get("/messages/sent").get_data(as_text=True)
    assert "校服征订" in sent and "1/1" in sent
    receipts = teacher.client.get(f"/messages/sent/{item.message_id}").get_data(as_text=True)
    assert "1 人中 1 人已读" in receipts
    assert parent.client.get(f"/messages/sent/{item.message_id}").status_code == 404
    assert parent.client.get("/messages/send").status_code == 403
    # a class the teacher does not teach: refused, nothing written
    other = next(c for c in db_session.scalars(sa.select(Message.class_id)) if c) + 1
    r = form_post(teacher.client, "/messages/send", {"kind": "class", "class_id": other, "subject": "x", "body": "y"})
    assert r.status_code in (200, 403, 404)
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Message)) == 1


def test_prefs_figures_and_dead_letters_pages(app, demo, db_session):
    parent, admin = as_(app, demo, "parent"), as_(app, demo, "school_admin")
    prefs = parent.client.get("/messages/preferences").get_data(as_text=True)
    assert 'name="emergency:push"' in prefs and "disabled" in prefs
    r = form_post(parent.client, "/messages/preferences", {"notice:webhook": "1", "notice:email": "1",
                                                          "email": "mum@example.cn"})
    assert r.status_code == 302
    types = {p["type"]: p for p in parent.get("/api/v1/messages/preferences").get_json()["types"]}
    assert types["notice"]["channels"] == {"push": False, "webhook": True, "email": True}
    assert types["emergency"]["channels"]["push"] is True  # mandatory: a missing box does not switch it off
    bad = form_post(parent.client, "/messages/preferences", {"email": "nope"})
    assert bad.status_code == 200 and "邮箱地址格式不对" in bad.get_data(as_text=True)
    s1 = schools(db_session)[0]
    with app.app_context():
        msg = send(db_session, "notice", recipients=[{"school": s1}], variables={"subject": "运动会", "body": "……"},
                   school_id=s1)
        db_session.add(Delivery(message_id=msg.id, account_id=msg.sender_account_id or 1, channel="webhook",
                                school_id=s1, status="dead", attempts=6, last_error="webhook: HTTP 500"))
        db_session.commit()
    figs = admin.client.get("/messages/figures").get_data(as_text=True)
    assert 'class="bars"' in figs and "0%" in figs
    dead = admin.client.get("/messages/dead-letters").get_data(as_text=True)
    assert "webhook: HTTP 500" in dead and "运动会" in dead
    assert as_(app, demo, "school_admin", 1).client.get("/messages/dead-letters").get_data(as_text=True).count(
        "HTTP 500") == 0
    r = form_post(admin.client, "/messages/dead-letters", {})
    assert r.status_code == 302 and "replayed=1" in r.headers["Location"]
    assert parent.client.get("/messages/dead-letters").status_code == 403
    assert parent.client.get("/messages/figures").status_code == 403


def test_district_admin_sends_to_the_whole_district_from_the_form(app, demo, db_session):
    district = as_(app, demo, "district_admin")
    page = district.client.get("/messages/send").get_data(as_text=True)
    assert 'value="district"' in page and 'value="school"' in page
    r = form_post(district.client, "/messages/send", {"kind": "district", "subject": "全区教师大会",
                                                      "body": "周一上午九点。", "client_token": "district-form-1"})
    assert r.status_code == 302
    per_school = dict(db_session.execute(sa.select(InboxItem.school_id, sa.func.count()).group_by(
        InboxItem.school_id)).all())
    assert all(per_school.get(s) for s in schools(db_session))  # every school reached
    assert "messages.send" in {a for (a,) in db_session.execute(sa.text("SELECT action FROM audit_log"))}
