"""Bearer tokens on the open API: scopes limit what a token may do, a school's client reaches that
school only, client credentials act as the client, and signing keys rotate without breaking tokens."""
from __future__ import annotations

import requests
import sqlalchemy as sa

from foundation.models import Student
from tests.conftest import login_of
from tests.oidc_support import RP


def _cc_token(live_server, client, scope: str) -> str:
    resp = requests.post(live_server + "/oauth/token", data={"grant_type": "client_credentials", "scope": scope},
                         auth=(client["client_id"], client["client_secret"]))
    assert resp.status_code == 200, resp.text
    return resp.json()["access_token"]


def _get(live_server, token: str, path: str, **kw):
    return requests.get(live_server + path, headers={"Authorization": f"Bearer {token}"} | kw.pop("headers", {}), **kw)


def test_a_school_clients_token_reads_nothing_of_another_school(live_server, make_client, schools, db_session):
    a, b = schools
    client = make_client(grant_types=["client_credentials"], scopes=["students.read"], redirect_uris=[], school_id=a)
    token = _cc_token(live_server, client, "students.read")
    listed = _get(live_server, token, "/api/v1/students?per_page=500").json()
    assert listed["total"] == db_session.scalar(sa.select(sa.func.count()).where(Student.school_id == a))
    assert {s["school_id"] for s in listed["items"]} == {a}
    other = db_session.scalar(sa.select(Student.id).where(Student.school_id == b))
    assert _get(live_server, token, f"/api/v1/students/{other}").status_code == 404
    assert _get(live_server, token, f"/api/v1/students?school_id={b}").status_code == 404
    # the scope is the limit: no write, no audit log, no staff
    mine = listed["items"][0]["id"]
    assert requests.patch(live_server + f"/api/v1/students/{mine}", json={"name": "改"},
                          headers={"Authorization": f"Bearer {token}"}).status_code == 403
    assert _get(live_server, token, "/api/v1/audit").status_code == 403
    assert _get(live_server, token, "/api/v1/staff").status_code == 403


def test_a_user_token_of_a_school_a_client_is_limited_to_school_a(live_server, make_client, browser_http, demo,
                                                                 schools):
    a, b = schools
    client = make_client(school_id=a)
    rp = RP(live_server, client, scope="openid students.read")
    browser_http.login(login_of(demo, "school_admin", 1))  # an admin of school B, through school A's app
    token = rp.fetch_token(browser_http.visit(rp.authorization_url()).headers["Location"])["access_token"]
    assert _get(live_server, token, "/api/v1/students").json()["total"] == 0
    # the same person through a district-wide client sees their own school
    rp2 = RP(live_server, make_client(), scope="openid students.read")
    token2 = rp2.fetch_token(browser_http.visit(rp2.authorization_url()).headers["Location"])["access_token"]
    items = _get(live_server, token2, "/api/v1/students").json()["items"]
    assert items and {s["school_id"] for s in items} == {b}


def test_a_user_token_cannot_exceed_the_person_or_the_scope(live_server, make_client, browser_http, demo):
    rp = RP(live_server, make_client(scopes=["openid", "org.read"]), scope="openid org.read")
    browser_http.login(login_of(demo, "school_admin"))
    token = rp.fetch_token(browser_http.visit(rp.authorization_url()).headers["Location"])["access_token"]
    assert _get(live_server, token, "/api/v1/org-units").status_code == 200
    assert _get(live_server, token, "/api/v1/students").status_code == 403  # the admin could; the token cannot


def test_bearer_calls_need_no_csrf_and_cookies_do_not_ride_along(live_server, make_client, schools):
    a, _ = schools
    client = make_client(grant_types=["client_credentials"], scopes=["students.read", "students.write"],
                         redirect_uris=[], school_id=a)
    token = _cc_token(live_server, client, "students.read students.write")
    sid = _get(live_server, token, "/api/v1/students").json()["items"][0]["id"]
    resp = requests.patch(live_server + f"/api/v1/students/{sid}", json={"boarding": True},
                          headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200 and resp.json()["boarding"] is True


def test_a_district_client_must_name_the_school_and_it_is_audited(live_server, make_client, schools, db_session):
    a, b = schools
    client = make_client(grant_types=["client_credentials"], scopes=["students.read"], redirect_uris=[])
    token = _cc_token(live_server, client, "students.read")
    assert _get(live_server, token, "/api/v1/students").json()["total"] == 0
    named = _get(live_server, token, "/api/v1/students", headers={"X-Jizuo-School": str(b)}).json()
    assert named["total"] > 0 and {s["school_id"] for s in named["items"]} == {b}
    from foundation.models import AuditEntry

    entry = db_session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "district.enter_school")
                              .order_by(AuditEntry.id.desc()))
    assert entry.username == f"client:{client['client_id']}" and entry.school_id == b


def test_disabled_client_tokens_stop_working(live_server, make_client, runner, schools):
    client = make_client(grant_types=["client_credentials"], scopes=["students.read"], redirect_uris=[],
                         school_id=schools[0])
    token = _cc_token(live_server, client, "students.read")
    assert _get(live_server, token, "/api/v1/students").status_code == 200
    assert runner.invoke(["clients", "disable", client["client_id"]]).exit_code == 0
    assert _get(live_server, token, "/api/v1/students").status_code == 401


def test_keys_rotate_and_old_tokens_still_verify(live_server, make_client, runner, schools):
    client = make_client(grant_types=["client_credentials"], scopes=["students.read"], redirect_uris=[],
                         school_id=schools[0])
    old = _cc_token(live_server, client, "students.read")
    result = runner.invoke(["keys", "rotate"])
    assert result.exit_code == 0, result.output
    new = _cc_token(live_server, client, "students.read")
    import base64
    import json

    def kid(tok):
        return json.loads(base64.urlsafe_b64decode(tok.split(".")[0] + "==="))["kid"]

    assert kid(old) != kid(new)
    assert len(requests.get(live_server + "/oauth/jwks").json()["keys"]) == 2
    assert _get(live_server, old, "/api/v1/students").status_code == 200
    assert _get(live_server, new, "/api/v1/students").status_code == 200


def test_jizuo_token_prints_a_working_token(app, live_server, runner, demo):
    app.config["OIDC_ISSUER"] = live_server
    result = runner.invoke(["token", "--account", login_of(demo, "homeroom_teacher"), "--scope", "students.read"])
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    listed = _get(live_server, token, "/api/v1/students").json()
    assert listed["total"] > 0
    bad = runner.invoke(["token", "--account", login_of(demo, "homeroom_teacher"), "--scope", "nope"])
    assert bad.exit_code != 0 and "nope" in bad.output
    assert runner.invoke(["token", "--account", "ghost"]).exit_code != 0


def test_clients_create_from_the_cli(runner):
    result = runner.invoke(["clients", "create", "--name", "排课系统", "--grant", "client_credentials",
                            "--scope", "students.read", "--scope", "org.read"])
    assert result.exit_code == 0, result.output
    import json

    out = json.loads(result.output)
    assert out["client_id"].startswith("jz_") and len(out["client_secret"]) >= 40
    bad = runner.invoke(["clients", "create", "--name", "坏", "--redirect-uri", "http://good@evil/cb"])
    assert bad.exit_code != 0 and "redirect_uris" in bad.output
    listed = runner.invoke(["clients", "list"])
    assert "排课系统" in listed.output


def test_access_tokens_carry_the_clients_school_and_the_persons_roles(live_server, make_client, browser_http, demo,
                                                                     schools):
    import base64
    import json

    rp = RP(live_server, make_client(school_id=schools[0]), scope="openid students.read")
    browser_http.login(login_of(demo, "homeroom_teacher"))
    token = rp.fetch_token(browser_http.visit(rp.authorization_url()).headers["Location"])["access_token"]
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "==="))
    assert claims["jizuo_school"] == schools[0]
    assert [r["role"] for r in claims["jizuo_roles"]] == ["homeroom_teacher"]
    assert "name" not in claims and claims["scope"] == "openid students.read"
