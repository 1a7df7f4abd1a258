"""A school admin installs and disables a published plugin from the app square, in a real browser: disabling
and uninstalling ask first and take a reason."""
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
    """Disabling asks first, in a dialog saying the data is kept, and takes a reason that the page then shows."""
    if "hello" not in app.extensions["jizuo.plugins"].loaded:
        pytest.skip("the example plugin distribution is not installed")
    _publish(app, "hello")
    page.set_viewport_size({"width": 1366, "height": 900})
    browser_login(page, live_server, login_of(demo, "school_admin"))
    assert page.goto(f"{live_server}/hello/").status == 404  # not installed yet
    page.goto(f"{live_server}/square")
    card = page.locator("section.app[data-key=hello]")
    assert "本校未安装" in card.inner_text()
    card.locator("button[data-action=install]").click()
    page.wait_for_selector("section.app[data-key=hello] >> text=本校已安装")
    page.wait_for_selector(".toast >> text=已安装")
    shot(page, "square-installed")
    assert page.goto(f"{live_server}/hello/").status == 200
    page.goto(f"{live_server}/square")
    page.locator("section.app[data-key=hello] button[data-action=disable]").click()
    dialog = page.locator("#plugin-dialog")
    assert dialog.is_visible() and "已有数据全部保留" in dialog.inner_text()
    page.click("#pd-confirm")  # no reason: the API refuses and the dialog says why
    page.wait_for_selector("#pd-error >> text=请写明理由")
    assert page.get_attribute("#pd-reason", "aria-invalid") == "true"
    page.fill("#pd-reason", "本学期试用结束，下学期再评估")
    shot(page, "square-disable-dialog")
    page.click("#pd-confirm")
    page.wait_for_selector("section.app[data-key=hello] >> text=已停用")
    page.wait_for_selector(".toast >> text=理由已记录")
    assert "理由：本学期试用结束，下学期再评估" in page.inner_text("section.app[data-key=hello] .plugin-history")
    assert page.goto(f"{live_server}/hello/").status == 404
    page.goto(f"{live_server}/square")
    page.locator("section.app[data-key=hello] button[data-action=uninstall]").click()
    page.check("#pd-data input[value=true]")
    assert "永久删除" in page.inner_text("#pd-what") and page.inner_text("#pd-confirm") == "确认卸载并删除数据"
    shot(page, "square-uninstall-dialog")
    page.click("#pd-cancel")
    assert not dialog.is_visible() and "本校已安装" in page.inner_text("section.app[data-key=hello]")
