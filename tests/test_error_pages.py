"""Error pages: a person in a browser gets the page shell, in their language, with a way back; an API caller
gets the same JSON as always. A server error's page reads nothing from the database and, if even the shell
cannot be drawn, a fixed text."""
from __future__ import annotations

import pytest
from werkzeug.exceptions import TooManyRequests

from tests.points.conftest import installed, schools  # noqa: F401  (fixtures)


@pytest.fixture
def faulty(app):
    """Two routes that fail, added before the app serves its first request."""
    def boom():
        raise RuntimeError("a bug")

    def slow_down():
        raise TooManyRequests()

    app.add_url_rule("/test-boom", "test_boom", boom)
    app.add_url_rule("/api/v1/test-boom", "test_api_boom", boom)
    app.add_url_rule("/test-slow", "test_slow", slow_down)
    return app


def _page(resp, status: int) -> str:
    assert resp.status_code == status and resp.mimetype == "text/html"
    html = resp.get_data(as_text=True)
    assert '<header class="top">' in html and 'class="error-page' in html and 'href="/"' in html
    return html


def test_html_errors_in_the_shell_in_both_languages(faulty, users):
    parent = users("parent", 0).client
    html = _page(parent.get("/no-such-page"), 404)
    assert "找不到这个页面" in html and "返回首页" in html
    assert 'href="/children"' in html  # the person's own navigation, to go on from here
    back = _page(parent.get("/messages/send", headers={"Referer": "http://localhost/messages"}), 403)
    assert "没有权限打开这个页面" in back and 'href="http://localhost/messages"' in back and "返回上一页" in back
    assert "返回上一页" not in _page(parent.get("/messages/send", headers={"Referer": "https://evil.example/"}), 403)
    assert "不能这样打开" in _page(parent.get("/logout"), 405)
    assert "操作太频繁" in _page(parent.get("/test-slow"), 429)
    assert "页面已过期" in _page(parent.post("/logout"), 400)  # no CSRF token
    # English: the switch (?lang=en), which the cookie then remembers
    assert "Page not found" in _page(parent.get("/no-such-page?lang=en"), 404)
    assert "Page not found" in _page(parent.get("/students/999999"), 404)  # a row out of reach, too
    assert "You cannot open this page" in _page(parent.get("/messages/send"), 403)
    assert "Too many attempts" in _page(parent.get("/test-slow"), 429)


def test_a_server_error_page_never_fails(faulty, users, monkeypatch):
    teacher = users("homeroom_teacher", 0).client
    html = _page(teacher.get("/test-boom"), 500)
    assert "系统出了点问题" in html and 'href="/classes"' not in html  # bare: no navigation, nothing read
    assert "Something went wrong" in _page(teacher.get("/test-boom?lang=en"), 500)

    import foundation.errors

    def broken(*a, **kw):
        raise RuntimeError("the template is broken too")

    monkeypatch.setattr(foundation.errors, "render_template", broken)
    resp = teacher.get("/test-boom")
    assert resp.status_code == 500 and "Something went wrong" in resp.get_data(as_text=True)
    missing = teacher.get("/no-such-page")  # a 404 falls back as well, keeping its status
    assert missing.status_code == 404 and "返回首页" in missing.get_data(as_text=True)


def test_api_errors_stay_json(faulty, users, client):
    teacher = users("homeroom_teacher", 0)
    for resp, status, code in ((teacher.get("/api/v1/no-such-thing"), 404, "not_found"),
                               (teacher.get("/api/v1/students/999999"), 404, "not_found"),
                               (teacher.get("/api/v1/test-boom"), 500, "internal"),
                               (client.get("/api/v1/students"), 401, "unauthorized"),
                               (teacher.client.get("/children", headers={"Accept": "application/json"}), 403,
                                "forbidden")):
        assert resp.status_code == status and resp.mimetype == "application/json", resp.get_data(as_text=True)[:200]
        assert resp.get_json()["error"]["code"] == code


def test_the_favicon(client):
    resp = client.get("/favicon.ico")
    assert resp.status_code in (301, 302) and resp.headers["Location"].endswith("/favicon.svg")
    svg = client.get(resp.headers["Location"])
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert 'rel="icon"' in client.get("/login").get_data(as_text=True)


def test_not_found_names_the_thing_in_the_readers_language(users, installed):  # noqa: F811
    teacher = users("homeroom_teacher", 0)
    assert teacher.get("/api/v1/students/999999").get_json()["error"]["message"] == "找不到该学生"
    en = teacher.get("/api/v1/students/999999", headers={"Accept-Language": "en"}).get_json()["error"]["message"]
    assert en == "No such student"
    # a plugin's things come from its own catalogue
    reverse = teacher.post("/points/api/entries/999999/reverse", json={"reason": "录错了"})
    assert reverse.status_code == 404 and reverse.get_json()["error"]["message"] == "找不到该积分记录"
