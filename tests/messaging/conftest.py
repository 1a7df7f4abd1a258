"""Fixtures of the message-center tests (see support.py)."""
from __future__ import annotations

import os
import uuid

import pytest

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
    server = RedisServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def prefix() -> str:
    return f"jizuo-test-{uuid.uuid4().hex[:8]}"
