"""The stand-in city portal (a real oidc-provider) registered in Jizuo, with one demo guardian who is
the portal's verified parent. Shared by the federation API tests and the browser tests."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from foundation.models import Guardian
from tests.upstream.fixtures import CLIENT_ID, CLIENT_SECRET, demo_portal_config, upstream_provider_fixture

portal = upstream_provider_fixture(
    lambda request: demo_portal_config([request.getfixturevalue("live_server") + "/login/federated/portal/callback"]),
    scope="function", name="portal")

VERIFIED_SUB, UNVERIFIED_SUB, NO_MATCH_SUB = "sh-parent-0001", "sh-parent-0002", "sh-parent-0003"


@pytest.fixture
def configured(app, portal, live_server, db_session):
    """The district has registered the portal; one demo guardian is the portal's verified parent 0001."""
    from foundation import db
    from foundation.federation.admin import add_provider
    from foundation.security.fields import FieldCipher
    from foundation.tenancy import unscoped
    from tests.conftest import SECRET

    with app.app_context():
        unscoped("test setup").mark(db.session())
        add_provider(slug="portal", name="随申办", issuer=portal.issuer, client_id=CLIENT_ID,
                     client_secret=CLIENT_SECRET, scopes="openid profile email identity",
                     id_claim="id_card_number", id_verified_claim="id_card_verified")
        db.session().commit()
    accounts = {a["sub"]: a for a in demo_portal_config([])["accounts"]}
    guardians = db_session.scalars(sa.select(Guardian).order_by(Guardian.id).limit(3)).all()
    cipher = FieldCipher(SECRET)
    guardians[0].id_number_hash = cipher.blind_index(accounts[VERIFIED_SUB]["id_card_number"])
    # parent 0002's ID is on file too, but the portal says it is NOT verified: it must not count
    guardians[1].id_number_hash = cipher.blind_index(accounts[UNVERIFIED_SUB]["id_card_number"])
    db_session.commit()
    return {"verified": guardians[0].id, "unverified": guardians[1].id, "other": guardians[2].id}


