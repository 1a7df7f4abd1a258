"""A real upstream OpenID provider (npm oidc-provider, the stand-in for 随申办) logs parents into Jizuo.
Linking is by a verified ID claim or a binding code; never by e-mail or name."""
from __future__ import annotations

import re

import requests
import sqlalchemy as sa

from foundation.models import AuditEntry, FederatedIdentity, GuardianLink
from tests.portal import NO_MATCH_SUB, UNVERIFIED_SUB, VERIFIED_SUB


def _portal_login(live_server, portal, sub: str) -> requests.Session:
    """A parent's browser: Jizuo → portal (signs in as ``sub``) → Jizuo's callback."""
    browser = requests.Session()
    start = browser.get(live_server + "/login/federated/portal", allow_redirects=False)
    assert start.status_code == 302 and start.headers["Location"].startswith(portal.issuer)
    assert "code_challenge_method=S256" in start.headers["Location"] and "nonce=" in start.headers["Location"]
    callback = portal.sign_in(start.headers["Location"], login_hint=sub)
    assert callback.startswith(live_server + "/login/federated/portal/callback")
    browser.last = browser.get(callback, allow_redirects=False)
    return browser


def test_verified_parent_is_linked_and_sees_exactly_their_children(live_server, portal, configured, db_session):
    browser = _portal_login(live_server, portal, VERIFIED_SUB)
    assert browser.last.status_code == 302 and browser.last.headers["Location"] == "/"
    me = browser.get(live_server + "/api/v1/me").json()
    assert {r["role"] for r in me["roles"]} == {"parent"}
    expected = set(db_session.scalars(sa.select(GuardianLink.student_id)
                                      .where(GuardianLink.guardian_id == configured["verified"])))
    assert set(me["children"]) == expected
    listed = browser.get(live_server + "/api/v1/students").json()
    assert {s["id"] for s in listed["items"]} == expected
    ident = db_session.scalar(sa.select(FederatedIdentity).where(FederatedIdentity.subject == VERIFIED_SUB))
    assert ident.issuer == portal.issuer and ident.linked_by == "verified_id"
    # the second time, the (issuer, sub) link is used directly
    again = _portal_login(live_server, portal, VERIFIED_SUB)
    assert again.get(live_server + "/api/v1/me").json()["account_id"] == me["account_id"]


def test_unverified_identity_lands_on_bind_page_and_a_binding_code_links_it(live_server, portal, configured, login,
                                                                           db_session):
    browser = _portal_login(live_server, portal, UNVERIFIED_SUB)
    assert browser.last.headers["Location"] == "/bind"
    page = browser.get(live_server + "/bind")
    assert "家长绑定码" in page.text and "李强" in page.text
    assert browser.get(live_server + "/api/v1/me").status_code == 401  # not logged in
    # the homeroom teacher of the child issues a code
    guardian = configured["other"]
    student = db_session.scalar(sa.select(GuardianLink.student_id).where(GuardianLink.guardian_id == guardian))
    school = db_session.scalar(sa.select(GuardianLink.school_id).where(GuardianLink.guardian_id == guardian))
    from foundation.models import OrgUnit

    schools = sorted(db_session.scalars(sa.select(OrgUnit.id).where(OrgUnit.kind == "school")))
    admin = login("school_admin", schools.index(school))
    code = admin.post(f"/api/v1/guardians/{guardian}/binding-code", json={"student_id": student}).get_json()["code"]
    assert re.fullmatch(r"[2-9A-HJ-NP-Z]{5}-[2-9A-HJ-NP-Z]{5}", code)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    wrong = browser.post(live_server + "/bind", data={"code": "AAAAA-AAAAA", "csrf_token": token},
                         allow_redirects=False)
    assert wrong.status_code == 400 and "绑定码无效" in wrong.text
    ok = browser.post(live_server + "/bind", data={"code": code.lower(), "csrf_token": token}, allow_redirects=False)
    assert ok.status_code == 302
    me = browser.get(live_server + "/api/v1/me").json()
    assert me["person"] == {"kind": "guardian", "id": guardian} and student in me["children"]
    # a code works once
    other = _portal_login(live_server, portal, NO_MATCH_SUB)
    token2 = re.search(r'name="csrf_token" value="([^"]+)"', other.get(live_server + "/bind").text).group(1)
    reuse = other.post(live_server + "/bind", data={"code": code, "csrf_token": token2}, allow_redirects=False)
    assert reuse.status_code == 400


def test_guessing_binding_codes_is_stopped_after_a_few_tries(live_server, portal, configured):
    browser = _portal_login(live_server, portal, NO_MATCH_SUB)
    token = re.search(r'name="csrf_token" value="([^"]+)"', browser.get(live_server + "/bind").text).group(1)
    statuses = [browser.post(live_server + "/bind", data={"code": f"ABCDE-FGH{i}K", "csrf_token": token},
                             allow_redirects=False).status_code for i in range(2, 8)]
    assert statuses[:4] == [400] * 4 and statuses[4] == 429
    assert browser.get(live_server + "/bind", allow_redirects=False).status_code == 302  # the attempt is over


def test_a_parent_lists_and_removes_their_link(live_server, portal, configured, db_session):
    browser = _portal_login(live_server, portal, VERIFIED_SUB)
    links = browser.get(live_server + "/api/v1/federated-identities").json()["items"]
    assert len(links) == 1 and links[0]["issuer"] == portal.issuer
    csrf = browser.get(live_server + "/api/v1/me").json()["csrf_token"]
    resp = browser.delete(live_server + f"/api/v1/federated-identities/{links[0]['id']}",
                          headers={"X-CSRFToken": csrf})
    assert resp.status_code == 204
    assert db_session.scalar(sa.select(sa.func.count()).select_from(FederatedIdentity)) == 0
    assert db_session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "federation.unlink"))


def test_a_forged_callback_without_this_browsers_state_is_refused(live_server, portal, configured):
    attacker = _portal_login(live_server, portal, VERIFIED_SUB)  # noqa: F841 - a real login elsewhere
    victim = requests.Session()
    start = victim.get(live_server + "/login/federated/portal", allow_redirects=False)
    callback = portal.sign_in(start.headers["Location"], login_hint=VERIFIED_SUB)
    fresh = requests.Session()  # a browser that never started the login (login CSRF)
    resp = fresh.get(callback, allow_redirects=False)
    assert resp.status_code == 400
    assert fresh.get(live_server + "/api/v1/me").status_code == 401
    tampered = victim.get(callback.replace("state=", "state=x"), allow_redirects=False)
    assert tampered.status_code == 400


def test_the_login_page_offers_the_portal(live_server, configured):
    page = requests.get(live_server + "/login").text
    assert "使用随申办登录" in page and "/login/federated/portal" in page


def test_district_admin_registers_a_portal_on_the_page(login, portal):
    admin = login("district_admin")
    page = admin.get("/district/upstreams").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    bad = admin.client.post("/district/upstreams", data={
        "csrf_token": token, "name": "门户", "slug": "p2", "issuer": "http://portal.example.cn", "client_id": "x",
        "client_secret": "y"})
    assert bad.status_code == 422 and "https" in bad.get_data(as_text=True)
    ok = admin.client.post("/district/upstreams", data={
        "csrf_token": token, "name": "随申办", "slug": "ssb", "issuer": portal.issuer, "client_id": "jizuo",
        "client_secret": "s", "id_claim": "id_card_number", "id_verified_claim": "id_card_verified"})
    assert ok.status_code == 200 and "/login/federated/ssb/callback" in ok.get_data(as_text=True)
    teacher = login("homeroom_teacher")
    assert teacher.get("/district/upstreams").status_code == 403


def test_an_app_learns_the_parent_logged_in_through_the_portal(live_server, portal, configured, make_client):
    from tests.oidc_support import RP

    browser = _portal_login(live_server, portal, VERIFIED_SUB)
    rp = RP(live_server, make_client(), scope="openid")
    answer = browser.get(rp.authorization_url(), allow_redirects=False)
    claims = rp.id_token_claims(rp.fetch_token(answer.headers["Location"])["id_token"])
    assert claims["amr"] == ["fed"]
