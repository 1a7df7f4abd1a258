"""The app square: plugins are listed on discovery, installable only once the district published them;
every lifecycle step records who and why; reuse is counted."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.usefixtures("app")


def _listing(auth, key):
    items = auth.get("/api/v1/square").get_json()["items"]
    return next((i for i in items if i["key"] == key), None)


def test_lifecycle_from_submitted_to_retired_with_who_and_why(login, app):
    if "hello" not in app.extensions["jizuo.plugins"].loaded:
        pytest.skip("the example plugin distribution is not installed")
    district = login("district_admin")
    hello = _listing(district, "hello")
    assert hello and hello["status"] == "submitted" and hello["kind"] == "plugin"
    school_admin_first = None
    lid = hello["id"]
    assert district.post(f"/api/v1/square/{lid}/publish", json={}).status_code == 422  # not reviewed yet
    assert district.post(f"/api/v1/square/{lid}/review", json={}).get_json()["status"] == "in_review"
    returned = district.post(f"/api/v1/square/{lid}/return", json={})
    assert returned.status_code == 422 and "reason" in returned.get_json()["error"]["fields"]
    district.post(f"/api/v1/square/{lid}/return", json={"reason": "缺少使用说明"})
    district.post(f"/api/v1/square/{lid}/review", json={})
    published = district.post(f"/api/v1/square/{lid}/publish", json={"reason": "试点通过"}).get_json()
    assert published["status"] == "published"
    assert [(h["action"], h["to"]) for h in published["history"]] == [
        ("submit", "submitted"), ("review", "in_review"), ("return", "submitted"), ("review", "in_review"),
        ("publish", "published")]
    assert published["history"][2]["reason"] == "缺少使用说明" and published["history"][2]["by"] == "district.admin"
    del school_admin_first

    admin = login("school_admin", 0)
    assert admin.post("/api/v1/square/1/review", json={}).status_code == 403
    assert admin.post("/api/v1/plugins/hello/install", json={"config": {"greeting": "好"}}).status_code == 201
    assert _listing(admin, "hello")["reuse"]["installs"] == 1

    district = login("district_admin")
    district.post(f"/api/v1/square/{lid}/deprecate", json={"reason": "由新版替代"})
    assert district.post(f"/api/v1/square/{lid}/retire", json={"reason": "停止维护"}).get_json()["status"] == "retired"
    other = login("school_admin", 1)
    refused = other.post("/api/v1/plugins/hello/install", json={"config": {"greeting": "好"}})
    assert refused.status_code == 422 and "plugin" in refused.get_json()["error"]["fields"]
    assert _listing(other, "hello") is None  # retired: gone from the square for schools


def test_unpublished_plugins_cannot_be_installed(login, app):
    if "hello" not in app.extensions["jizuo.plugins"].loaded:
        pytest.skip("the example plugin distribution is not installed")
    admin = login("school_admin", 0)
    resp = admin.post("/api/v1/plugins/hello/install", json={"config": {"greeting": "好"}})
    assert resp.status_code == 422 and "尚未" in resp.get_json()["error"]["fields"]["plugin"]


def test_the_square_page_lists_and_the_district_publishes_from_it(login, app):
    import re

    if "hello" not in app.extensions["jizuo.plugins"].loaded:
        pytest.skip("the example plugin distribution is not installed")
    admin = login("school_admin", 0)
    assert "hello" not in admin.get("/square").get_data(as_text=True)  # not published: schools don't see it
    district = login("district_admin")
    page = district.get("/square").get_data(as_text=True)
    assert "待审核" in page and 'data-key="hello"' in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    lid = re.search(r'data-key="hello".*?name="id" value="(\d+)"', page, re.S).group(1)  # hello's own card
    for action in ("review", "publish"):
        district.client.post("/square", data={"csrf_token": token, "id": lid, "action": action})
    assert "已发布" in district.get("/square").get_data(as_text=True)
    admin = login("school_admin", 0)
    page = admin.get("/square").get_data(as_text=True)
    assert 'data-key="hello"' in page and "本校未安装" in page
