"""A homeroom teacher logs in in a real browser and opens the class roster; a parent sees only their child."""
from __future__ import annotations

import re

import pytest

from tests.conftest import PASSWORD, login_of, wait_for_js

pytestmark = pytest.mark.browser


def _login(page, base: str, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def test_homeroom_teacher_opens_the_class_roster(live_server, page, demo, shot):
    _login(page, live_server, login_of(demo, "homeroom_teacher"))
    page.wait_for_url(f"{live_server}/")
    assert "班主任" in page.inner_text("header")
    page.click("nav >> text=我的班级")
    page.click("text=查看名册")
    page.wait_for_selector("table.roster tbody tr")
    rows = page.locator("table.roster tbody tr")
    assert rows.count() >= 1
    # every ID number in the roster is masked
    ids = page.locator("table.roster tbody td.mono").all_inner_texts()
    assert ids and all(re.fullmatch(r"\d{4}\*{10}[\dX]{4}", t) for t in ids)
    assert page.locator(".ratio").count() == 1  # the boys/girls bar is drawn
    shot(page, "roster-zh")
    # open one student's record, then switch the interface to English
    page.locator("table.roster tbody tr a").first.click()
    page.wait_for_selector("dl.record")
    page.click("a.lang")
    page.wait_for_selector("text=Student record")
    shot(page, "student-en")


def test_wrong_password_shows_a_clear_message(live_server, page, demo):
    _login(page, live_server, login_of(demo, "school_admin"), "wrong-password-9")
    assert "用户名或密码错误" in page.inner_text(".error")


def test_parent_sees_only_their_child(live_server, page, demo, shot):
    _login(page, live_server, login_of(demo, "parent"))
    page.wait_for_url(f"{live_server}/")
    page.click("nav >> text=我的孩子")
    cards = page.locator("ul.cards li")
    assert cards.count() >= 1
    cards.first.locator("a.button").click()
    page.wait_for_selector("dl.record")
    shot(page, "parent-child")
    # the class roster is not theirs to browse: its name is text, not a link, and the address is 404
    assert page.locator("a[href^='/classes/']").count() == 0
    student_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    class_id = page.request.get(f"{live_server}/api/v1/students/{student_id}/profile").json()["student"]["class_id"]
    resp = page.goto(f"{live_server}/classes/{class_id}")
    assert resp.status == 404


def test_school_admin_reveals_an_id_number_through_the_api_from_the_page(live_server, page, demo, shot):
    """The page calls the API with the browser session and the CSRF header; the reveal is audited."""
    _login(page, live_server, login_of(demo, "school_admin"))
    page.wait_for_url(f"{live_server}/")
    page.click("nav >> text=我的班级")
    page.click("text=查看名册")
    page.locator("table.roster tbody tr a").first.click()
    masked = page.inner_text("#id-number")
    assert "*" in masked
    page.fill("#reveal input[name=reason]", "学籍信息核对")
    page.click("#reveal button")
    wait_for_js(page, "!document.getElementById('id-number').textContent.includes('*')")
    full = page.inner_text("#id-number")
    assert re.fullmatch(r"\d{17}[\dX]", full) and full[:4] == masked[:4] and full[-4:] == masked[-4:]
    shot(page, "reveal")
    page.goto(f"{live_server}/audit")
    assert "people.student.id_number.reveal" in page.inner_text("table")
