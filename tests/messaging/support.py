"""Helpers for the message-center tests: more parent accounts than the demo has, a private redis-server,
a city-portal webhook receiver that checks signatures, and a real SMTP server (aiosmtpd)."""
from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
from collections import Counter
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import sqlalchemy as sa

from foundation.messaging.channels import verify
from foundation.models import Account, GuardianLink, Membership, OrgUnit, Student

WEBHOOK_SECRET = "portal-shared-secret"


def schools(sess) -> list[int]:
    return list(sess.scalars(sa.select(OrgUnit.id).where(OrgUnit.kind == "school").order_by(OrgUnit.id)))


def classes(sess, school_id: int) -> list[int]:
    return list(sess.scalars(sa.select(OrgUnit.id).where(OrgUnit.kind == "class", OrgUnit.school_id == school_id)
                             .order_by(OrgUnit.id)))


def parent_accounts(sess, class_id: int) -> list[int]:
    """Give every guardian of the class an account (the demo has one parent login per school)."""
    rows = sess.execute(sa.select(GuardianLink.guardian_id, GuardianLink.school_id)
                        .join(Student, Student.id == GuardianLink.student_id)
                        .where(Student.class_id == class_id).order_by(GuardianLink.guardian_id)).all()
    have = set(sess.scalars(sa.select(Account.person_id).where(Account.person_kind == "guardian")))
    for gid, school in dict(rows).items():
        if gid in have:
            continue
        acct = Account(username=f"g{gid}", display_name=f"家长{gid}", person_kind="guardian", person_id=gid)
        sess.add(acct)
        sess.flush()
        sess.add(Membership(account_id=acct.id, role="parent", org_unit_id=school, school_id=school))
    sess.commit()
    return list(sess.scalars(sa.select(Account.id).where(
        Account.person_kind == "guardian", Account.person_id.in_([g for g, _ in rows]))))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """A redis-server of our own, so a test may stop it mid-work without disturbing anyone else."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                                      "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


class Portal:
    """The city/parent portal's webhook endpoint: verifies the HMAC signature and applies each delivery
    key once (a repeat is answered 200 and not applied again). ``fail`` maps a delivery key to how many times to answer 500 first; ``hang`` to how many
    times to stall past the sender's timeout; ``slow`` to how many times to apply but answer late;
    ``always_fail`` keys never succeed."""

    def __init__(self) -> None:
        self.fail: dict[str, int] = {}
        self.hang: dict[str, int] = {}
        self.always_fail: set[str] = set()
        self.slow: dict[str, int] = {}
        self.hang_seconds = 1.0
        self.seen: Counter[str] = Counter()  # requests per key (with retries)
        self.applied: Counter[str] = Counter()  # accepted (2xx) per key
        self.bad_signatures = 0
        self.bodies: dict[str, dict] = {}
        self.lock = threading.Lock()
        portal = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                key = self.headers.get("X-Jizuo-Delivery", "")
                ok = verify(WEBHOOK_SECRET, self.headers.get("X-Jizuo-Timestamp", ""), body,
                            self.headers.get("X-Jizuo-Signature", ""))
                with portal.lock:
                    portal.seen[key] += 1
                    if not ok:
                        portal.bad_signatures += 1
                        status = 401
                    elif key in portal.always_fail or portal.fail.get(key, 0) > 0:
                        portal.fail[key] = portal.fail.get(key, 0) - 1
                        status = 500
                    elif portal.hang.get(key, 0) > 0:
                        portal.hang[key] -= 1
                        status = -1
                    else:
                        status = 200
                        if portal.applied[key] == 0:  # a portal applies each delivery key once
                            portal.bodies[key] = json.loads(body)
                            portal.applied[key] += 1
                        if portal.slow.get(key, 0) > 0:
                            portal.slow[key] -= 1
                            status = -2
                if status == -1:
                    time.sleep(portal.hang_seconds)
                    status = 503
                elif status == -2:  # applied, but the answer is late (the sender may die meanwhile)
                    time.sleep(portal.hang_seconds)
                    status = 200
                self.send_response(status)
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/jizuo/messages"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Mailbox:
    """A real SMTP server (aiosmtpd) collecting what it receives."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list = []
        box = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                box.messages.append(message_from_bytes(envelope.content, policy=policy.default))
                return "250 OK"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def ids(self) -> Counter[str]:
        return Counter(m["Message-ID"] for m in self.messages)

    def close(self) -> None:
        self.controller.stop()
