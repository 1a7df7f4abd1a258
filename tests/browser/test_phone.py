"""A parent and a student on a phone (390 × 844): the navigation folds behind a menu button that opens, and
no page a family reaches is wider than the screen. Screenshots go to the test's tmp dir (and to
$JIZUO_SHOTS_DIR when set, to look at them)."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import browser_login, login_of
from tests.points.conftest import publish

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


def _check(page, url: str, name: str, shots: Path) -> None:
    resp = page.goto(url)
    assert resp is not None and resp.status == 200, (url, resp and resp.status)
    page.wait_for_load_state("networkidle")
    wide = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    path = shots / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if os.environ.get("JIZUO_SHOTS_DIR"):
        shutil.copy(path, Path(os.environ["JIZUO_SHOTS_DIR"]) / path.name)
    # a phone widens its layout to fit what overflows: the screen's own width is the measure
    assert wide[0] <= wide[1] == PHONE["width"], f"{url} is {wide[0]} px wide on a {PHONE['width']} px screen"


def test_families_on_a_phone(app, users, browser, live_server, demo, tmp_path):
    publish(app)
    assert users("school_admin", 0).post("/api/v1/plugins/points/install", json={"config": {}}).status_code == 201
    for role in ("parent", "student"):
        ctx = browser.new_context(locale="zh-CN", viewport=PHONE, device_scale_factor=1, is_mobile=True,
                                  has_touch=True)
        page = ctx.new_page()
        try:
            browser_login(page, live_server, login_of(demo, role))
            page.goto(f"{live_server}/")
            # the menu: a button, closed at first, that opens the navigation and says so
            button = page.locator("#menu-button")
            assert button.is_visible() and button.get_attribute("aria-expanded") == "false"
            assert page.locator("header.top nav").is_hidden()
            button.click()
            assert button.get_attribute("aria-expanded") == "true" and page.locator("header.top nav").is_visible()
            assert page.locator("header.top nav a", has_text="组织架构").count() == 0
            # times on the district's clock whatever the phone's (this browser runs in UTC): a late arrival at
            # 07:54 in the school is stored as 23:54 UTC the evening before
            assert page.evaluate("jizuo.localTime('2026-12-01T23:54:26Z')") == "2026-12-02 07:54"
            _check(page, f"{live_server}/", f"{role}-home", tmp_path)
            page.goto(f"{live_server}/children")  # a parent's children; a student's own record
            if role == "parent":
                page.locator("main a[href^='/students/']").first.click()
            page.wait_for_selector("main h1")
            kid = int(page.url.rstrip("/").rsplit("/", 1)[1])
            for path, name in ((f"/students/{kid}", "record"), ("/points/me", "points"),
                               (f"/points/students/{kid}", "points-archive"),
                               (f"/points/students/{kid}/report", "points-report"),
                               ("/forms", "forms"), ("/messages", "messages")):
                _check(page, f"{live_server}{path}", f"{role}-{name}", tmp_path)
        finally:
            ctx.close()
