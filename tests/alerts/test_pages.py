"""The 预警 pages: the inbox by urgency with the time left, the case page's steps (plain forms), the
school's overview with its chart, settings and calendar; and the same privacy as the API."""
from __future__ import annotations

import re

from tests.alerts.conftest import CONDUCT, PSY
from tests.alerts.test_api import _open, _other_homeroom


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_inbox_case_page_and_steps(app, login, k0):
    yellow = _open(app, k0, CONDUCT, 0)
    red = _open(app, k0, PSY, 1)
    teacher = login("homeroom_teacher", 0)
    page = teacher.get("/alerts").get_data(as_text=True)
    assert page.index(f'data-case="{red}"') < page.index(f'data-case="{yellow}"')
    assert "剩余 59 分钟" in page or "剩余 1 小时" in page
    assert '<a href="/alerts"' in teacher.get("/").get_data(as_text=True)  # in the navigation
    html = teacher.get(f"/alerts/{red}").get_data(as_text=True)
    assert "联系学生和家长" in html and "待完成" in html
    token = _csrf(html)
    resp = teacher.client.post(f"/alerts/{red}", data={"csrf_token": token, "kind": "contact", "method": "phone",
                                                       "note": ""})
    assert resp.status_code == 422 and "请填写说明" in resp.get_data(as_text=True)
    for kind, extra in (("contact", {"method": "home_visit", "note": "家访，学生情绪平稳"}),
                        ("plan", {"note": "每日谈心，心理老师每周两次辅导", "evaluation_days": "28"})):
        resp = teacher.client.post(f"/alerts/{red}", data={"csrf_token": token, "kind": kind, **extra})
        assert resp.status_code == 302
    html = teacher.get(f"/alerts/{red}?done=plan").get_data(as_text=True)
    assert html.count("✓ 按时完成") == 2 and "已记录干预计划" in html and "家访，学生情绪平稳" in html
    assert "评估效果" in html


def test_pages_keep_cases_private(app, login, auth, k0, db_session, demo):
    case = _open(app, k0, PSY, 2)
    assert auth.login(_other_homeroom(db_session, k0)).status_code == 302
    assert auth.get(f"/alerts/{case}").status_code == 404
    assert f'data-case="{case}"' not in auth.get("/alerts?view=school").get_data(as_text=True)
    parent = login("parent", 0)
    assert parent.get("/alerts").status_code == 403 and parent.get(f"/alerts/{case}").status_code in (403, 404)
    assert '<a href="/alerts"' not in parent.get("/").get_data(as_text=True)
    assert login("school_admin", 1).get(f"/alerts/{case}").status_code == 404
    assert login("homeroom_teacher", 0).get("/alerts/overview").status_code == 403


def test_overview_figures_settings_and_calendar(app, login, k0):
    _open(app, k0, PSY, 3)
    admin = login("school_admin", 0)
    html = admin.get("/alerts/overview").get_data(as_text=True)
    assert "按时处理率" in html and "心理筛查高风险" in html and 'class="chart"' in html
    token = _csrf(html)
    bad = admin.client.post("/alerts/overview", data={"csrf_token": token, "form": "settings", "red.contact_hours": "0",
                                                      "red.plan_hours": "24", "yellow.follow_school_days": "3",
                                                      "chain": ["homeroom_teacher"], "weekdays": ["0"]})
    assert bad.status_code == 422
    # an interval set through the API survives a save of the page's form (which does not show it)
    assert admin.put("/api/v1/alerts/settings", json={"deadlines": {"red": {"escalate_every_hours": 3}}}).status_code == 200
    ok = admin.client.post("/alerts/overview", data={"csrf_token": token, "form": "settings", "red.contact_hours": "2",
                                                     "red.plan_hours": "24", "yellow.follow_school_days": "2",
                                                     "chain": ["homeroom_teacher", "psychology_teacher", ""],
                                                     "weekdays": ["0", "1", "2", "3", "4", "5"]})
    assert ok.status_code == 302
    settings = admin.get("/api/v1/alerts/settings").get_json()
    assert settings["deadlines"]["red"]["contact_hours"] == 2 and settings["chain"] == ["homeroom_teacher",
                                                                                         "psychology_teacher"]
    assert settings["weekdays"] == [0, 1, 2, 3, 4, 5]
    assert settings["deadlines"]["red"]["escalate_every_hours"] == 3
    admin.client.post("/alerts/overview", data={"csrf_token": token, "form": "set_day", "day": "2026-10-01",
                                                "kind": "holiday", "name": "国庆节"})
    assert "国庆节" in admin.get("/alerts/overview").get_data(as_text=True)
    assert admin.get("/api/v1/alerts/calendar").get_json()["items"][0]["day"] == "2026-10-01"


def test_a_teacher_raises_a_concern_from_the_inbox(login, k0, k1):
    teacher = login("homeroom_teacher", 0)
    html = teacher.get("/alerts").get_data(as_text=True)
    assert "关注一名学生" in html and f'value="{k1.students[0]}"' not in html
    token = _csrf(html)
    resp = teacher.client.post("/alerts", data={"csrf_token": token, "student_id": k0.students[5], "level": "red",
                                                "note": "课堂上突然哭泣，拒绝交流"})
    assert resp.status_code == 302 and "/alerts/" in resp.headers["Location"]
    case = teacher.get(resp.headers["Location"]).get_data(as_text=True)
    assert "红色预警" in case and "课堂上突然哭泣" in case
    assert teacher.client.post("/alerts", data={"csrf_token": token, "student_id": k1.students[0],
                                                "note": "x"}).status_code == 404
    parent = login("parent", 0)
    token = re.search(r'name="csrf-token" content="([^"]+)"', parent.get("/").get_data(as_text=True)).group(1)
    assert parent.client.post("/alerts", data={"csrf_token": token, "student_id": k0.students[5],
                                               "note": "x"}).status_code in (403, 404)
