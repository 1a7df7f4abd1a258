"""A homeroom teacher records one conduct entry for five students in one step — a student found by pinyin
initials in the searchable picker, four ticked in the class list — confirms once and sees the confirmation;
then the same page on a phone. Screenshots land in test-artifacts/."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from foundation.models import Account, Student
from tests.conftest import browser_login, login_of
from tests.points.conftest import installed, schools  # noqa: F401  (the points plugin in both demo schools)

pytestmark = pytest.mark.browser


def test_a_teacher_records_a_batch_entry_for_five_students_in_one_step(installed, browser, live_server, demo,  # noqa: F811
                                                                       db_session, shot):
    from pypinyin import Style, lazy_pinyin

    acct = db_session.scalar(sa.select(Account).where(Account.username == login_of(demo, "homeroom_teacher")))
    cls = next(m.org_unit_id for m in acct.memberships if m.role == "homeroom_teacher")
    kids = db_session.execute(sa.select(Student.id, Student.name, Student.student_no)
                              .where(Student.class_id == cls).order_by(Student.student_no)).all()
    found = kids[-1]  # found through the picker by the initials of the name
    initials = "".join(lazy_pinyin(found.name, style=Style.FIRST_LETTER))

    ctx = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
    page = ctx.new_page()
    browser_login(page, live_server, login_of(demo, "homeroom_teacher"))
    page.goto(f"{live_server}/points/entry")
    page.wait_for_selector("#entry-class-list input[type=checkbox]")
    page.fill(".picker-input", initials)
    page.locator(".picker-option", has_text=found.name).first.wait_for()
    page.locator(".picker-option", has_text=found.name).first.click()
    for kid in kids[:4]:
        page.check(f"#entry-class-list input[value='{kid.id}']")
    assert page.locator(".picker-chips .chip").count() == 5
    page.select_option("select[name=rule_code]", "volunteer")
    page.fill("textarea[name=reason]", "周末社区志愿服务")
    page.click("#entry-submit")
    assert "为 5 名学生记录" in page.inner_text("#entry-confirm[open]")
    shot(page, "batch-entry-confirm")
    page.click("#entry-confirm-ok")
    page.wait_for_selector(".toast >> text=已为 5 名学生记录")
    page.wait_for_selector("#entry-class-list li.flash")  # the list refreshed with the new scores
    shot(page, "batch-entry-done")
    chosen = [found.id, *(k.id for k in kids[:4])]
    rows = db_session.execute(sa.text("SELECT student_id, points FROM points_entries")).all()
    assert sorted(rows) == sorted((k, 3) for k in chosen)
    assert f"{kids[0].student_no} · 1003" in page.inner_text("#entry-class-list")
    ctx.close()

    phone = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = phone.new_page()
    browser_login(page, live_server, login_of(demo, "homeroom_teacher"))
    page.goto(f"{live_server}/points/entry")
    page.wait_for_selector("#entry-class-list input[type=checkbox]")
    page.check("#entry-whole-class")
    assert page.locator(".chip-more").is_visible()  # a whole class folds into a few chips
    page.fill(".picker-input", initials)
    page.locator(".picker-option").first.wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "batch-entry-phone")
    phone.close()
