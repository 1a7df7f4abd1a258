"""The enrolment forecast and the balanced-development map in a real browser: the district admin sees every
school's forecast with the flagged school in red and the backtest error, the map's charts drawn; a principal
sees their own school on a phone, charts and tables both."""
from __future__ import annotations

from tests.conftest import browser_login, login_of, wait_for_js

PHONE = {"width": 390, "height": 844}
# violations of the Content-Security-Policy as the page reports them (ECharts' own tooltip styles aside)
WATCH = ("window.__csp = []; document.addEventListener('securitypolicyviolation', (e) => "
         "window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + e.sourceFile));")
DRAWN = "document.querySelectorAll('.plan-chart[data-drawn=\"1\"] canvas').length >= {n}"


def test_district_forecast_and_map_then_a_principal_on_a_phone(app, demo, live_server, browser, shot):
    ctx = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
    ctx.add_init_script(WATCH)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    browser_login(page, live_server, "district.admin")
    page.goto(f"{live_server}/cockpit/forecast")
    wait_for_js(page, DRAWN.format(n=3))
    errors += [v for v in page.evaluate("window.__csp") if "echarts.min.js" not in v]
    assert page.locator("#plan-over b").inner_text() == "1"
    assert "%" in page.locator("#plan-error b").inner_text()  # the backtest error beside the forecast
    assert page.locator("table.plan-table").first.locator("tbody tr.plan-red").count() == 1
    shot(page, "plan-forecast-desktop")
    page.goto(f"{live_server}/cockpit/balance")
    wait_for_js(page, DRAWN.format(n=2))
    assert page.locator("#plan-below b").inner_text() == "1"
    page.select_option("#plan-indicator", "library_books")
    wait_for_js(page, DRAWN.format(n=2))
    shot(page, "plan-balance-desktop")
    errors += [v for v in page.evaluate("window.__csp") if "echarts.min.js" not in v]
    page.goto(f"{live_server}/cockpit/balance?lang=en")
    assert "Balanced-development map" in page.locator("h1").inner_text()
    ctx.close()

    phone = browser.new_context(locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True)
    page = phone.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    browser_login(page, live_server, login_of(demo, "principal", 0))
    page.goto(f"{live_server}/cockpit/forecast")
    wait_for_js(page, DRAWN.format(n=3))
    assert page.locator("table.plan-table").first.locator("tbody tr").count() == 1  # their own school only
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1, f"the page scrolls sideways on a phone ({width}px)"
    shot(page, "plan-forecast-phone")
    page.goto(f"{live_server}/cockpit/balance")
    wait_for_js(page, DRAWN.format(n=2))
    shot(page, "plan-balance-phone")
    phone.close()
    assert not errors, errors
