"""The cockpits in a real browser: the district admin's home is the district cockpit — every school side by
side, a chart drawn on each tile's canvas; a tile's page has a chart and its table and an Excel export that
opens (openpyxl) with the table's figures; entering a school is audited; the principal opens their school's
cockpit from the navigation. Screenshots at desktop and 390×844."""
from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from openpyxl import load_workbook

from tests.conftest import browser_login, login_of, wait_for_js
from tests.test_cockpit import install

SHOTS = Path("/tmp/shots/cockpit")
PHONE = {"width": 390, "height": 844}
DRAWN = "Number(document.body.getAttribute('data-charts-drawn') || 0)"


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_the_district_cockpit_a_tile_its_export_entering_a_school_and_the_principal(
        app, demo, db_session, live_server, browser, users, tmp_path):
    from foundation.models import AuditEntry, OrgUnit
    from foundation.plugin_runtime import demo_data

    install(app, users, "wellbeing")
    schools = sorted(db_session.scalars(sa.select(OrgUnit.id).where(OrgUnit.kind == "school")))
    with app.app_context():
        demo_data("wellbeing", schools, seed=7)

    desk = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900}, accept_downloads=True)
    page = desk.new_page()
    browser_login(page, live_server, login_of(demo, "district_admin"))
    # 1. the home is the cockpit: tiles with charts on canvas, every school side by side
    page.goto(f"{live_server}/")
    wait_for_js(page, f"{DRAWN} >= 2 && document.querySelectorAll('.cockpit-tile canvas').length == {DRAWN}")
    assert page.locator("#cockpit-side tbody tr").count() == 2
    assert page.locator("#cockpit-side button", has_text="进入本校").count() == 2
    _shot(page, "district-desktop")
    # 2. a tile: the chart and its table, the Excel export opens with the same figures
    page.click(".cockpit-tile[data-tile='people']")
    page.wait_for_url("**/cockpit/people**")
    wait_for_js(page, f"{DRAWN} >= 1 && document.querySelector('.big-chart canvas') !== null")
    section = page.locator(".cockpit-figure[data-figure='core.students']")
    shown = section.locator("table.cockpit-table tr").evaluate_all(
        "rows => rows.map(r => Array.from(r.children).map(c => c.firstChild ? c.firstChild.textContent.trim() : ''))")
    with page.expect_download() as got:
        section.locator("a", has_text="导出 Excel").click()
    path = tmp_path / "students.xlsx"
    got.value.save_as(path)
    sheet = load_workbook(path).active
    exported = [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    body = {r[0]: r[1:] for r in shown[1:]}
    for row in exported[1:]:
        if row and row[0] in body:
            assert row[1:] == body[row[0]], (row, body[row[0]])
    assert sum(1 for row in exported if row and row[0] in body) == len(body) >= 3  # 2 schools and the district
    _shot(page, "tile-people-desktop")
    # the wellbeing tile: small counts (and their complements) show "*", never a student
    page.goto(f"{live_server}/cockpit/wellbeing")
    wait_for_js(page, f"{DRAWN} >= 1")
    assert page.locator(".cockpit-figure[data-figure='wellbeing.levels'] .hidden-cell").count() >= 1
    assert set(page.locator(".cockpit-figure[data-figure='wellbeing.levels'] .hidden-cell").all_inner_texts()) == {"*"}
    _shot(page, "tile-wellbeing-desktop")
    # 3. on a phone: nothing wider than the screen
    phone = browser.new_context(locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True)
    small = phone.new_page()
    browser_login(small, live_server, login_of(demo, "district_admin"))
    small.goto(f"{live_server}/")
    wait_for_js(small, f"{DRAWN} >= 2")
    assert small.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    _shot(small, "district-phone")
    small.goto(f"{live_server}/cockpit/wellbeing")
    wait_for_js(small, f"{DRAWN} >= 1")
    assert small.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    _shot(small, "tile-wellbeing-phone")
    # 4. entering a school is audited, and then the cockpit is that school's
    page.goto(f"{live_server}/")
    page.locator(f"#cockpit-side tr[data-school='{schools[0]}'] button").click()
    page.wait_for_load_state()
    db_session.expire_all()
    assert db_session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "district.enter_school", AuditEntry.school_id == schools[0])) == 1
    page.goto(f"{live_server}/cockpit")
    assert page.locator(".cockpit[data-level='school']").count() == 1
    # 5. the principal: the cockpit from the navigation, down to grade and class
    head = browser.new_context(locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True)
    principal = head.new_page()
    browser_login(principal, live_server, login_of(demo, "principal", 1))
    principal.goto(f"{live_server}/")
    principal.locator("main a[href='/cockpit']").first.click()
    principal.wait_for_url("**/cockpit")
    wait_for_js(principal, f"{DRAWN} >= 1")
    assert principal.locator(".cockpit[data-level='school']").count() == 1
    assert principal.locator(".cockpit-tile[data-tile='wellbeing']").count() == 0  # not the principal's to see
    assert principal.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    _shot(principal, "principal-phone")
    principal.goto(f"{live_server}/cockpit/people")
    wait_for_js(principal, f"{DRAWN} >= 1")
    _shot(principal, "principal-people-phone")
    for ctx in (desk, phone, head):
        ctx.close()
