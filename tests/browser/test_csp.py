"""The Content-Security-Policy in a real browser: the pages people use most load with no violation reported
(no inline script, style attribute or handler the policy refuses), and what moved out of style attributes
still draws: the home page's bars keep their widths, the class picker over the points board still works."""
from __future__ import annotations

import pytest

from tests.conftest import browser_login, login_of
from tests.points.conftest import publish

pytestmark = pytest.mark.browser

# violations as the page reports them (an init script is injected by the browser, outside the policy)
WATCH = ("window.__csp = []; document.addEventListener('securitypolicyviolation', (e) => "
         "window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + e.sourceFile + ':' + e.lineNumber));")

PAGES = {
    "school_admin": ["/", "/org", "/classes", "/alerts/overview", "/messages", "/messages/send", "/messages/sent",
                     "/forms", "/square", "/audit", "/account/security", "/points/"],
    "parent": ["/", "/children", "/messages", "/points/"],
}


def test_pages_load_without_csp_violations(app, users, browser, live_server, demo):
    publish(app)
    assert users("school_admin", 0).post("/api/v1/plugins/points/install", json={"config": {}}).status_code == 201
    problems: list[str] = []
    for role, urls in PAGES.items():
        ctx = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
        ctx.add_init_script(WATCH)
        page = ctx.new_page()
        console: list[str] = []
        page.on("console", lambda m, seen=console: seen.append(m.text) if "Content Security" in m.text else None)
        try:
            page.goto(f"{live_server}/oauth/logout")  # the provider's own pages (inline <style> with the nonce)
            browser_login(page, live_server, login_of(demo, role))
            for url in urls:
                resp = page.goto(live_server + url)
                assert resp is not None and resp.status == 200, (role, url, resp and resp.status)
                page.wait_for_load_state("networkidle")
                problems += [f"{role} {url}: {v}" for v in page.evaluate("window.__csp")]
                if role == "school_admin" and url == "/":
                    widths = page.eval_on_selector_all(".bars .fill", "els => els.map(e => e.offsetWidth)")
                    assert widths and max(widths) > 50, widths  # the width classes draw the bars
                if url == "/points/" and role == "school_admin":
                    board = page.url
                    options = page.eval_on_selector_all("form.points-pick option", "os => os.map(o => o.value)")
                    if len(options) > 1:
                        page.select_option("form.points-pick select", options[1])
                        page.wait_for_url(lambda u, b=board: u != b)
                        assert page.url.endswith(f"/classes/{options[1]}")
            problems += [f"{role} console: {c}" for c in console]
        finally:
            ctx.close()
    assert problems == []
