"""What must outlive or end with a client, a key and a session: disabling a client ends its tokens at
every endpoint, a person's ``sub`` survives a secret-key rotation (and the upgrade that started storing
it), and RP-initiated logout checks whom and for whom it logs out."""
from __future__ import annotations

import base64
import hashlib
import hmac
import importlib.util
import re
from pathlib import Path

import requests
import sqlalchemy as sa

from foundation.models import Account, OAuthToken
from tests.conftest import SECRET, login_of
from tests.oidc_support import RP, Browser

MIGRATION = Path(__file__).resolve().parents[2] / "foundation/migrations/versions/0019_oidc_subjects.py"


def _signed_in(live_server, browser: Browser, client: dict, username: str, scope="openid offline_access"):
    rp = RP(live_server, client, scope=scope)
    browser.login(username)
    token = rp.fetch_token(browser.visit(rp.authorization_url()).headers["Location"])
    return rp, token


def test_disabling_a_client_revokes_its_tokens_everywhere(live_server, make_client, browser_http, demo, runner,
                                                          login, db_session):
    client = make_client(scopes=["openid", "profile", "students.read", "offline_access"])
    rp, token = _signed_in(live_server, browser_http, client, login_of(demo, "homeroom_teacher"),
                           scope="openid profile students.read offline_access")
    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    assert requests.get(rp.meta["userinfo_endpoint"], headers=bearer).status_code == 200
    result = runner.invoke(["clients", "disable", client["client_id"]])
    assert result.exit_code == 0
    assert requests.get(rp.meta["userinfo_endpoint"], headers=bearer).status_code == 401
    assert "1 token(s) revoked" in result.output
    assert requests.get(live_server + "/api/v1/students", headers=bearer).status_code == 401
    creds = (client["client_id"], client["client_secret"])
    refresh = requests.post(rp.meta["token_endpoint"], auth=creds,
                            data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]})
    assert refresh.json()["error"] == "invalid_client"
    for endpoint in ("introspection_endpoint", "revocation_endpoint"):
        assert requests.post(rp.meta[endpoint], data={"token": token["access_token"]},
                             auth=creds).json()["error"] == "invalid_client", endpoint
    rows = db_session.scalars(sa.select(OAuthToken).where(OAuthToken.client_id == client["client_id"])).all()
    assert rows and all(r.access_revoked and r.refresh_revoked for r in rows)  # re-enabling revives nothing

    # the same through the API a district admin uses (page 应用接入)
    other = make_client()
    _, token2 = _signed_in(live_server, Browser(live_server), other, login_of(demo, "parent"))
    admin = login("district_admin")
    assert admin.post(f"/api/v1/clients/{other['client_id']}/disable").status_code == 200
    assert requests.get(rp.meta["userinfo_endpoint"],
                        headers={"Authorization": f"Bearer {token2['access_token']}"}).status_code == 401


def test_sub_stays_the_same_when_the_secret_key_rotates(app, live_server, make_client, demo, monkeypatch):
    from foundation.oidc import keys

    client, user = make_client(), login_of(demo, "parent")
    rp, token = _signed_in(live_server, Browser(live_server), client, user, scope="openid")
    before = rp.id_token_claims(token["id_token"])["sub"]
    monkeypatch.setenv("JIZUO_DATA_KEYS_OLD", SECRET)
    monkeypatch.setitem(app.config, "SECRET_KEY", "a-new-secret-key-after-rotation")
    monkeypatch.setattr(keys, "_PARSED", {})  # the signing key is decrypted again, through the old key
    rp, token = _signed_in(live_server, Browser(live_server), client, user, scope="openid")
    assert rp.id_token_claims(token["id_token"])["sub"] == before
    assert rp.session.get(rp.meta["userinfo_endpoint"]).json()["sub"] == before


def _sub_as_derived_before(account: Account) -> str:
    who = f"{account.person_kind}:{account.person_id}" if account.person_id else f"account:{account.id}"
    key = hashlib.sha256(("jizuo-sub:" + SECRET).encode()).digest()
    return base64.b32encode(hmac.new(key, who.encode(), hashlib.sha256).digest()[:15]).decode().lower()


def test_the_upgrade_stores_the_sub_every_account_already_had(app, live_server, make_client, demo, db_session):
    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    spec = importlib.util.spec_from_file_location("m0019", MIGRATION)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    db_session.close()
    engine = app.extensions["jizuo.engine"]
    with app.app_context(), engine.begin() as conn:  # the migration, again, on a district with accounts
        ctx = MigrationContext.configure(conn, opts={"render_as_batch": conn.dialect.name == "sqlite"})
        with Operations.context(ctx):
            migration.downgrade()
            migration.upgrade()
    accounts = db_session.scalars(sa.select(Account)).all()
    from foundation.models.oauth import OIDCSubject

    stored = dict(db_session.execute(sa.select(OIDCSubject.account_id, OIDCSubject.subject)).all())
    assert len(stored) == len(accounts) > 20
    assert all(stored[a.id] == _sub_as_derived_before(a) for a in accounts)
    # and a relying party sees that very sub
    user = login_of(demo, "homeroom_teacher")
    rp, token = _signed_in(live_server, Browser(live_server), make_client(), user, scope="openid")
    acct = next(a for a in accounts if a.username == user)
    assert rp.id_token_claims(token["id_token"])["sub"] == _sub_as_derived_before(acct)


def test_logout_checks_the_hint_against_the_client_and_the_person(live_server, make_client, demo):
    client, other_client = make_client(), make_client()
    alice = Browser(live_server)
    _, token = _signed_in(live_server, alice, client, login_of(demo, "homeroom_teacher"), scope="openid")
    end = f"{live_server}/oauth/logout"
    wrong = alice.http.get(end, allow_redirects=False, params={
        "id_token_hint": token["id_token"], "client_id": other_client["client_id"],
        "post_logout_redirect_uri": "http://127.0.0.1:9/bye"})
    assert wrong.status_code == 400 and "Location" not in wrong.headers
    assert alice.http.get(live_server + "/api/v1/me").status_code == 200  # still signed in

    bob = Browser(live_server)  # someone else signed in on this browser; the app asks to log Alice out
    bob.login(login_of(demo, "school_admin"))
    params = {"id_token_hint": token["id_token"], "post_logout_redirect_uri": "http://127.0.0.1:9/bye", "state": "s"}
    ask = bob.http.get(end, allow_redirects=False, params=params)
    assert ask.status_code == 200 and "另一个账号" in ask.text
    assert bob.http.get(live_server + "/api/v1/me").status_code == 200
    english = bob.http.get(end, params=params | {"lang": "en"})
    assert "a different account" in english.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', ask.text).group(1)
    yes = bob.http.post(end, data=params | {"csrf_token": csrf}, allow_redirects=False)
    assert yes.status_code == 302 and yes.headers["Location"] == "http://127.0.0.1:9/bye?state=s"
    assert bob.http.get(live_server + "/api/v1/me").status_code == 401
    # the person the hint names logs out without a question
    bye = alice.http.get(end, params={"id_token_hint": token["id_token"]}, allow_redirects=False)
    assert bye.status_code == 200 and alice.http.get(live_server + "/api/v1/me").status_code == 401
