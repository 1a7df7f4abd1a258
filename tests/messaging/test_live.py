"""Live push: a message created by one app process reaches a browser's event stream served by another,
through Redis pub/sub; with Redis stopped the stream still catches up (poll), and it resumes with
Last-Event-ID without repeating or skipping anything. Without Redis it works inside one process."""
from __future__ import annotations

import json
import queue
import re
import socket
import threading
import time

import pytest
import requests

from foundation.messaging import send
from foundation.models import Account
from foundation.tenancy import unscoped
from tests.conftest import PASSWORD, login_of


def browser_session(base: str, username: str) -> requests.Session:
    s = requests.Session()
    token = re.search(r'name="csrf_token" value="([^"]+)"', s.get(base + "/login").text).group(1)
    r = s.post(base + "/login", data={"username": username, "password": PASSWORD, "csrf_token": token},
               allow_redirects=False)
    assert r.status_code == 302
    return s


class EventReader:
    """Reads one SSE response in a thread: (id, data) pairs into a queue."""

    def __init__(self, session: requests.Session, url: str, last_id: str | None = None) -> None:
        headers = {"Last-Event-ID": last_id} if last_id else {}
        self.resp = session.get(url, stream=True, headers=headers, timeout=30)
        assert self.resp.status_code == 200 and self.resp.headers["Content-Type"].startswith("text/event-stream")
        self.events: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        event: dict = {}
        try:
            for line in self.resp.iter_lines(decode_unicode=True):
                if line.startswith("id: "):
                    event["id"] = line[4:]
                elif line.startswith("data: "):
                    event["data"] = json.loads(line[6:])
                elif line == "" and "data" in event:
                    self.events.put(event)
                    event = {}
        except Exception:  # noqa: BLE001 - the connection was closed by the test
            pass

    def next(self, timeout: float = 10) -> dict:
        return self.events.get(timeout=timeout)

    def close(self) -> None:
        """Hang up like a closing browser tab: shut the socket (which also wakes the reading thread)."""
        try:
            self.resp.raw._fp.fp.raw._sock.shutdown(socket.SHUT_RDWR)  # urllib3 → http.client → socket
        except (AttributeError, OSError):
            pass
        self.resp.close()


def notify(app, account_id: int, subject: str) -> int:
    with app.app_context(), unscoped("test setup").session(app.extensions["jizuo.engine"]) as sess:
        msg = send(sess, "notice", recipients=[{"account": account_id}], school_id=None,
                   variables={"subject": subject, "body": "……"})
        sess.commit()
        return msg.id


def test_message_from_one_process_reaches_a_stream_on_another(app, demo, db_session, second_app, redis_server):
    username = login_of(demo, "parent")
    account = db_session.query(Account).filter_by(username=username).one().id
    browser = browser_session(second_app.url, username)
    second_app.app.config["MESSAGE_SSE_POLL"] = 60  # this stream can only learn of a message through Redis
    live = EventReader(browser, second_app.url + "/api/v1/messages/stream")
    second_app.app.config["MESSAGE_SSE_POLL"] = 0.5  # this one also polls the database
    polling = EventReader(browser, second_app.url + "/api/v1/messages/stream")
    first = notify(app, account, "第一条")
    got = live.next(timeout=5)  # carried across processes by pub/sub
    assert got["data"]["message_id"] == first and got["data"]["subject"] == "第一条" and got["data"]["unread"] == 1
    assert polling.next(timeout=5)["data"]["message_id"] == first
    redis_server.stop()
    second = notify(app, account, "第二条")  # Redis is down: the live publish fails, the poll catches up
    got2 = polling.next(timeout=10)
    assert got2["data"]["message_id"] == second and got2["data"]["unread"] == 2
    live.close()
    polling.close()
    third = notify(app, account, "第三条")  # while the browser is away
    resumed = EventReader(browser, second_app.url + "/api/v1/messages/stream", last_id=got2["id"])
    got3 = resumed.next(timeout=10)
    assert got3["data"]["message_id"] == third  # nothing repeated, nothing skipped
    assert resumed.events.empty()
    resumed.close()


def test_in_process_stream_without_redis(app, demo, db_session, live_server):
    app.config["MESSAGE_SSE_POLL"] = 0.5  # closing a stream returns once the server writes again
    username = login_of(demo, "homeroom_teacher")
    account = db_session.query(Account).filter_by(username=username).one().id
    browser = browser_session(live_server, username)
    reader = EventReader(browser, live_server + "/api/v1/messages/stream")
    other = browser_session(live_server, login_of(demo, "parent"))
    other_reader = EventReader(other, live_server + "/api/v1/messages/stream")
    mid = notify(app, account, "只给老师")
    assert reader.next(timeout=5)["data"]["message_id"] == mid
    with pytest.raises(queue.Empty):
        other_reader.next(timeout=1.5)  # another person's stream never carries it
    reader.close()
    other_reader.close()


def test_open_streams_are_capped_so_pages_still_load(app, demo, live_server):
    app.config.update({"MESSAGE_SSE_POLL": 0.3, "MESSAGE_SSE_MAX": 1})
    browser = browser_session(live_server, login_of(demo, "parent"))
    first = EventReader(browser, live_server + "/api/v1/messages/stream")
    busy = browser.get(live_server + "/api/v1/messages/stream", timeout=5)
    assert busy.status_code == 503 and busy.json()["error"]["code"] == "busy"
    assert browser.get(live_server + "/messages", timeout=5).status_code == 200  # pages are served
    first.close()
    for _ in range(50):  # the slot comes back once the server notices the closed stream
        again = browser.get(live_server + "/api/v1/messages/stream", stream=True, timeout=5)
        if again.status_code == 200:
            again.close()
            break
        time.sleep(0.1)
    assert again.status_code == 200


def test_a_stopping_process_ends_its_open_streams_at_once(app, demo, db_session):
    """A worker told to stop (SIGTERM: a restart, a deploy) ends its open streams instead of holding the stop
    for the graceful timeout; the browsers reconnect to a worker that serves (foundation/serve.py)."""
    from foundation.messaging.hub import hub
    from foundation.messaging.stream import events, latest_id

    account = db_session.query(Account).filter_by(username=login_of(demo, "parent")).one().id
    body = events(app, account, after=latest_id(db_session, account), lang="zh", poll=60, max_seconds=120)
    assert next(body).startswith("retry:")
    ended = threading.Event()
    threading.Thread(target=lambda: (list(body), ended.set()), daemon=True).start()
    notifier = hub(app).live.notifier
    try:
        assert not ended.wait(0.5)  # waiting for news, as an open browser's stream does
        notifier.stop()
        assert ended.wait(3)
    finally:
        notifier.stopping = False  # the other tests' streams on this app
