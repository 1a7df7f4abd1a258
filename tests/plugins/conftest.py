"""The example plugin is a distribution of its own: ``scripts/test`` installs it (``pip install -e``) before
pytest. Run by hand without it, it is installed here, at collection, so that the app factory's entry-point
discovery finds it when the ``template`` and ``app`` fixtures run."""
from __future__ import annotations

import importlib
import importlib.metadata
import subprocess
import sys
from pathlib import Path

import pytest

DIST = Path(__file__).parent / "jizuo_hello"


def _ensure_installed() -> None:
    try:
        importlib.metadata.distribution("jizuo-hello")
        return
    except importlib.metadata.PackageNotFoundError:
        pass
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-e",
                    str(DIST)], check=True)
    # the editable install's .pth is read at interpreter start only: this process finds the package by path
    sys.path.insert(0, str(DIST))
    importlib.invalidate_caches()


_ensure_installed()


@pytest.fixture(autouse=True)
def hello_is_published(app):
    """The district has reviewed and published the plugin in the app square (tests/test_square.py walks
    that lifecycle through the API)."""
    import sqlalchemy as sa

    from foundation import db
    from foundation.models import AppListing
    from foundation.services import square
    from foundation.tenancy import unscoped

    with app.app_context():
        sess = unscoped("test setup").mark(db.session())
        square.list_plugins(sess, app.extensions["jizuo.plugins"].loaded)
        row = sess.scalar(sa.select(AppListing).where(AppListing.key == "hello"))
        for action in ("review", "publish"):
            square.step(sess, row, action, account_id=None, name="district.admin", reason=None)
        sess.commit()
