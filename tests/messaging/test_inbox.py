"""Inbox, notices, preferences, replies and figures through the API, with tenancy and privacy checks."""
from __future__ import annotations

import sqlalchemy as sa

from foundation.models import Account, InboxItem, Message, OrgUnit
from tests.conftest import AuthActions, login_of
from tests.messaging.support import classes, schools


def as_(app, demo, role: str, school: int = 0) -> AuthActions:
    a = AuthActions(app.test_client())
    assert a.login(login_of(demo, role, school)).status_code == 302
    return a


def sample_class(db_session, demo, school: int = 0) -> int:
    """The class of the demo's homeroom teacher (and of its sample parent)."""
    teacher = db_session.scalar(sa.select(Account).where(Account.username == login_of(demo, "homeroom_teacher", school)))
    return teacher.memberships[0].org_unit_id


def notice(subject="明天春游", body="请带好水和午饭。", **audience):
    return {"subject": subject, "body": body, "audience": audience}


def test_teacher_notice_reaches_parent_with_receipts_archive_and_search(app, demo, db_session):
    klass = sample_class(db_session, demo)
    teacher, parent = as_(app, demo, "homeroom_teacher"), as_(app, demo, "parent")
    assert parent.get("/api/v1/messages/unread").get_json() == {"unread": 0}
    r = teacher.post("/api/v1/messages", notice(kind="class", class_id=klass))
    assert r.status_code == 201, r.get_json()
    mid = r.get_json()["message_id"]
    box = parent.get("/api/v1/messages/inbox").get_json()
    assert box["unread"] == 1 and box["total"] == 1
    item = box["items"][0]
    assert item["subject"] == "明天春游" and item["sender"] and item["read_at"] is None and item["replyable"]
    assert teacher.get(f"/api/v1/messages/{mid}/receipts").get_json()["read"] == 0
    assert parent.post(f"/api/v1/messages/inbox/{item['id']}/read").get_json()["unread"] == 0
    receipts = teacher.get(f"/api/v1/messages/{mid}/receipts").get_json()
    assert receipts["read"] == 1 and receipts["items"][0]["read_at"]
    assert parent.get("/api/v1/messages/inbox?q=春游").get_json()["total"] == 1
    assert parent.get("/api/v1/messages/inbox?q=秋游").get_json()["total"] == 0
    assert parent.get("/api/v1/messages/inbox", query_string={"q": "春\x00"}).status_code == 422
    assert parent.get("/api/v1/messages/inbox?q=100%25_").get_json()["total"] == 0  # LIKE wildcards are literal
    assert parent.client.get("/messages", query_string={"q": "春\x00"}).status_code == 400  # refused before any page
    assert parent.post(f"/api/v1/messages/inbox/{item['id']}/archive").get_json()["archived"] is True
    assert parent.get("/api/v1/messages/inbox").get_json()["total"] == 0
    assert parent.get("/api/v1/messages/inbox?box=archive").get_json()["total"] == 1
    parent.post(f"/api/v1/messages/inbox/{item['id']}/archive", {"archived": False})
    assert parent.get("/api/v1/messages/inbox").get_json()["total"] == 1
    en = parent.get("/api/v1/messages/inbox", lang="en").get_json()["items"][0]
    assert en["type_title"] == "Notice"


def test_nobody_sees_or_touches_another_inbox(app, demo, db_session):
    klass = sample_class(db_session, demo)
    teacher, parent, other = as_(app, demo, "homeroom_teacher"), as_(app, demo, "parent"), as_(app, demo, "parent", 1)
    teacher.post("/api/v1/messages", notice(kind="class", class_id=klass))
    item = parent.get("/api/v1/messages/inbox").get_json()["items"][0]
    assert other.get("/api/v1/messages/inbox").get_json()["total"] == 0
    for call in (lambda: other.get(f"/api/v1/messages/inbox/{item['id']}"),
                 lambda: other.post(f"/api/v1/messages/inbox/{item['id']}/read"),
                 lambda: other.post(f"/api/v1/messages/inbox/{item['id']}/archive"),
                 lambda: other.post(f"/api/v1/messages/inbox/{item['id']}/reply", {"body": "hi"}),
                 lambda: other.get(f"/api/v1/messages/{item['message_id']}/receipts"),
                 lambda: parent.get(f"/api/v1/messages/{item['message_id']}/receipts")):
        assert call().status_code == 404
    assert db_session.scalar(sa.select(InboxItem.read_at).where(InboxItem.id == item["id"])) is None
    # parents, students and subject teachers send nothing
    for role in ("parent", "student", "subject_teacher"):
        assert as_(app, demo, role).post("/api/v1/messages", notice(kind="class", class_id=klass)).status_code == 403
    assert parent.get("/api/v1/messages/dead-letters").status_code == 403
    assert parent.get("/api/v1/messages/figures").status_code == 403


def test_senders_stay_within_their_reach(app, demo, db_session):
    s1, s2 = schools(db_session)
    klass = sample_class(db_session, demo)
    other_class = next(c for c in classes(db_session, s1) if c != klass)
    foreign_class = classes(db_session, s2)[0]
    teacher, admin = as_(app, demo, "homeroom_teacher"), as_(app, demo, "school_admin")
    assert teacher.post("/api/v1/messages", notice(kind="class", class_id=other_class)).status_code == 403
    assert teacher.post("/api/v1/messages", notice(kind="class", class_id=foreign_class)).status_code == 404
    assert teacher.post("/api/v1/messages", notice(kind="school", school_id=s1)).status_code == 403
    assert admin.post("/api/v1/messages", notice(kind="school", school_id=s2)).status_code == 404
    assert admin.post("/api/v1/messages", notice(kind="class", class_id=foreign_class)).status_code == 404
    assert admin.post("/api/v1/messages", notice(kind="district")).status_code == 403
    r = admin.post("/api/v1/messages", notice(kind="school", school_id=s1, role="homeroom_teacher"))
    assert r.status_code == 201 and r.get_json()["recipients"] == 2
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Message)) == 1
    bad = admin.post("/api/v1/messages", {"subject": "", "body": "x", "audience": {"kind": "moon"}}, lang="en")
    assert bad.status_code == 422 and bad.get_json()["error"]["fields"]["subject"] == "Enter a subject"


def test_district_notice_reaches_every_school_once(app, demo, db_session):
    district = as_(app, demo, "district_admin")
    body = notice(kind="district") | {"client_token": "click-0001"}
    first = district.post("/api/v1/messages", body).get_json()
    again = district.post("/api/v1/messages", body).get_json()
    assert first == again  # a double click is one notice
    accounts = db_session.scalar(sa.select(sa.func.count()).select_from(Account).where(Account.active.is_(True)))
    rows = db_session.execute(sa.select(InboxItem.school_id, sa.func.count()).group_by(InboxItem.school_id)).all()
    assert sum(n for _, n in rows) == accounts == first["recipients"]
    assert {s for s, _ in rows} >= set(schools(db_session))
    for school in (0, 1):
        assert as_(app, demo, "parent", school).get("/api/v1/messages/unread").get_json()["unread"] == 1


def test_preferences_and_mandatory_types(app, demo):
    parent = as_(app, demo, "parent")
    prefs = {p["type"]: p for p in parent.get("/api/v1/messages/preferences").get_json()["types"]}
    assert prefs["notice"]["channels"] == {"push": True, "webhook": True, "email": True}
    assert prefs["emergency"]["mandatory"] is True
    r = parent.put("/api/v1/messages/preferences", {"changes": [{"type": "notice", "channel": "push", "enabled": False}],
                                                     "email": "parent@example.cn"})
    assert r.status_code == 200
    out = {p["type"]: p for p in r.get_json()["types"]}
    assert out["notice"]["channels"]["push"] is False and r.get_json()["email"] == "parent@example.cn"
    for change, field in (({"type": "emergency", "channel": "push", "enabled": False}, "enabled"),
                          ({"type": "notice", "channel": "inbox", "enabled": False}, "channel"),
                          ({"type": "nope", "channel": "push", "enabled": False}, "type")):
        bad = parent.put("/api/v1/messages/preferences", {"changes": [change]}, lang="zh")
        assert bad.status_code == 422 and field in bad.get_json()["error"]["fields"]
    assert parent.put("/api/v1/messages/preferences", {"email": "not-mail"}).status_code == 422


def test_replies_and_figures(app, demo, db_session):
    klass = sample_class(db_session, demo)
    s1 = schools(db_session)[0]
    teacher, parent, admin = as_(app, demo, "homeroom_teacher"), as_(app, demo, "parent"), as_(app, demo, "school_admin")
    teacher.post("/api/v1/messages", notice(kind="class", class_id=klass, target="both"))
    item = parent.get("/api/v1/messages/inbox").get_json()["items"][0]
    parent.post(f"/api/v1/messages/inbox/{item['id']}/read")
    r = parent.post(f"/api/v1/messages/inbox/{item['id']}/reply", {"body": "收到，谢谢老师"})
    assert r.status_code == 201
    reply = teacher.get("/api/v1/messages/inbox").get_json()["items"][0]
    assert reply["type"] == "notice.reply" and "收到" in reply["body"] and reply["reply_to_id"] == item["message_id"]
    figs = admin.get("/api/v1/messages/figures").get_json()
    school = next(s for s in figs["schools"] if s["school_id"] == s1)
    assert school["notices"] == 1 and school["replies"] == 1 and school["read"] == 1
    assert 0 < school["read_rate"] <= 0.5 and school["median_minutes_to_read"] is not None
    assert [c["class_id"] for c in figs["classes"]] == [klass]
    own = teacher.get("/api/v1/messages/figures").get_json()
    assert own["schools"] == [] and own["classes"][0]["replies"] == 1
    other = as_(app, demo, "school_admin", 1).get("/api/v1/messages/figures").get_json()
    assert other["classes"] == [] and all(s["notices"] == 0 for s in other["schools"])
    name = db_session.scalar(sa.select(OrgUnit.name).where(OrgUnit.id == klass))
    assert figs["classes"][0]["name"] == name


def test_figures_median_time_to_read_and_district_notices_in_every_school(app, demo, db_session):
    from datetime import timedelta

    from foundation.messaging.figures import figures
    from tests.messaging.support import parent_accounts

    s1, s2 = schools(db_session)
    parent_accounts(db_session, classes(db_session, s1)[0])
    district = as_(app, demo, "district_admin")
    mid = district.post("/api/v1/messages", notice(kind="district")).get_json()["message_id"]
    sent = db_session.scalar(sa.select(Message.created_at).where(Message.id == mid))
    rows = db_session.scalars(sa.select(InboxItem).where(InboxItem.school_id == s1).order_by(InboxItem.id)).all()
    for item, minutes in zip(rows, (10, 20, 60), strict=False):
        item.read_at = sent + timedelta(minutes=minutes)
    db_session.commit()
    out = figures(db_session, school_ids=[s1, s2])
    one, two = out["schools"]
    assert one["notices"] == two["notices"] == 1 and one["read"] == 3 and two["read"] == 0
    assert one["median_minutes_to_read"] == 20.0 and two["median_minutes_to_read"] is None
    assert one["delivered"] == len(rows) and one["read_rate"] == round(3 / len(rows), 4)
    assert out["classes"] == []  # a district notice is not a class's notice
    over_api = district.get("/api/v1/messages/figures").get_json()["schools"]
    assert [s["notices"] for s in over_api] == [1, 1]


def test_nul_characters_are_refused_everywhere(app, demo, db_session):
    klass = sample_class(db_session, demo)
    teacher, parent = as_(app, demo, "homeroom_teacher"), as_(app, demo, "parent")
    assert teacher.post("/api/v1/messages", notice(subject="a\x00", kind="class", class_id=klass)).status_code == 422
    assert parent.put("/api/v1/messages/preferences", {"email": "a\x00b@example.cn"}).status_code == 422
    teacher.post("/api/v1/messages", notice(kind="class", class_id=klass))
    item = parent.get("/api/v1/messages/inbox").get_json()["items"][0]
    assert parent.post(f"/api/v1/messages/inbox/{item['id']}/reply", {"body": "x\x00"}).status_code == 422
    page = parent.client.get("/messages/preferences").get_data(as_text=True)
    import re

    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    r = parent.client.post("/messages/preferences", data={"csrf_token": token, "email": "a\x00b@example.cn"})
    assert r.status_code == 400  # a control character in a form field: refused before the page's own checks
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Message)) == 1
