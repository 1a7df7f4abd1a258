"""确认收到: a notice that asks families to confirm it. One tap (idempotent, CSRF-protected, audited), the sender's
list of who has and has not confirmed (per student, with the guardian and the class), one reminder to the
rest (a second is refused in words), and the reach told honestly before and after sending."""
from __future__ import annotations

import re

import sqlalchemy as sa

from foundation.models import Account, AuditEntry, GuardianLink, InboxItem, Message, Student
from tests.messaging.support import classes, parent_accounts, schools
from tests.messaging.test_inbox import sample_class


def _audits(db_session, action: str) -> int:
    db_session.expire_all()
    return db_session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(AuditEntry.action == action))


def _without_family_account(db_session, where) -> int:
    """Students with no guardian who has an account, counted here independently of the product's query."""
    has = {sid for sid, in db_session.execute(sa.select(GuardianLink.student_id).join(
        Account, sa.and_(Account.person_kind == "guardian", Account.person_id == GuardianLink.guardian_id)))}
    return len([s for s in db_session.scalars(sa.select(Student.id).where(where)) if s not in has])


def test_parent_confirms_once_and_the_teacher_sees_who_and_reminds_once(app, users, demo, db_session):
    klass = sample_class(db_session, demo)
    teacher, parent, admin = users("homeroom_teacher"), users("parent"), users("school_admin")
    before = teacher.get(f"/api/v1/messages/reach?kind=class&class_id={klass}&target=parents").get_json()
    assert before["accounts"] == 1  # the demo has one parent login per school …
    missing = _without_family_account(db_session, Student.class_id == klass)
    assert before["families_without_account"] == missing > 0  # … and says how many families it misses
    assert before["students"] == db_session.scalar(sa.select(sa.func.count()).select_from(Student)
                                                   .where(Student.class_id == klass))
    accounts = parent_accounts(db_session, klass)  # now every guardian of the class has an account
    sent = teacher.post("/api/v1/messages", {"subject": "秋游回执", "body": "请确认收到。", "ack": True,
                                             "audience": {"kind": "class", "class_id": klass, "target": "parents"}})
    assert sent.status_code == 201, sent.get_json()
    mid, n = sent.get_json()["message_id"], sent.get_json()["recipients"]
    assert n == len(accounts) and sent.get_json()["reach"]["families_without_account"] == \
        _without_family_account(db_session, Student.class_id == klass)
    assert _audits(db_session, "messages.send") == 1

    item = parent.get("/api/v1/messages/inbox").get_json()["items"][0]
    assert item["ack_required"] is True and item["acked_at"] is None
    url = f"/api/v1/messages/inbox/{item['id']}/ack"
    assert parent.client.post(url).status_code == 400  # no CSRF token: refused, nothing written
    first = parent.post(url)
    assert first.status_code == 200 and first.get_json()["acked_at"] and first.get_json()["read_at"]
    again = parent.post(url)
    assert again.status_code == 200 and again.get_json()["acked_at"] == first.get_json()["acked_at"]
    assert _audits(db_session, "messages.ack") == 1
    assert users("parent", 1).post(url).status_code == 404  # another family's row does not exist for them

    receipts = teacher.get(f"/api/v1/messages/{mid}/receipts").get_json()
    assert receipts["ack_required"] and receipts["acked"] == 1 and receipts["recipients"] == n
    rows = {r["student_id"]: r for r in receipts["families"]["rows"]}
    guardian = db_session.scalar(sa.select(InboxItem.account_id).where(InboxItem.id == item["id"]))
    person = db_session.scalar(sa.select(Account.person_id).where(Account.id == guardian))
    kids = list(db_session.scalars(sa.select(GuardianLink.student_id).join(Student, Student.id == GuardianLink.student_id)
                                   .where(Student.class_id == klass, GuardianLink.guardian_id == person)))
    assert kids and all(rows[k]["state"] == "acked" and rows[k]["class"] for k in kids)
    assert rows[kids[0]]["people"][0]["acked_at"] and rows[kids[0]]["people"][0]["name"]
    waiting = [r for r in rows.values() if r["state"] == "waiting"]
    assert waiting and receipts["families"]["counts"]["acked"] == len(kids)
    assert _audits(db_session, "messages.receipts.read") == 1
    assert admin.get(f"/api/v1/messages/{mid}/receipts").status_code == 404  # only the sender's

    # one reminder, to those who have not confirmed; a second is refused in words
    assert admin.post(f"/api/v1/messages/{mid}/remind").status_code == 404
    reminded = teacher.post(f"/api/v1/messages/{mid}/remind")
    assert reminded.status_code == 201 and reminded.get_json()["recipients"] == n - 1
    twice = teacher.post(f"/api/v1/messages/{mid}/remind", lang="zh")
    assert twice.status_code == 422 and "已经提醒过" in twice.get_json()["error"]["fields"]["reminder"]
    assert "already" in teacher.post(f"/api/v1/messages/{mid}/remind", lang="en").get_json()["error"]["fields"]["reminder"]
    assert _audits(db_session, "messages.remind") == 1
    reminder = db_session.scalar(sa.select(Message).where(Message.type_key == "notice.reminder"))
    told = set(db_session.scalars(sa.select(InboxItem.account_id).where(InboxItem.message_id == reminder.id)))
    assert guardian not in told and len(told) == n - 1
    assert reminder.link == f"/messages/m/{mid}"
    assert parent.client.get(f"/messages/m/{mid}").status_code == 200
    assert teacher.client.get(f"/messages/m/{mid}").headers["Location"].endswith(f"/messages/sent/{mid}")
    assert users("parent", 1).client.get(f"/messages/m/{mid}").status_code == 404
    assert teacher.get("/api/v1/messages/sent").get_json()["items"][0]["message_id"] == mid  # not the reminder

    # the sender's page: confirmed and not, per student; the reminder button used up
    page = teacher.client.get(f"/messages/sent/{mid}").get_data(as_text=True)
    assert f"已确认（{len(kids)}）" in page and f"未确认（{len(waiting)}）" in page
    assert "已提醒</button>" in page and "disabled" in page
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    again = teacher.client.post(f"/messages/sent/{mid}/remind", data={"csrf_token": token})
    assert again.status_code == 302
    assert "已经提醒过一次" in teacher.client.get(again.headers["Location"]).get_data(as_text=True)
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Message)
                             .where(Message.type_key == "notice.reminder")) == 1


def test_confirming_without_javascript_and_what_cannot_be_confirmed(users, demo, db_session):
    klass = sample_class(db_session, demo)
    teacher, parent = users("homeroom_teacher"), users("parent")
    teacher.post("/api/v1/messages", {"subject": "普通通知", "body": "无需确认。",
                                      "audience": {"kind": "class", "class_id": klass}})
    plain = parent.get("/api/v1/messages/inbox").get_json()["items"][0]
    refused = parent.post(f"/api/v1/messages/inbox/{plain['id']}/ack", lang="en")
    assert refused.status_code == 422 and "item_id" in refused.get_json()["error"]["fields"]
    assert teacher.post(f"/api/v1/messages/{plain['message_id']}/remind").status_code == 422
    bad = teacher.post("/api/v1/messages", {"subject": "x", "body": "y", "ack": "yes",
                                            "audience": {"kind": "class", "class_id": klass}})
    assert bad.status_code == 422 and "ack" in bad.get_json()["error"]["fields"]
    teacher.post("/api/v1/messages", {"subject": "家长会回执", "body": "请确认。", "ack": True,
                                      "audience": {"kind": "class", "class_id": klass}})
    item = parent.get("/api/v1/messages/inbox").get_json()["items"][0]
    inbox = parent.client.get("/messages").get_data(as_text=True)
    assert 'class="msg-ack-button"' in inbox and f'action="/messages/inbox/{item["id"]}/ack"' in inbox
    token = re.search(r'name="csrf-token" content="([^"]+)"', inbox).group(1)
    assert parent.client.post(f"/messages/inbox/{item['id']}/ack").status_code == 400  # the form's CSRF token
    done = parent.client.post(f"/messages/inbox/{item['id']}/ack", data={"csrf_token": token})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/messages#m{item['id']}")
    after = parent.client.get("/messages").get_data(as_text=True)
    assert "已确认收到" in after and 'class="msg-acked"' in after  # the toast, then "已确认 12-05 08:12"
    assert users("parent", 1).client.post(f"/messages/inbox/{item['id']}/ack", data={"csrf_token": token}) \
        .status_code in (400, 404)


def test_reach_is_told_before_and_after_sending(users, demo, db_session):
    s1, s2 = schools(db_session)
    admin, district, teacher = users("school_admin"), users("district_admin"), users("homeroom_teacher")
    whole = admin.get(f"/api/v1/messages/reach?kind=school&school_id={s1}").get_json()
    assert whole["students"] == db_session.scalar(sa.select(sa.func.count()).select_from(Student)
                                                  .where(Student.school_id == s1))
    assert whole["families_without_account"] == _without_family_account(db_session, Student.school_id == s1)
    assert whole["students_without_account"] is not None and whole["accounts"] > 0
    staff = admin.get(f"/api/v1/messages/reach?kind=school&school_id={s1}&role=homeroom_teacher").get_json()
    assert staff["accounts"] == 2 and staff["families_without_account"] is None
    assert district.get("/api/v1/messages/reach?kind=district").get_json()["families_without_account"] is None
    assert admin.get(f"/api/v1/messages/reach?kind=class&class_id={classes(db_session, s2)[0]}").status_code == 404
    assert teacher.get(f"/api/v1/messages/reach?kind=school&school_id={s1}").status_code == 403
    nothing = admin.get("/api/v1/messages/reach", lang="en")
    assert nothing.status_code == 422 and "audience" in nothing.get_json()["error"]["fields"]
    page = admin.client.get("/messages/send").get_data(as_text=True)
    assert 'id="msg-reach"' in page and "将送达" in page
    sent = admin.post("/api/v1/messages", {"subject": "运动会", "body": "下周三运动会。",
                                           "audience": {"kind": "school", "school_id": s1}}).get_json()
    assert sent["reach"]["accounts"] == whole["accounts"] == sent["recipients"]
    listing = admin.client.get("/messages/sent").get_data(as_text=True)
    assert f"已送达 {whole['accounts']} 人" in listing
    assert f"另有 {whole['families_without_account']} 名学生的家长尚未开通账号" in listing
    en = admin.client.get("/messages/sent?lang=en").get_data(as_text=True)
    assert f"Reached {whole['accounts']} recipient(s)" in en
