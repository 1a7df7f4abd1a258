"""A school admin installs and disables a published plugin from the app square, in a real browser."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.conftest import browser_login, login_of

pytestmark = pytest.mark.browser


def _publish(app, key: str) -> None:
    from foundation import db
    from foundation.models import AppListing
    from foundation.services import square
    from foundation.tenancy import unscoped

    with app.app_context():
        sess = unscoped("test setup").mark(db.session())
        square.list_plugins(sess, app.extensions["jizuo.plugins"].loaded)
        row = sess.scalar(sa.select(AppListing).where(AppListing.key == key))
        for action in ("review", "publish"):
            square.step(sess, row, action, account_id=None, name="district.admin", reason=None)
        sess.commit()


def test_school_admin_installs_and_disables_a_plugin_from_the_square(app, live_server, page, demo, shot):
    if "hello" not in app.extensions["jizuo.plugins"].loaded:
        pytest.skip("the example plugin distribution is not installed")
    _publish(app, "hello")
    browser_login(page, live_server, login_of(demo, "school_admin"))
    assert page.goto(f"{live_server}/hello/").status == 404  # not installed yet
    page.goto(f"{live_server}/square")
    card = page.locator("section.app[data-key=hello]")
    assert "本校未安装" in card.inner_text()
    card.locator("button.plugin-toggle").click()
    page.wait_for_selector("section.app[data-key=hello] >> text=本校已安装")
    shot(page, "square-installed")
    assert page.goto(f"{live_server}/hello/").status == 200
    page.goto(f"{live_server}/square")
    page.locator("section.app[data-key=hello] button.plugin-toggle").click()
    page.wait_for_selector("section.app[data-key=hello] >> text=已停用")
    assert page.goto(f"{live_server}/hello/").status == 404
