"""The issue's walk, in a real browser, as new users would do it: a homeroom teacher clones the leave
template, adds a field, publishes it to her class; a parent submits; the teacher sees the table and chart,
the rule's yellow alert, approves; the parent is told; the app goes to the square, where the district
admin reviews, publishes and promotes it."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.conftest import browser_login, login_of

pytestmark = pytest.mark.browser


def _as(browser, live_server, username: str):
    ctx = browser.new_context(locale="zh-CN")
    page = ctx.new_page()
    browser_login(page, live_server, username)
    return ctx, page


def test_teacher_builds_a_leave_app_parent_submits_alert_and_approval_district_promotes(
        app, live_server, browser, demo, db_session, shot):
    from foundation import db
    from foundation.lowcode.forms import seed_templates
    from foundation.models import AlertCase, Submission
    from foundation.models.messages import InboxItem, Message
    from foundation.tenancy import unscoped

    with app.app_context():
        seed_templates(unscoped("test setup").mark(db.session()))
        db.session().commit()

    # -- the teacher clones the template and adapts it in the editor ----------------------------------------
    ctx, page = _as(browser, live_server, login_of(demo, "homeroom_teacher"))
    page.goto(f"{live_server}/forms")
    page.locator("tr", has_text="班级请假申请").locator("button", has_text="克隆").click()
    page.wait_for_url("**/edit")
    form_id = int(page.url.split("/")[-2])
    assert page.locator("li.field").count() == 7
    page.click("#add-field")
    new = page.locator("li.field").last
    new.locator(".f-title").fill("接送人")
    new.locator(".f-title-en").fill("Pick-up person")  # the hidden key is made from the label
    new.locator(".f-required").check()
    page.locator("li.field").first.locator("button", has_text="↓").click()  # reorder: student after kind
    assert page.locator("li.field").nth(1).locator(".f-title").input_value() == "学生"
    kind = page.locator("li.field[data-key=kind]")
    kind.locator(".o-add").click()  # an option added, as a row
    kind.locator(".o-zh").last.fill("公假")
    days = page.locator("li.field[data-key=days]")
    days.locator(".f-max").fill("10")  # a bound changed
    days.locator(".f-title").fill("请假天数")  # a label changed
    page.locator("li.field[data-key=parent_phone] button", has_text="删除").click()  # a field removed
    page.locator("label.chip", has_text="★").locator("input").check()  # publish to her own class
    page.select_option("#chart-by", "kind")
    shot(page, "lowcode-editor")
    page.click("#publish")
    page.click("#publish-confirm")  # publishing asks first
    page.wait_for_selector("#publish-state >> text=已发布 v1")
    ctx.close()
    from foundation.models import FormVersion

    published = db_session.scalar(sa.select(FormVersion).where(FormVersion.form_id == form_id)).schema
    assert published["properties"]["days"]["maximum"] == 10 and published["properties"]["days"]["title"] == "请假天数"
    assert [o["title"] for o in published["properties"]["kind"]["oneOf"]] == ["病假", "事假", "其他", "公假"]
    assert "parent_phone" not in published["properties"] and published["required"][-1] == "pick_up_person"

    # -- a parent of that class submits a five-day leave (the rule: five days or more → yellow alert) -----
    ctx, page = _as(browser, live_server, login_of(demo, "parent"))
    page.goto(f"{live_server}/forms/{form_id}/fill")
    page.select_option("select[name='f.student']", index=1)
    page.check("input[name='f.kind'][value=personal]")
    page.fill("input[name='f.start']", "2026-11-30")
    page.fill("input[name='f.days']", "5")
    page.fill("textarea[name='f.reason']", "回老家参加婚礼")
    page.get_by_label("接送人").fill("爸爸")
    page.click("form.lowcode button[type=submit]")
    page.wait_for_selector("text=已提交")
    ctx.close()
    sub = db_session.scalar(sa.select(Submission).where(Submission.form_id == form_id))
    assert sub.status == "pending" and sub.data["pick_up_person"] == "爸爸"
    case = db_session.scalar(sa.select(AlertCase).where(AlertCase.student_id == sub.student_id))
    assert case is not None and case.level == "yellow"

    # -- the teacher sees the table, the chart and the alert; approves ------------------------------------
    ctx, page = _as(browser, live_server, login_of(demo, "homeroom_teacher"))
    page.goto(f"{live_server}/forms/{form_id}/app")
    row = page.locator("#app-table tbody tr").first
    assert "事假" in row.inner_text() and "黄色预警" in row.inner_text() and "待审批" in row.inner_text()
    assert page.locator("#chart .bar").count() == 1 and "事假" in page.locator("#chart").inner_text()
    shot(page, "lowcode-app-page")
    page.fill("#approvals input[name=note]", "路上注意安全")
    page.click("#approvals button[value=approved]")
    page.wait_for_selector("#app-table >> text=已批准")
    page.click("#app-table a.badge.yellow")  # the alert case the rule opened, assigned to her
    page.wait_for_url(f"**/alerts/{case.id}")
    assert "请假五天以上" in page.content()
    page.goto(f"{live_server}/forms/{form_id}/app")
    page.fill("input[name=description]", "请假审批：家长提交、班主任审批、家长收到结果")
    page.click("text=提交到应用广场")
    page.wait_for_url("**/square")
    ctx.close()
    db_session.expire_all()
    told = db_session.scalars(sa.select(Message.subject_zh).join(InboxItem, InboxItem.message_id == Message.id)
                              .where(InboxItem.account_id == sub.submitted_by)).all()
    assert any("已批准" in s for s in told)

    # -- the district admin reviews, publishes and promotes it ----------------------------------------------
    ctx, page = _as(browser, live_server, login_of(demo, "district_admin"))
    page.goto(f"{live_server}/square")
    card = page.locator(f"section.app[data-key='{form_id}']")
    assert "待审核" in card.inner_text() and "校级" in card.inner_text()
    for action in ("开始审核", "发布", "推广到区级"):
        page.locator(f"section.app[data-key='{form_id}'] button", has_text=action).click()
        page.wait_for_load_state()
    card = page.locator(f"section.app[data-key='{form_id}']")
    assert "区级" in card.inner_text() and "1 份填报" in card.inner_text()
    shot(page, "lowcode-square-promoted")
    ctx.close()
