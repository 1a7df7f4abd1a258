"""The form editor in a real browser, as a homeroom teacher between two lessons would use it: clone the
leave template (the copy is named "… 副本"), rename a label, edit the options as rows, look at the preview
as a parent will see it (in English too), publish from the bar at the top; then the parent fills it in on
a phone, one column and no sideways scroll, and sees a clear confirmation."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.conftest import browser_login, login_of

pytestmark = pytest.mark.browser


def test_a_teacher_edits_a_copy_in_words_previews_it_and_publishes_a_parent_fills_it_on_a_phone(
        app, live_server, browser, demo, db_session, shot):
    from foundation import db
    from foundation.lowcode.forms import seed_templates
    from foundation.models import FormVersion, Submission
    from foundation.tenancy import unscoped

    with app.app_context():
        seed_templates(unscoped("test setup").mark(db.session()))
        db.session().commit()

    ctx = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
    page = ctx.new_page()
    browser_login(page, live_server, login_of(demo, "homeroom_teacher"))
    page.goto(f"{live_server}/forms")
    page.locator("tr", has_text="班级请假申请").locator("button", has_text="克隆").click()
    page.wait_for_url("**/edit")
    form_id = int(page.url.split("/")[-2])
    bar = page.locator("#editor-bar")
    assert "班级请假申请 副本" in bar.inner_text() and "草稿" in bar.inner_text()
    assert bar.bounding_box()["y"] < 150  # the state and the publish button come first
    assert "field_" not in page.locator("#fields").inner_text()  # labels, not keys

    kind = page.locator("li.field[data-key=kind]")
    kind.locator(".f-title").fill("请假类别")  # a label renamed: its key stays "kind"
    kind.locator(".f-title-en").fill("Kind of leave")
    kind.locator(".o-en").first.fill("Sick")
    kind.locator(".o-remove").last.click()  # "其他" removed
    kind.locator(".o-add").click()
    kind.locator(".o-zh").last.fill("公假")
    kind.locator(".o-en").last.fill("School business")
    page.locator("label.chip", has_text="★").locator("input").check()  # published to her own class

    preview = page.frame_locator("#preview-frame")
    preview.locator("text=公假").wait_for()  # the unsaved edits, rendered as the parent's page
    page.click("[data-preview-lang=en]")
    preview.locator("text=School business").wait_for()
    assert preview.locator("form.lowcode button[type=submit]").is_disabled()
    assert page.locator("#preview-frame").bounding_box()["width"] == 390
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "form-editor-1366")

    page.click("#publish")
    page.wait_for_selector("#publish-dialog[open]")
    assert "发布后" in page.locator("#publish-dialog").inner_text()
    page.click("#publish-confirm")
    page.wait_for_selector("#publish-state >> text=已发布 v1")
    page.wait_for_selector("#toasts >> text=已发布 v1")
    ctx.close()
    published = db_session.scalar(sa.select(FormVersion).where(FormVersion.form_id == form_id)).schema
    assert published["properties"]["kind"]["title"] == "请假类别"
    assert [(o["const"], o["title"]) for o in published["properties"]["kind"]["oneOf"]] == [
        ("sick", "病假"), ("personal", "事假"), ("school_business", "公假")]

    ctx = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = ctx.new_page()
    browser_login(page, live_server, login_of(demo, "parent"))
    page.goto(f"{live_server}/forms")
    page.locator(".form-card", has_text="班级请假申请 副本").locator("a", has_text="填写").click()
    page.wait_for_url(f"**/forms/{form_id}/fill")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.locator("label", has_text="公假").bounding_box()["height"] >= 44  # a large touch target
    shot(page, "form-fill-parent-390")
    page.select_option("select[name='f.student']", index=1)
    page.locator("label", has_text="事假").click()
    page.fill("input[name='f.start']", "2026-11-30")
    page.fill("input[name='f.days']", "2")
    page.fill("textarea[name='f.reason']", "回老家参加婚礼")
    page.click("form.lowcode button[type=submit]")
    page.wait_for_selector(".confirmation >> text=已提交")
    assert "事假" in page.locator(".confirmation").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "form-done-parent-390")
    ctx.close()
    assert db_session.scalar(sa.select(Submission.data).where(Submission.form_id == form_id))["kind"] == "personal"
