"""In a real browser: a teacher with the message center open receives a notice live, without reloading
(server-sent events); the unread badge follows; opening it sends the read receipt. Screenshots of the
message pages go to test-artifacts/."""
from __future__ import annotations

import pytest

from tests.conftest import browser_login, login_of
from tests.messaging.support import schools
from tests.messaging.test_inbox import as_, sample_class

pytestmark = pytest.mark.browser




def test_teacher_receives_a_live_message_without_reloading(app, demo, db_session, live_server, page, shot):
    app.config["MESSAGE_SSE_POLL"] = 1.0  # lets the server notice a closed page quickly at the end
    browser_login(page, live_server, login_of(demo, "homeroom_teacher"))
    page.goto(f"{live_server}/messages")
    page.wait_for_selector("#live-status:has-text('无需刷新')")
    assert page.locator("#nav-unread").is_hidden()
    page.evaluate("window.__notReloaded = true")
    admin = as_(app, demo, "school_admin")  # the school office sends to every homeroom teacher
    r = admin.post("/api/v1/messages", {"subject": "下午四点班主任例会", "body": "地点：三楼会议室。请准时参加。",
                                        "audience": {"kind": "school", "school_id": schools(db_session)[0],
                                                     "role": "homeroom_teacher"}})
    assert r.status_code == 201
    item = page.locator("li.msg.fresh", has_text="下午四点班主任例会")
    item.wait_for(timeout=5000)
    assert page.evaluate("window.__notReloaded") is True  # the same page: nothing was reloaded
    assert page.locator("#nav-unread").inner_text() == "1"
    assert "1 条未读" in page.locator("#unread-line").inner_text()
    shot(page, "messages-live-arrived")
    item.locator("summary").click()
    page.wait_for_selector("#nav-unread", state="hidden")
    assert "0 条未读" in page.locator("#unread-line").inner_text()
    receipts = admin.get("/api/v1/messages/sent").get_json()["items"][0]
    assert receipts["read"] == 1
    shot(page, "messages-live-read")


def test_message_pages_in_the_browser(app, demo, db_session, live_server, page, shot):
    klass = sample_class(db_session, demo)
    browser_login(page, live_server, login_of(demo, "homeroom_teacher"))
    page.goto(f"{live_server}/messages/send")
    page.select_option("select[name=class_id]", str(klass))
    page.fill("input[name=subject]", "期中家长会")
    page.fill("textarea[name=body]", "11月28日（周五）下午3点，在本班教室召开家长会。")
    shot(page, "messages-send")
    page.click("form.msg-send button[type=submit]")
    page.wait_for_url("**/messages/sent?sent=*")
    assert "期中家长会" in page.inner_text("table.grid")
    shot(page, "messages-sent")
    parent = as_(app, demo, "parent")
    item = parent.get("/api/v1/messages/inbox").get_json()["items"][0]
    parent.post(f"/api/v1/messages/inbox/{item['id']}/read")
    parent.post(f"/api/v1/messages/inbox/{item['id']}/reply", {"body": "收到，准时参加。"})
    page.goto(f"{live_server}/messages/figures")
    assert "100" in page.inner_text(".bars")
    shot(page, "messages-figures")
    page.goto(f"{live_server}/messages/preferences")
    shot(page, "messages-prefs")


def test_inbox_in_english(app, demo, db_session, live_server, page, shot):
    teacher = as_(app, demo, "homeroom_teacher")
    klass = sample_class(db_session, demo)
    teacher.post("/api/v1/messages", {"subject": "Sports day", "body": "Friday, 9:00, on the field.",
                                      "audience": {"kind": "class", "class_id": klass, "target": "both"}})
    browser_login(page, live_server, login_of(demo, "parent"))
    page.goto(f"{live_server}/messages?lang=en")
    page.wait_for_selector("#live-status:has-text('no reload needed')")
    item = page.locator("li.msg", has_text="Sports day")
    assert "UTC" not in item.inner_text()  # shown on the reader's own clock
    item.locator("summary").click()
    page.fill("li.msg textarea[name=body]", "We will be there.")
    page.click("li.msg form.msg-reply button")
    page.wait_for_selector("li.msg .replied:visible")
    shot(page, "messages-inbox-en")
    assert teacher.get("/api/v1/messages/inbox").get_json()["items"][0]["type"] == "notice.reply"


def test_browser_on_one_process_gets_a_message_sent_through_another(app, demo, db_session, second_app, page, shot):
    """Two app processes sharing PostgreSQL/SQLite and Redis: the page is served by one, the notice is
    sent through the other, Redis pub/sub carries the fan-out."""
    second_app.app.config["MESSAGE_SSE_POLL"] = 60  # so only Redis pub/sub can bring it within the wait
    browser_login(page, second_app.url, login_of(demo, "homeroom_teacher"))
    page.goto(f"{second_app.url}/messages")
    page.wait_for_selector("#live-status:has-text('无需刷新')")
    admin = as_(app, demo, "school_admin")  # the first app (its own test client)
    assert app.config["REDIS_URL"] and app is not second_app
    r = admin.post("/api/v1/messages", {"subject": "跨进程的通知", "body": "由另一个应用进程发出。",
                                        "audience": {"kind": "school", "school_id": schools(db_session)[0],
                                                     "role": "homeroom_teacher"}})
    assert r.status_code == 201
    page.locator("li.msg.fresh", has_text="跨进程的通知").wait_for(timeout=4000)
    shot(page, "messages-live-other-process")


def test_school_admin_sends_an_urgent_notice_to_the_school(app, demo, db_session, live_server, page, shot):
    from foundation.models import Delivery

    browser_login(page, live_server, login_of(demo, "school_admin"))
    page.goto(f"{live_server}/messages/send")
    page.check("input[name=kind][value=school]")
    page.fill("input[name=subject]", "明日停课")
    page.fill("textarea[name=body]", "因台风预警，明日全校停课，请家长做好安排。")
    page.check("input[name=urgent]")
    shot(page, "messages-send-school")
    page.click("form.msg-send button[type=submit]")
    page.wait_for_url("**/messages/sent?sent=*")
    parent = as_(app, demo, "parent")
    item = parent.get("/api/v1/messages/inbox").get_json()["items"][0]
    assert item["type"] == "emergency" and item["mandatory"] and item["subject"] == "【紧急】明日停课"
    db_session.add(Delivery(message_id=item["message_id"], account_id=1, channel="webhook",
                            school_id=schools(db_session)[0], status="dead", attempts=6,
                            last_error="webhook: ReadTimeout: read timed out"))
    db_session.commit()
    page.goto(f"{live_server}/messages/dead-letters")
    assert "ReadTimeout" in page.inner_text("table.grid")
    shot(page, "messages-dead-letters")
    page.click("table.grid button")
    page.wait_for_url("**replayed=1")
