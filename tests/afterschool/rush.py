"""The selection rush, shared by the load test (tests/afterschool/test_rush.py) and the benchmark
(benchmarks/bench_afterschool.py): a PostgreSQL database with one demo school of N students, an account for
every child's primary guardian, the plugin installed with a few courses far smaller than their demand, a
first-come-first-served window open now; gunicorn serving it with several worker processes on 127.0.0.1; the
parents' web sessions made up front (argon2 logins would otherwise be what is measured); the parents POST
their choices at once; SQL over the tables afterwards.

No mock anywhere: real HTTP, real processes, real PostgreSQL."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Rush-pass-2026"
HOT, MILD = 5, 5  # courses of 20 seats on each weekday's first period; of 400 seats on the second


@dataclass
class World:
    url: str
    secret: str
    school: int = 0
    hot: list[int] = field(default_factory=list)
    mild: list[int] = field(default_factory=list)
    clash: int = 0  # a course at the same time as hot[0]
    window: int = 0
    parents: list[tuple[int, int, str, str]] = field(default_factory=list)  # (account, child, cookie, csrf)


def build(url: str, secret: str, students: int, instance: str) -> World:
    """Migrate, fill and prepare the database at ``url`` (fresh)."""
    from foundation.demo import build_demo
    from foundation.migrate import upgrade

    upgrade(url)
    engine = sa.create_engine(url)
    try:
        build_demo(engine, schools=1, students_per_school=students, seed=11, password=PASSWORD, secret_key=secret,
                   fast_hash=True)
        _parent_accounts(engine)
    finally:
        engine.dispose()
    w = World(url=url, secret=secret)
    app = _app(url, secret, instance)
    _install_and_open(app, w)
    _sessions(app, w)
    app.extensions["jizuo.engine"].dispose()
    return w


def _app(url: str, secret: str, instance: str):
    from foundation import create_app

    return create_app({"DATABASE_URL": url, "SECRET_KEY": secret, "PASSWORD_HASH_FAST": True,
                       "INSTANCE_PATH": instance, "REDIS_URL": None})


def _parent_accounts(engine: sa.Engine) -> None:
    """An account (role parent at the school) for every child's primary guardian without one."""
    with engine.begin() as conn:
        hashed = conn.scalar(sa.text("SELECT password_hash FROM accounts WHERE username LIKE '%.parent' LIMIT 1"))
        conn.execute(sa.text(
            "INSERT INTO accounts (username, password_hash, display_name, person_kind, person_id, active, failed_logins, "
            "created_at, updated_at) SELECT 'rush.p' || g.id, :h, g.name, 'guardian', g.id, true, 0, now(), now() "
            "FROM guardians g "
            "JOIN guardian_links l ON l.guardian_id = g.id AND l.is_primary "
            "WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.person_kind = 'guardian' AND a.person_id = g.id)"),
            {"h": hashed})
        conn.execute(sa.text(
            "INSERT INTO memberships (account_id, role, org_unit_id, school_id) "
            "SELECT a.id, 'parent', l.school_id, l.school_id FROM accounts a "
            "JOIN guardian_links l ON l.guardian_id = a.person_id AND l.is_primary "
            "WHERE a.username LIKE 'rush.p%'"))


def _install_and_open(app, w: World) -> None:
    from foundation import db
    from foundation.models import AppListing, OrgUnit
    from foundation.services import square
    from foundation.services.plugins import install
    from foundation.tenancy import unscoped

    host = app.extensions["jizuo.plugins"]
    with app.app_context():
        sess = unscoped("rush setup").mark(db.session())
        w.school = sess.scalar(sa.select(OrgUnit.id).where(OrgUnit.kind == "school"))
        square.list_plugins(sess, host.loaded)
        listing = sess.scalar(sa.select(AppListing).where(AppListing.key == "afterschool"))
        for action in ("review", "publish"):
            square.step(sess, listing, action, account_id=None, name="rush", reason=None)
        install(sess, host, host.loaded["afterschool"], w.school, {}, database_url=w.url, account_id=None)
        sess.commit()
    admin = app.test_client()
    page = admin.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    admin.post("/login", data={"username": "s001.admin", "password": PASSWORD, "csrf_token": token})
    csrf = admin.get("/api/v1/me").get_json()["csrf_token"]
    h = {"X-CSRFToken": csrf}

    def post(path: str, body: dict) -> dict:
        resp = admin.post("/afterschool/api" + path, json=body, headers=h)
        assert resp.status_code == 201, (path, resp.get_json())
        return resp.get_json()

    grades = [g["id"] for g in admin.get("/afterschool/api/courses", headers=h).get_json() and _grades(app)]
    hall = post("/venues", {"name": "大礼堂", "capacity": 500})["id"]
    field_ = post("/venues", {"name": "操场", "capacity": 500})["id"]
    for d in range(1, HOT + 1):
        w.hot.append(post("/courses", {"title": f"热门课{d}", "category": "science", "venue_id": hall, "capacity": 20,
                                       "slots": [[d, 1]], "grades": grades, "teacher_name": f"外聘{d}",
                                       "provider": "科创中心"})["id"])
    for d in range(1, MILD + 1):
        w.mild.append(post("/courses", {"title": f"普通课{d}", "category": "sports", "venue_id": hall, "capacity": 400,
                                        "slots": [[d, 2]], "grades": grades, "teacher_name": f"教练{d}",
                                        "provider": "体育俱乐部"})["id"])
    w.clash = post("/courses", {"title": "同时段", "category": "arts", "venue_id": field_, "capacity": 400,
                                "slots": [[1, 1]], "grades": grades, "teacher_name": "美术老师", "provider": "少年宫"})["id"]
    now = datetime.now(UTC)
    w.window = post("/windows", {"title": "18:00 开放选课", "mode": "fcfs", "grades": grades, "max_courses": 2,
                                 "opens_at": (now - timedelta(minutes=1)).isoformat(),
                                 "closes_at": (now + timedelta(hours=2)).isoformat()})["id"]


def _grades(app) -> list[dict]:
    from foundation import db
    from foundation.models import OrgUnit
    from foundation.tenancy import unscoped

    with app.app_context():
        sess = unscoped("rush setup").mark(db.session())
        return [{"id": i} for i in sess.scalars(sa.select(OrgUnit.id).where(OrgUnit.kind == "grade"))]


def _sessions(app, w: World) -> None:
    """A signed-in browser cookie and its CSRF token per parent: the server-side session rows written at once,
    the cookie signed as ``login_user`` signs it (2,000 argon2 logins would take minutes)."""
    import secrets

    from flask import g, session
    from flask_wtf.csrf import generate_csrf

    from foundation import db
    from foundation.models import Account, GuardianLink
    from foundation.models.accounts import WebSession
    from foundation.security.sessions import KEY, _digest
    from foundation.tenancy import unscoped

    serializer = app.session_interface.get_signing_serializer(app)
    with app.app_context():
        sess = unscoped("rush setup").mark(db.session())
        rows = sess.execute(sa.select(Account.id, GuardianLink.student_id).join(
            GuardianLink, sa.and_(GuardianLink.guardian_id == Account.person_id, GuardianLink.is_primary))
            .where(Account.person_kind == "guardian").order_by(Account.id)).all()
        made, stored, now = [], [], db.utcnow()
        for account, child in rows:
            raw = secrets.token_urlsafe(32)
            stored.append({"id": _digest(raw), "account_id": account, "created_at": now})
            with app.test_request_context("/"):
                g.pop("csrf_token", None)  # Flask-WTF caches the token on g, which the app context shares
                session.update({KEY: raw, "account_id": account})
                session.permanent = True
                token = generate_csrf()
                made.append((account, child, serializer.dumps(dict(session)), token))
        sess.execute(sa.insert(WebSession), stored)
        sess.commit()
    w.parents = made


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(w: World, instance: str, workers: int = 3, threads: int = 1) -> tuple[subprocess.Popen, str]:
    """gunicorn with ``workers`` processes (of ``threads`` threads each: while one waits for PostgreSQL, another
    runs) on a free loopback port; returns (process, base URL) once it answers."""
    port = free_port()
    env = {**os.environ, "JIZUO_DATABASE_URL": w.url, "JIZUO_SECRET_KEY": w.secret, "JIZUO_INSTANCE_PATH": instance,
           "JIZUO_ENV": "production"}
    env.pop("JIZUO_REDIS_URL", None)
    proc = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "-w", str(workers), "--threads", str(threads), "-b",
                             f"127.0.0.1:{port}", "--timeout", "60", "--log-level", "warning",
                             "foundation:create_app()"], cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(base + "/healthz", timeout=2).status_code < 500:
                return proc, base
        except requests.RequestException:
            time.sleep(0.2)
    proc.terminate()
    raise RuntimeError("gunicorn did not answer")


def plan(w: World) -> list[tuple[int, list[int]]]:
    """(parent index, courses): most want one of the five hot courses and a mild one; every tenth asks for two
    courses at the same time (a clear refusal); every fiftieth clicks twice (the same request again)."""
    out = []
    for i, _p in enumerate(w.parents):
        courses = [w.hot[0], w.clash] if i % 10 == 3 else [w.hot[i % HOT], w.mild[(i * 7) % MILD]]
        out.append((i, courses))
        if i % 50 == 7:
            out.append((i, courses))
    return out


def drive(w: World, base: str, jobs: list[tuple[int, list[int]]], clients: int = 50,
          spread: float = 0.0) -> list[dict[str, Any]]:
    """Send every job over HTTP from ``clients`` threads; with ``spread`` seconds, job k leaves no earlier than
    k·spread/len(jobs) after the start (parents arriving over that time), else all at once. Each answer (or
    failure) is kept with its latency from when it was sent."""
    local = threading.local()
    cookie_name = "jizuo_session"
    t0 = time.monotonic()

    def one(k_job: tuple[int, tuple[int, list[int]]]) -> dict[str, Any]:
        k, (i, courses) = k_job
        acct, child, cookie, csrf = w.parents[i]
        if not hasattr(local, "http"):
            local.http = requests.Session()
        wait = t0 + k * spread / len(jobs) - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        start = time.perf_counter()
        try:
            resp = local.http.post(f"{base}/afterschool/api/windows/{w.window}/choices",
                                   json={"student_id": child, "courses": courses}, timeout=120,
                                   headers={"X-CSRFToken": csrf, "Cookie": f"{cookie_name}={cookie}"})
            body = resp.json() if resp.headers.get("Content-Type", "").startswith("application/json") else None
            return {"i": i, "child": child, "courses": courses, "status": resp.status_code, "body": body,
                    "ms": (time.perf_counter() - start) * 1000, "sent": start}
        except Exception as err:  # noqa: BLE001 - a lost request is what the test looks for
            return {"i": i, "child": child, "courses": courses, "status": None, "error": repr(err),
                    "ms": (time.perf_counter() - start) * 1000, "sent": start}

    with ThreadPoolExecutor(clients) as pool:
        return list(pool.map(one, enumerate(jobs)))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def check(url: str, answers: list[dict[str, Any]]) -> dict[str, Any]:
    """SQL over the tables after the rush: what must hold, as counts of what does not."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            over = conn.execute(sa.text(
                "SELECT c.id, c.capacity, c.enrolled, (SELECT count(*) FROM afterschool_choices x WHERE x.course_id = c.id "
                "AND x.status = 'enrolled') AS seated FROM afterschool_courses c")).all()
            twice = conn.scalar(sa.text("SELECT count(*) FROM (SELECT student_id, course_id FROM afterschool_choices "
                                        "GROUP BY 1, 2 HAVING count(*) > 1) d"))
            slots = {r.id: {tuple(s) for s in r.slots} for r in conn.execute(
                sa.text("SELECT id, slots FROM afterschool_courses"))}
            held: dict[int, list[int]] = {}
            rows = conn.execute(sa.text("SELECT student_id, course_id, status FROM afterschool_choices")).all()
            for r in rows:
                if r.status == "enrolled":
                    held.setdefault(r.student_id, []).append(r.course_id)
    finally:
        engine.dispose()
    clashes = sum(1 for cs in held.values() for i, a in enumerate(cs) for b in cs[i + 1:] if slots[a] & slots[b])
    state = {(r.student_id, r.course_id): r.status for r in rows}
    lost = [a for a in answers if a["status"] is None or a["status"] >= 500]
    unclear = [a for a in answers if a["status"] not in (200, 422, None) and a["status"] < 500]
    mismatched = 0
    for a in answers:
        if a["status"] == 200:
            for item in a["body"]["items"]:
                have = state.get((a["child"], item["course_id"]))
                if item["outcome"] in ("enrolled", "waiting") and have != item["outcome"]:
                    mismatched += 1
                if item["outcome"] == "refused" and item.get("reason") not in ("already", "too_many", "clash"):
                    mismatched += 1
        elif a["status"] == 422 and not a["body"]["error"].get("fields"):
            mismatched += 1
    return {"over_capacity": sum(1 for r in over if r.seated > r.capacity or r.enrolled != r.seated),
            "double": twice, "clashes": clashes, "lost_or_5xx": len(lost), "unclear": len(unclear),
            "mismatched": mismatched, "answers": len(answers),
            "ok": sum(1 for a in answers if a["status"] == 200), "refused_422": sum(1 for a in answers if a["status"] == 422),
            "enrolled": sum(1 for s in state.values() if s == "enrolled"),
            "waiting": sum(1 for s in state.values() if s == "waiting")}
