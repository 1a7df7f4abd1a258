"""After-school in a real browser: a parent signs in through the city portal on a phone, chooses two courses in
order of preference, and reads the result after the lottery; the course's teacher takes the roll on a phone and
the parent's open inbox shows the absence live; the district reads every school side by side."""
from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from tests.afterschool.conftest import installed, schools  # noqa: F401  (fixtures: the plugin in both schools)
from tests.conftest import browser_login, wait_for_js
from tests.portal import VERIFIED_SUB

SHOTS = Path("/tmp/shots/afterschool")
PHONE = {"width": 390, "height": 844}


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_a_portal_parent_chooses_on_a_phone_sees_the_lottery_and_hears_of_an_absence_live(
        app, demo, db_session, live_server, browser, portal, configured, installed, users):  # noqa: F811
    from foundation.models import Account, GuardianLink
    from plugins.afterschool.models import Choice, Course

    kid, school = db_session.execute(sa.select(GuardianLink.student_id, GuardianLink.school_id).where(
        GuardianLink.guardian_id == configured["verified"]).order_by(GuardianLink.student_id)).first()
    index = installed.index(school)
    spring = dict(db_session.execute(sa.select(Course.title, Course.id).where(
        Course.school_id == school, Course.title.in_(["机器人编程", "围棋"]))).all())
    phone = browser.new_context(locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True)
    parent = phone.new_page()
    # 1. the city portal: 使用随申办登录, the portal's own form, back home as the verified parent
    parent.goto(f"{live_server}/login")
    parent.click("text=使用随申办登录")
    parent.wait_for_selector("input[name=login]")
    parent.fill("input[name=login]", VERIFIED_SUB)
    parent.fill("input[name=password]", "Portal-1")
    parent.click("button[type=submit]")
    parent.wait_for_url(f"{live_server}/")
    # 2. two courses in order of preference, on a phone
    parent.goto(f"{live_server}/afterschool/me")
    box = f".as-kid[data-student='{kid}'] .as-window[data-open='1']"
    parent.click(f"{box} .as-pick[data-course='{spring['机器人编程']}']")
    parent.click(f"{box} .as-pick[data-course='{spring['围棋']}']")
    assert parent.inner_text(f"{box} .as-pick[data-course='{spring['围棋']}'] .as-order") == "2"
    assert parent.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    _shot(parent, "parent-choose-phone")
    parent.click(f"{box} .as-submit")
    parent.wait_for_selector(f"{box} .as-result li >> nth=1")
    assert parent.locator(f"{box} .as-result .as-applied").count() == 2
    # 3. the deadline: the school draws (seeded, recorded); the parent reads the result
    drawn = users("school_admin", index).post(f"/afterschool/api/windows/{parent.get_attribute(box, 'data-window')}/lottery",
                                              json={"close_now": True, "seed": "browser-test"})
    assert drawn.status_code == 201, drawn.get_json()
    parent.reload()
    result = parent.locator(f".as-kid[data-student='{kid}'] .as-result .badge").all_inner_texts()
    assert len(result) >= 2 and not any("待抽签" in r for r in result), result
    assert any(r.startswith(("已录取", "候补", "未录取")) for r in result)
    _shot(parent, "parent-result-phone")
    # 4. the roll: the teacher of a course the child is in marks them absent; the parent's inbox shows it live
    course, teacher_staff = db_session.execute(sa.select(Course.id, Course.teacher_staff_id).join(
        Choice, Choice.course_id == Course.id).where(Choice.student_id == kid, Choice.status == "enrolled",
                                                     Course.teacher_staff_id.is_not(None)).order_by(Course.id)).first()
    teacher_name = db_session.scalar(sa.select(Account.username).where(Account.person_kind == "staff",
                                                                       Account.person_id == teacher_staff))
    parent.goto(f"{live_server}/messages")
    wait_for_js(parent, "document.getElementById('live-status') && document.getElementById('live-status').textContent.length > 0")
    desk = browser.new_context(locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True)
    teacher = desk.new_page()
    browser_login(teacher, live_server, teacher_name)
    teacher.goto(f"{live_server}/afterschool/courses/{course}/roll")
    row = f".as-roll-list li[data-kid='{kid}']"
    teacher.wait_for_selector(row)
    teacher.click(f"{row} button[data-mark='absent']")
    _shot(teacher, "teacher-roll-phone")
    teacher.click("form.as-roll button[type=submit]")
    teacher.wait_for_selector("form.as-roll .as-msg:has-text('已通知')")
    wait_for_js(parent, "document.body.innerText.includes('未到课后服务')", timeout=20)
    _shot(parent, "parent-inbox-live-phone")
    desk.close()
    phone.close()


def test_the_district_reads_every_school_side_by_side(app, demo, live_server, browser, installed):  # noqa: F811
    ctx = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
    page = ctx.new_page()
    browser_login(page, live_server, "district.admin")
    page.goto(f"{live_server}/afterschool/district")
    wait_for_js(page, "document.getElementById('as-district').dataset.ready === '1'")
    assert page.locator("section.as-fig").count() == 6
    assert page.locator("section.as-fig table tbody tr").count() == 12  # two schools in each
    wait_for_js(page, "document.querySelectorAll('section.as-fig canvas').length >= 6", timeout=30)
    _shot(page, "district-desktop")
    ctx.close()
