"""A homeroom teacher opens a red alert case from the 预警 inbox, records the contact and the plan, and sees
both deadlines met — in a real browser."""
from __future__ import annotations

import pytest

from tests.conftest import browser_login, login_of

pytestmark = pytest.mark.browser

PSY = {"key": "test.psych_screening", "title": {"zh": "心理筛查高风险", "en": "Psych screening high risk"},
       "level": "red", "category": "psychology", "assign": ["psychology_teacher"]}


def _red_case(app, demo) -> int:
    import sqlalchemy as sa

    from foundation import db
    from foundation.alerts import trigger
    from foundation.models import Account, Membership, Student
    from foundation.tenancy import unscoped

    with app.app_context():
        sess = unscoped("test setup").mark(db.session())
        account = sess.scalar(sa.select(Account).where(Account.username == login_of(demo, "homeroom_teacher")))
        m = next(m for m in account.memberships if m.role == "homeroom_teacher")
        student = sess.scalar(sa.select(Student).where(Student.class_id == m.org_unit_id).order_by(Student.id))
        case = trigger(sess, PSY, student_id=student.id, school_id=m.school_id, value=27)
        sess.commit()
        assert sess.scalar(sa.select(sa.func.count()).select_from(Membership)) > 0
        return case.id


def test_a_teacher_handles_a_red_alert_and_meets_the_deadlines(app, live_server, page, demo, shot):
    case_id = _red_case(app, demo)
    browser_login(page, live_server, login_of(demo, "homeroom_teacher"))
    page.click("nav >> text=预警")
    row = page.locator(f"tr[data-case='{case_id}']")
    assert "红色预警" in row.inner_text() and "剩余" in row.inner_text()
    shot(page, "alerts-inbox")
    row.locator("a").click()
    page.wait_for_url(f"{live_server}/alerts/{case_id}")
    assert "待完成" in page.locator(".deadline[data-deadline=contact]").inner_text()
    page.select_option("form.act-contact select[name=method]", "phone")
    page.fill("form.act-contact textarea", "电话联系家长：孩子近期睡眠差，今晚家长陪伴，明早到校面谈")
    page.click("form.act-contact button")
    page.wait_for_selector("text=已记录联系情况")
    page.fill("form.act-plan textarea", "每日课间谈心；心理老师每周二、四辅导；家长每晚反馈睡眠")
    page.click("form.act-plan button")
    page.wait_for_selector("text=已记录干预计划")
    for name in ("contact", "plan"):
        assert "按时完成" in page.locator(f".deadline[data-deadline={name}]").inner_text()
    timeline = page.locator("ol.timeline").inner_text()
    assert "电话联系家长" in timeline and "每日课间谈心" in timeline and "预警触发" in timeline
    shot(page, "alerts-case-handled")
