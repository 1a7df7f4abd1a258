"""Identity pages in a real browser: app registration, the consent screen, and a parent arriving from
the city portal who binds their child with the school's code."""
from __future__ import annotations

import pytest

from tests.conftest import browser_login, login_of
from tests.oidc_support import REDIRECT, RP
from tests.portal import UNVERIFIED_SUB

pytestmark = pytest.mark.browser




def test_school_admin_registers_an_app_and_sees_the_secret_once(live_server, page, demo, shot):
    browser_login(page, live_server, login_of(demo, "school_admin"))
    page.click("nav >> text=应用接入")
    page.fill("input[name=name]", "智慧作业")
    page.fill("textarea[name=redirect_uris]", "http://good@evil.example/cb")
    page.click("form.stack button[type=submit]")
    assert "不能包含用户名" in page.inner_text(".field-error")
    page.fill("textarea[name=redirect_uris]", "https://zuoye.example.cn/callback")
    page.check("input[value='students.read']")
    page.click("form.stack button[type=submit]")
    secret = page.inner_text("#new-client-secret")
    assert len(secret) >= 40 and page.inner_text("#new-client-id").startswith("jz_")
    shot(page, "apps-registered")
    page.goto(f"{live_server}/apps")
    assert secret not in page.content()  # shown once, never again
    assert "智慧作业" in page.inner_text("table.grid")


def test_parent_sees_a_chinese_consent_screen_and_is_sent_back_with_a_code(live_server, page, demo, make_client,
                                                                          shot):
    client = make_client(first_party=False, name="课后服务选课", scopes=["openid", "profile", "children"])
    rp = RP(live_server, client, scope="openid profile children")
    landed = []
    page.route(REDIRECT + "*", lambda route: (landed.append(route.request.url),
                                              route.fulfill(body="<h1>app</h1>", content_type="text/html")))
    browser_login(page, live_server, login_of(demo, "parent"))
    page.goto(rp.authorization_url())
    assert "课后服务选课" in page.inner_text("h1")
    assert "您孩子的编号（家长）" in page.inner_text("ul.scopes")
    shot(page, "consent-zh")
    page.click("button.allow")
    page.wait_for_selector("text=app")
    assert landed and "code=" in landed[0] and f"state={rp.state}" in landed[0]
    token = rp.fetch_token(landed[0])
    assert rp.session.get(rp.meta["userinfo_endpoint"]).json()["children"]
    assert token["id_token"]


def test_parent_from_the_city_portal_binds_a_child_with_the_schools_code(live_server, page, demo, portal, configured,
                                                                        login, db_session, shot):
    import sqlalchemy as sa

    from foundation.models import GuardianLink, OrgUnit

    guardian = configured["other"]
    student = db_session.scalar(sa.select(GuardianLink.student_id).where(GuardianLink.guardian_id == guardian))
    school = db_session.scalar(sa.select(GuardianLink.school_id).where(GuardianLink.guardian_id == guardian))
    schools = sorted(db_session.scalars(sa.select(OrgUnit.id).where(OrgUnit.kind == "school")))
    code = login("school_admin", schools.index(school)).post(
        f"/api/v1/guardians/{guardian}/binding-code", json={"student_id": student}).get_json()["code"]

    page.goto(f"{live_server}/login")
    page.click("text=使用随申办登录")
    # the portal's own login form (oidc-provider's interaction), as a parent would fill it
    page.wait_for_selector("input[name=login]")
    page.fill("input[name=login]", UNVERIFIED_SUB)
    page.fill("input[name=password]", "Portal-2")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/bind")
    assert "家长绑定码" in page.content()
    shot(page, "bind-zh")
    page.fill("input[name=code]", code)
    page.click("button.allow")
    page.wait_for_url(f"{live_server}/")
    page.click("nav >> text=我的孩子")
    assert page.locator("ul.cards li").count() >= 1


def test_homeroom_teacher_issues_a_binding_code_from_the_student_record(live_server, page, demo, shot):
    import re

    browser_login(page, live_server, login_of(demo, "homeroom_teacher"))
    page.click("nav >> text=我的班级")
    page.click("text=查看名册")
    page.locator("table.roster tbody tr a").first.click()
    page.wait_for_load_state()  # binding.js is deferred: a click before it ran would do nothing
    page.locator("button.binding").first.click()
    code = page.locator(".binding-code b").first
    code.wait_for()
    assert re.fullmatch(r"[2-9A-HJ-NP-Z]{5}-[2-9A-HJ-NP-Z]{5}", code.inner_text())
    shot(page, "binding-code")
