"""The learning plugin in a real browser: responses arrive through the ingest API and the student's radar and
weak points change without a reload (on a phone), the weak point's resource is in the student's inbox, the
subject teacher reads the class heat map, and the school's leadership reads the value-added page with its
three methods and their intervals. Screenshots in /tmp/shots/learning/."""
from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import browser_login, login_of, wait_for_js
from tests.learning import conftest as fixtures
from tests.learning.conftest import responses, sample_student

installed, filled, source = fixtures.installed, fixtures.filled, fixtures.source  # the plugin's fixtures, here too

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/shots/learning")
INGEST = "/api/v1/ingest/item_response?source=homework_app"


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_responses_move_the_radar_live_push_a_resource_and_teachers_see_class_and_value(
        filled, users, db_session, demo, source, live_server, browser):
    kid = sample_student(db_session, demo)
    pushed = set(db_session.scalars(sa.text("SELECT code FROM learning_pushes WHERE student_id = :s"), {"s": kid.id}))
    phone = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    page = phone.new_page()
    browser_login(page, live_server, login_of(demo, "student", 0))
    page.goto(f"{live_server}/learning/")
    page.wait_for_selector("#radar-table tbody tr[data-group]")
    wait_for_js(page, "!!document.querySelector('#radar canvas')")
    before = page.evaluate("document.getElementById('learning-map').dataset.radar")
    weak = set(page.evaluate("[...document.querySelectorAll('#weak tr[data-code]')].map(r => r.dataset.code)"))
    # a point neither weak yet nor pushed this week (the demo's curves make some weak already)
    code = next(c for c in ("MA7.FN.01", "MA7.GE.01", "MA7.NA.01", "MA7.FN.02", "MA7.GE.02", "MA7.NA.02", "MA7.ST.02")
                if c not in pushed and c not in weak)
    assert f'data-code="{code}"' not in page.inner_html("#weak")
    _shot(page, "student-map-phone-before")
    page.evaluate("window.__sameDocument = true")
    resp = users("school_admin", 0).post(INGEST, json=responses(kid.student_no, code, [False] * 6, "browser"))
    assert resp.status_code == 200 and resp.get_json()["created"] == 6
    wait_for_js(page, f"""document.getElementById('learning-map').dataset.radar !== {before!r}
                          && !!document.querySelector('#weak tr[data-code="{code}"]')""", timeout=10)
    assert page.evaluate("window.__sameDocument") is True  # no reload
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    _shot(page, "student-map-phone-after")
    page.goto(f"{live_server}/messages")
    page.wait_for_selector("main")
    inbox = page.inner_text("main")
    assert "为你推荐" in inbox
    _shot(page, "student-inbox-phone")
    phone.close()

    desk = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
    page = desk.new_page()
    browser_login(page, live_server, login_of(demo, "subject_teacher", 0))
    page.goto(f"{live_server}/learning/classes/{kid.class_id}")
    wait_for_js(page, "Number(document.getElementById('class-map').dataset.cells || 0) > 20")
    assert page.locator("#weakest tbody tr").count() == 5
    assert kid.name in page.inner_text("#class-students")
    _shot(page, "class-heatmap")
    page.goto(f"{live_server}/learning/students/{kid.id}")
    page.wait_for_selector(f'#weak tr[data-code="{code}"]')
    _shot(page, "student-map-teacher")
    desk.close()

    desk = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
    page = desk.new_page()
    browser_login(page, live_server, login_of(demo, "principal", 0))
    page.goto(f"{live_server}/learning/value-added?subject=chinese")
    wait_for_js(page, "document.getElementById('value-added').dataset.loaded === '1'", timeout=20)
    rows = page.locator("#va-classes tbody tr")
    assert rows.count() >= 2
    for method in ("gain", "regression", "multilevel"):
        cell = page.inner_text(f"#va-classes tbody tr:first-child td.{method}")
        assert "[" in cell and "]" in cell, (method, cell)  # an estimate with its interval
    assert "收缩" in page.inner_text("main") and page.locator("#va-teachers tbody tr td.multilevel").count() >= 1
    _shot(page, "value-added")
    desk.close()
