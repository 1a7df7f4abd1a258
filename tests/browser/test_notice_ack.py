"""In a real browser: a homeroom teacher sends a notice with a picture to the class's families, asking them to
confirm it; a parent on a phone (390 × 844) opens it and taps 确认收到; the teacher (1366 px) sees that family
as confirmed and the others not, and sends the one reminder. Screenshots go to test-artifacts/."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from foundation.models import Account, GuardianLink, Message, Student
from tests.conftest import browser_login, login_of, wait_for_js
from tests.messaging.support import parent_accounts
from tests.messaging.test_attachments import png
from tests.messaging.test_inbox import sample_class

pytestmark = pytest.mark.browser


def test_parent_confirms_on_a_phone_and_the_teacher_sees_it(app, demo, db_session, live_server, browser, shot,
                                                            tmp_path):
    klass = sample_class(db_session, demo)
    parent_accounts(db_session, klass)  # every family of the class has an account; one of them logs in below
    parent_login = login_of(demo, "parent")
    guardian = db_session.scalar(sa.select(Account.person_id).where(Account.username == parent_login))
    child = db_session.scalar(sa.select(Student.name).join(GuardianLink, GuardianLink.student_id == Student.id)
                              .where(GuardianLink.guardian_id == guardian, Student.class_id == klass))
    picture = tmp_path / "集合地点.png"
    picture.write_bytes(png())

    desk = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1366, "height": 900})
    phone = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 390, "height": 844},
                                is_mobile=True, has_touch=True, device_scale_factor=2)
    try:
        teacher = desk.new_page()
        browser_login(teacher, live_server, login_of(demo, "homeroom_teacher"))
        teacher.goto(f"{live_server}/messages/send")
        teacher.select_option("select[name=class_id]", str(klass))
        teacher.wait_for_selector("#msg-reach:has-text('将送达')")
        teacher.fill("input[name=subject]", "秋游安全须知")
        teacher.fill("textarea[name=body]", "本周五秋游，8:00 在校门口集合。请阅读集合地点图，读完点“确认收到”。")
        teacher.set_input_files("input[name=attachments]", str(picture))
        teacher.check("input[name=ack]")
        shot(teacher, "notice-ack-send-1366")
        teacher.click("form.msg-send button[type=submit]")
        teacher.wait_for_url("**/messages/sent?sent=*")
        assert "已送达" in teacher.inner_text("table.grid")

        parent = phone.new_page()
        browser_login(parent, live_server, parent_login)
        parent.goto(f"{live_server}/messages")
        parent.locator("li.msg.needs-ack", has_text="秋游安全须知").wait_for()
        notice = parent.locator("#" + parent.locator("li.msg.needs-ack").get_attribute("id"))
        button = notice.locator("button.msg-ack-button")
        assert button.bounding_box()["height"] >= 44 and button.bounding_box()["width"] >= 300  # one big tap
        wait_for_js(parent, "document.querySelector('.msg-thumb img').naturalWidth > 0")
        shot(parent, "notice-ack-parent-390")
        button.tap()
        notice.locator(".msg-acked").wait_for()
        assert "已确认" in notice.locator(".msg-acked").inner_text()
        assert parent.locator(".toast", has_text="已确认收到").count() == 1
        assert parent.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scroll
        shot(parent, "notice-ack-parent-390-confirmed")
        parent.reload()  # it stays confirmed, and the button does not come back
        assert parent.locator("button.msg-ack-button").count() == 0

        teacher.click("table.grid a:has-text('秋游安全须知')")
        teacher.wait_for_selector("table.ack-acked")
        assert child in teacher.inner_text("table.ack-acked") and child not in teacher.inner_text("table.ack-waiting")
        waiting = teacher.locator("table.ack-waiting tbody tr").count()
        assert waiting > 0
        teacher.click("form.msg-remind button[type=submit]")
        teacher.wait_for_selector(".toast:has-text('已提醒未确认的人')")
        assert teacher.locator(".msg-remind button").is_disabled()
        shot(teacher, "notice-ack-receipts-1366")
    finally:
        desk.close()
        phone.close()
    db_session.expire_all()
    reminders = db_session.scalars(sa.select(Message).where(Message.type_key == "notice.reminder")).all()
    assert len(reminders) == 1 and reminders[0].recipient_count >= waiting
