"""The wellbeing loop in a real browser: a student fills a PHQ-9 on a phone with item 9 = 1 and reads a
supportive page (no score); the psychology teacher and the homeroom teacher, each on their open 心理关注 page,
see the red case arrive live (no reload) with both deadlines; the psychology teacher reads the answers, the
homeroom teacher only the level and deadlines, and the case page shows the deadlines. Screenshots go to
/tmp/shots/wellbeing/."""
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import browser_login, login_of, wait_for_js
from tests.wellbeing.conftest import installed, screening  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/shots/wellbeing")


def _snap(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _staff(browser, live_server, username: str, tz: str | None = None):
    ctx = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900}, timezone_id=tz)
    page = ctx.new_page()
    browser_login(page, live_server, username)
    page.goto(f"{live_server}/wellbeing/")
    wait_for_js(page, "document.getElementById('live-status').textContent === '实时更新中'", timeout=10)
    page.evaluate("window.__sameDocument = true")
    return ctx, page


def _red_row(sid: int) -> str:
    return f"""(() => {{ const r = document.querySelector('#wb-cases tr[data-student="{sid}"][data-level="red"]');
               return !!(r && r.querySelector('[data-due=contact]') && r.querySelector('[data-due=plan]')); }})()"""


def test_item9_reaches_both_teachers_live_with_both_deadlines(screening, browser, live_server, demo):  # noqa: F811
    sid = screening["student_id"]
    psych_ctx, psych = _staff(browser, live_server, login_of(demo, "psychology_teacher"))
    # the homeroom teacher's laptop is set to California: the case page still reads on the district's clock
    home_ctx, homeroom = _staff(browser, live_server, login_of(demo, "homeroom_teacher"), tz="America/Los_Angeles")
    phone = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    kid = phone.new_page()
    try:
        browser_login(kid, live_server, login_of(demo, "student"))
        kid.goto(f"{live_server}/wellbeing/me")
        assert "只有学校心理老师能看到" in kid.inner_text("main")
        kid.click("a.button")
        kid.wait_for_selector("#wb-fill")
        for item, value in enumerate([1, 0, 1, 0, 0, 1, 0, 0, 1], start=1):
            kid.check(f"input[name=q{item}][value='{value}']")
        _snap(kid, "student-fill-phone")
        assert kid.evaluate("document.documentElement.scrollWidth") <= 390
        kid.click("#wb-fill button")
        kid.wait_for_url(f"{live_server}/wellbeing/thanks")
        text = kid.inner_text("main")
        assert "12355" in text and "心理辅导" in text and "分" not in kid.inner_text("#wb-help-line")
        _snap(kid, "student-thanks-phone")

        for page, name in ((psych, "psychology"), (homeroom, "homeroom")):
            wait_for_js(page, _red_row(sid), timeout=15)
            assert page.evaluate("window.__sameDocument") is True  # arrived live, no reload
            row = page.locator(f'#wb-cases tr[data-student="{sid}"]')
            assert "联系期限" in row.inner_text() and "方案期限" in row.inner_text()
            _snap(page, f"{name}-live-red-case")

        psych.click(f'#wb-cases tr[data-student="{sid}"] a[href^="/wellbeing/students/"]')
        psych.wait_for_selector(".wb-answers")
        assert "伤害自己" in psych.inner_text(".wb-answers tr.wb-flag")
        _snap(psych, "psychology-student")
        homeroom.goto(f"{live_server}/wellbeing/students/{sid}")
        assert "伤害自己" not in homeroom.inner_text("main") and homeroom.locator(".wb-answers").count() == 0
        homeroom.click("a[href^='/alerts/']")
        homeroom.wait_for_selector(".deadline[data-deadline=contact]")
        assert "待完成" in homeroom.inner_text(".deadline[data-deadline=plan]")
        due = homeroom.locator(".deadline[data-deadline=contact] time.local")
        at = datetime.fromisoformat(due.get_attribute("datetime").replace("Z", "")).replace(tzinfo=UTC)
        district = ZoneInfo(homeroom.get_attribute("html", "data-tz"))
        assert due.inner_text() == at.astimezone(district).strftime("%Y-%m-%d %H:%M")
        _snap(homeroom, "homeroom-case")
    finally:
        for ctx in (psych_ctx, home_ctx, phone):
            ctx.close()


def test_a_guardian_consents_on_a_phone_and_the_child_can_answer(installed, users, db_session, demo,  # noqa: F811
                                                                  browser, live_server, app):
    """The screening is on the school's clone of GAD-7 with two questions of its own, which the child
    answers on the phone after the guardian's consent."""
    from datetime import date, timedelta

    import sqlalchemy as sa

    from plugins.wellbeing.models import Response
    from tests.wellbeing.conftest import sample_student, scale_clone, set_birth

    kid = sample_student(db_session, demo)
    set_birth(db_session, kid.id, 12)
    psych = users("psychology_teacher")
    form = scale_clone(app, psych, "GAD-7", {
        "talk": {"type": "string", "title": "想和心理老师聊聊吗", "x-jizuo-title": {"zh": "想和心理老师聊聊吗", "en": "Talk?"},
                 "oneOf": [{"const": "yes", "title": "想"}, {"const": "no", "title": "暂时不用"}]},
        "note": {"type": "string", "title": "还有什么想告诉老师的"}})
    scr = psych.post("/wellbeing/api/screenings", json={
        "form_id": form["id"], "class_ids": [kid.class_id], "opens_on": date.today().isoformat(),
        "closes_on": (date.today() + timedelta(days=1)).isoformat()}).get_json()["id"]
    assert "监护人" in users("student").get(f"/wellbeing/screenings/{scr}/fill").get_data(as_text=True)
    phone = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        page = phone.new_page()
        browser_login(page, live_server, login_of(demo, "parent"))
        page.goto(f"{live_server}/wellbeing/consent")
        card = page.locator(f'.wb-consent[data-student="{kid.id}"]')
        assert "等待您的回复" in card.inner_text()
        card.locator("button[data-granted='1']").click()
        wait_for_js(page, f"""document.querySelector('.wb-consent[data-student="{kid.id}"] .wb-consent-state')
                             .textContent === '已同意'""", timeout=10)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        _snap(page, "parent-consent-phone")
        child = phone.new_page()  # the child's own phone session (a fresh login replaces the guardian's)
        child.context.clear_cookies()
        browser_login(child, live_server, login_of(demo, "student"))
        child.goto(f"{live_server}/wellbeing/screenings/{scr}/fill")
        for item in range(1, 8):
            child.check(f"input[name=q{item}][value='1']")
        child.select_option("select[data-extra=talk]", label="想")
        child.fill("textarea[data-extra=note]", "最近作业有点多")
        assert child.evaluate("document.documentElement.scrollWidth") <= 390
        _snap(child, "student-fill-clone-phone")
        child.click("#wb-fill button")
        child.wait_for_url(f"{live_server}/wellbeing/thanks")
    finally:
        phone.close()
    row = db_session.scalar(sa.select(Response).where(Response.screening_id == scr, Response.student_id == kid.id))
    assert (row.total, row.band) == (7, "mild") and row.extra == {"talk": "yes", "note": "最近作业有点多"}


def test_the_psychology_teacher_edits_her_clone_and_is_told_the_scored_items_stay(
        installed, users, app, browser, live_server, demo):  # noqa: F811
    """The form editor keeps what it does not show (the audience's plugin and private parts, the scale's long
    labels): saving the clone unchanged leaves nothing to fix; changing item 9 is named before any publish."""
    from tests.wellbeing.conftest import scale_clone

    form = scale_clone(app, users("psychology_teacher"), "PHQ-9")
    ctx = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
    try:
        page = ctx.new_page()
        browser_login(page, live_server, login_of(demo, "psychology_teacher"))
        page.goto(f"{live_server}/forms/{form['id']}/edit")
        page.wait_for_selector("#fields")
        page.click("#save")
        page.wait_for_selector("#save-state >> text=已保存")
        assert "锁定" not in page.inner_text("main")
        page.evaluate("""(() => {
          const i = [...document.querySelectorAll('#fields input')].find((x) => x.value.startsWith('9. 有'));
          i.value = '9. 改掉的题目'; i.dispatchEvent(new Event('input', {bubbles: true})); })()""")
        page.click("#save")
        page.wait_for_selector("#problems >> text=锁定")
        assert "「9. 有不如死掉或用某种方式伤害自己的念头」是模板锁定的内容" in page.inner_text("#problems")
        _snap(page, "psychology-clone-locked-item")
    finally:
        ctx.close()
