"""The leave walk in a real browser: a parent submits a 5-day leave on a phone-sized page; the homeroom
teacher approves it from 待我审批 (ticked, then one confirmation); the grade head approves; the dean is away
and her deputy approves for her from the submission's page; the parent sees every step on the timeline, then
fills the return-to-school report from the leave's page and reads it under the leave."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.conftest import browser_login, login_of
from tests.lowcode.test_flow import LEAVE, account, approve, publish

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


def _as(browser, live_server, username: str, viewport=None):
    ctx = browser.new_context(locale="zh-CN", viewport=viewport or {"width": 1280, "height": 900})
    page = ctx.new_page()
    browser_login(page, live_server, username)
    return ctx, page


def test_a_long_leave_walks_its_flow_and_the_parent_sees_each_step(live_server, browser, demo, users,
                                                                     db_session, shot):
    form_id = publish(users, LEAVE)
    today = date.today()
    resp = users("dean", 0).post("/api/v1/flow/delegations", json={
        "deputy": account(db_session, demo, "psychology_teacher"), "starts": today.isoformat(),
        "ends": (today + timedelta(days=3)).isoformat()})
    assert resp.status_code == 201, resp.get_json()

    parent_ctx, parent = _as(browser, live_server, login_of(demo, "parent"), PHONE)
    parent.goto(f"{live_server}/forms/{form_id}/fill")
    parent.fill("[name='f.days']", "5")
    parent.fill("[name='f.reason']", "发烧")
    parent.click("form.lowcode button[type=submit]")
    parent.wait_for_selector("text=已提交")
    sid = users("parent", 0).get("/api/v1/flow/submissions").get_json()["submissions"][0]["id"]

    ctx, teacher = _as(browser, live_server, login_of(demo, "homeroom_teacher"))
    teacher.goto(f"{live_server}/approvals")
    teacher.locator("li[data-task] input[type=checkbox]").first.check()
    teacher.click("button[value=approved]")
    teacher.wait_for_selector("text=确认批准以下 1 份申请")
    teacher.click("button:has-text('确认')")
    teacher.wait_for_selector("text=已处理 1 份申请")
    ctx.close()

    approve(users("grade_head", 0), sid)

    ctx, deputy = _as(browser, live_server, login_of(demo, "psychology_teacher"))
    deputy.goto(f"{live_server}/approvals")
    deputy.locator("li[data-task]", has_text="代 ").locator("a").click()
    deputy.wait_for_selector("#decide")
    deputy.fill("#decide [name=note]", "注意休息")
    deputy.click("#decide button[value=approved]")
    deputy.click("button:has-text('确认')")
    deputy.wait_for_selector("text=已处理 1 份申请")
    ctx.close()

    parent.goto(f"{live_server}/my/submissions")
    parent.locator(f"li[data-submission='{sid}'] a").click()
    parent.wait_for_selector("#timeline")
    assert parent.inner_text("#flow-status") == "已批准"
    lines = parent.locator("#timeline li").all_inner_texts()
    assert any("班主任审批" in x for x in lines) and any("年级组长审批" in x for x in lines)
    assert any("政教主任审批" in x and "代" in x and "注意休息" in x for x in lines)
    width = parent.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], "the timeline fits a phone"
    shot(parent, "flow-timeline-phone")

    # back at school: the leave's page offers its return-to-school report, which then shows under the leave
    admin = users("school_admin", 0)
    report = admin.post("/api/v1/forms", json={
        "title": {"zh": "返校报告", "en": "Return to school"}, "main_form_id": form_id, "followup_key": "back",
        "schema": {"type": "object", "required": ["back_on"], "properties": {
            "back_on": {"type": "string", "format": "date", "title": "返校日期"}}},
        "app": {"audience": {"fill": ["parent"]}}}).get_json()["id"]
    assert admin.post(f"/api/v1/forms/{report}/publish").status_code == 201
    parent.reload()
    parent.click("#followups a:has-text('填写返校报告')")
    parent.fill("[name='f.back_on']", "2026-11-30")
    parent.click("form.lowcode button[type=submit]")
    parent.wait_for_selector("section[data-followup] >> text=2026-11-30")
    assert parent.url.endswith(f"/flow/submissions/{sid}")
    parent_ctx.close()
