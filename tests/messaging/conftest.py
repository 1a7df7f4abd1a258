"""Fixtures of the message-center tests (see support.py)."""
from __future__ import annotations

import os
import shutil
import threading
import uuid

import pytest
from werkzeug.serving import make_server

from foundation import create_app
from tests.conftest import SECRET
from tests.messaging.support import Mailbox, Portal, RedisServer


@pytest.fixture
def portal():
    p = Portal()
    yield p
    p.close()


@pytest.fixture
def mailbox():
    box = Mailbox()
    yield box
    box.close()


@pytest.fixture
def redis_server():
    """A private redis-server (tests stop and restart it); skipped unless real Redis is expected."""
    if not os.environ.get("JIZUO_TEST_REDIS_URL"):
        pytest.skip("JIZUO_TEST_REDIS_URL not set")
    if shutil.which("redis-server") is None:  # the tests stop and restart a server of their own
        pytest.fail("JIZUO_TEST_REDIS_URL is set but redis-server is not installed (apt-get install redis-server)")
    server = RedisServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def prefix() -> str:
    return f"jizuo-test-{uuid.uuid4().hex[:8]}"


class Served:
    def __init__(self, app) -> None:
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def second_app(app, redis_server, prefix, tmp_path):
    """Another app process on the same database and Redis (the one the browser is connected to)."""
    app.config.update({"REDIS_URL": redis_server.url, "MESSAGE_REDIS_PREFIX": prefix})
    other = create_app({"TESTING": True, "DATABASE_URL": app.config["DATABASE_URL"], "SECRET_KEY": SECRET,
                        "PASSWORD_HASH_FAST": True, "INSTANCE_PATH": str(tmp_path / "b"),
                        "REDIS_URL": redis_server.url, "MESSAGE_REDIS_PREFIX": prefix, "MESSAGE_SSE_POLL": 1.0})
    served = Served(other)
    yield served
    served.close()
    for stop in other.extensions.get("jizuo.plugin_unsubscribe", []):
        stop()
    other.extensions["jizuo.engine"].dispose()
