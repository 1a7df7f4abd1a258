"""A teacher builds the leave flow in the editor, without code: homeroom teacher → grade head (only for more
than three days) → dean; tries a 2-day and a 5-day sample and sees the path; publishes. Then she makes every
step conditional, and the publish check refuses it, saying why."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.conftest import browser_login, login_of
from tests.lowcode.test_flow_editor import LEAVE

pytestmark = pytest.mark.browser


def test_a_teacher_builds_the_leave_flow_tries_samples_and_publishes(live_server, browser, demo, db_session, login,
                                                                      shot):
    from foundation.models import FormVersion

    teacher = login("homeroom_teacher", 0)
    form_id = teacher.post("/api/v1/forms", json={"title": "请假", "schema": LEAVE,
                                                  "app": {"audience": {"fill": ["parent"]}}}).get_json()["id"]
    ctx = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
    page = ctx.new_page()
    browser_login(page, live_server, login_of(demo, "homeroom_teacher"))
    page.goto(f"{live_server}/forms/{form_id}/edit")
    steps = page.locator("#flow-steps > li")

    def add_step(title: str) -> None:
        page.click("#add-step")
        steps.last.locator(".s-title-zh").fill(title)

    add_step("班主任审批")  # the student's homeroom teacher is the first choice
    add_step("年级组长审批")
    steps.nth(1).locator(".s-approver-kind").select_option("relative:grade_head")
    steps.nth(1).locator(".s-when-on").check()
    steps.nth(1).locator(".s-when-field").select_option(label="天数")
    steps.nth(1).locator(".s-when-op").select_option(label="大于")
    steps.nth(1).locator(".s-when-value").fill("3")
    add_step("政教处审批")
    steps.nth(2).locator(".s-approver-kind").select_option("role")
    steps.nth(2).locator(".s-approver-role").select_option(label="政教主任")
    steps.nth(2).locator(".s-mode-all").check()
    assert "每位审批人都同意才通过" in steps.nth(2).inner_text()
    page.locator("#flow-cc label.chip", has_text="学校管理员").locator("input").check()

    result = page.locator("#path-result")
    page.fill("#sample-fields input[data-field=days]", "2")
    page.click("#try-path")
    result.locator("li.path-skip").wait_for()
    assert result.locator("li").all_inner_texts() == [
        "第1步 班主任审批 — 学生的班主任 审批", "第2步 年级组长审批 — 跳过", "第3步 政教处审批 — 政教主任 审批",
        "最后：通过（任何一步驳回则驳回）"]
    page.fill("#sample-fields input[data-field=days]", "5")
    page.click("#try-path")
    result.locator("li", has_text="学生所在年级的年级组长 审批").wait_for()  # the page's CSP allows no eval
    assert result.locator("li.path-skip").count() == 0
    assert "第2步 年级组长审批 — 学生所在年级的年级组长 审批" in result.inner_text()
    shot(page, "flow-editor-1366")

    page.click("#publish")
    page.wait_for_selector("#publish-dialog[open]")
    page.click("#publish-confirm")
    page.wait_for_selector("#publish-state >> text=已发布 v1")
    flow = db_session.scalar(sa.select(FormVersion.app).where(FormVersion.form_id == form_id))["flow"]
    assert [(s["title"]["zh"], s["approver"], s.get("when"), s["mode"]) for s in flow["steps"]] == [
        ("班主任审批", {"relative": "homeroom"}, None, "any"),
        ("年级组长审批", {"relative": "grade_head"}, {"field": "days", "op": "gt", "value": 3}, "any"),
        ("政教处审批", {"role": "dean"}, None, "all")]
    assert flow["cc"] == ["school_admin"]

    # every step made conditional: nobody would decide a 1-day leave — refused, and said why
    for i in (0, 2):
        steps.nth(i).locator(".s-when-on").check()
        steps.nth(i).locator(".s-when-field").select_option(label="天数")
        steps.nth(i).locator(".s-when-value").fill("1")
    page.click("#publish")
    problems = page.locator("#problems")
    problems.wait_for()
    assert "每一步都设了条件：不满足任何条件的提交会不经任何人审批直接通过。请至少让一步不设条件" in problems.inner_text()
    assert page.locator("#publish-dialog[open]").count() == 0
    ctx.close()
