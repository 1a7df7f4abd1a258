"""Fixtures: one migrated, demo-filled template database per backend, copied for every test.

SQLite always; PostgreSQL too when JIZUO_TEST_DATABASE_URL is set (``.ci/run`` sets it). Each test gets
its own copy (a file copy on SQLite, ``CREATE DATABASE … TEMPLATE`` on PostgreSQL), so tests may write.
"""
from __future__ import annotations

import os
import re
import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from foundation import create_app
from foundation.db import make_engine
from foundation.migrate import upgrade

pytest_plugins = ["tests.portal", "tests.oidc_support"]  # city-portal and OIDC client fixtures

PASSWORD = "Test-pass-2026"
SECRET = "test-secret-key-not-for-production"
DEMO = dict(schools=2, students_per_school=100, seed=7)

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("JIZUO_TEST_DATABASE_URL") else [])


def _pg_admin_url() -> str:
    from foundation.config import normalise_db_url

    return normalise_db_url(os.environ["JIZUO_TEST_DATABASE_URL"])


def _pg_url(name: str) -> str:
    url = sa.make_url(_pg_admin_url())
    return url.set(database=name).render_as_string(hide_password=False)


def _pg_exec(sql: str) -> None:
    engine = sa.create_engine(_pg_admin_url(), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text(sql))
    finally:
        engine.dispose()


class Template:
    """A migrated database holding the demo district; ``copy()`` makes a private database for one test."""

    def __init__(self, backend: str, workdir: Path) -> None:
        from foundation.demo import build_demo

        self.backend, self.workdir = backend, workdir
        if backend == "sqlite":
            self.path = workdir / "template.db"
            self.url = f"sqlite:///{self.path}"
        else:
            self.name = f"jizuo_tmpl_{uuid.uuid4().hex[:8]}"
            _pg_exec(f'CREATE DATABASE "{self.name}"')
            self.url = _pg_url(self.name)
        upgrade(self.url)
        engine = make_engine(self.url)
        try:
            self.demo = build_demo(engine, **DEMO, password=PASSWORD, secret_key=SECRET, fast_hash=True)
        finally:
            engine.dispose()
        if backend == "postgresql":
            # keep autovacuum (and anything else) out, or CREATE DATABASE … TEMPLATE fails when it is there
            _pg_exec(f'ALTER DATABASE "{self.name}" WITH ALLOW_CONNECTIONS false')
        self.copies: list[str] = []

    def copy(self) -> str:
        if self.backend == "sqlite":
            dest = self.workdir / f"t_{uuid.uuid4().hex[:8]}.db"
            shutil.copy(self.path, dest)
            return f"sqlite:///{dest}"
        name = f"jizuo_t_{uuid.uuid4().hex[:8]}"
        for attempt in range(20):
            try:
                _pg_exec(f'CREATE DATABASE "{name}" TEMPLATE "{self.name}"')
                break
            except sa.exc.OperationalError as err:  # "source database is being accessed by other users"
                if "being accessed" not in str(err) or attempt == 19:
                    raise
                time.sleep(0.1)
        self.copies.append(name)
        return _pg_url(name)

    def drop_copy(self, url: str) -> None:
        if self.backend == "postgresql":
            name = sa.make_url(url).database
            _pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        if self.backend == "postgresql":
            _pg_exec(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


@pytest.fixture(scope="session", params=BACKENDS)
def template(request, tmp_path_factory) -> Iterator[Template]:
    tpl = Template(request.param, tmp_path_factory.mktemp(request.param))
    yield tpl
    tpl.close()


@pytest.fixture
def demo(template: Template) -> dict:
    """What ``build_demo`` returned for the template: counts and logins."""
    return template.demo


@pytest.fixture
def app(template: Template, tmp_path):
    url = template.copy()
    app = create_app({
        "TESTING": True, "DATABASE_URL": url, "SECRET_KEY": SECRET, "PASSWORD_HASH_FAST": True,
        "INSTANCE_PATH": str(tmp_path / "instance"), "REDIS_URL": None,
    })
    yield app
    for stop in app.extensions.get("jizuo.plugin_unsubscribe", []):
        stop()
    app.extensions["jizuo.engine"].dispose()
    template.drop_copy(url)


@pytest.fixture
def client(app):
    return app.test_client()


class CLI:
    """Runs the ``jizuo`` command group against the test's app (and so its database)."""

    def __init__(self, app) -> None:
        self.app = app

    def invoke(self, args: list[str], **kw):
        from foundation.cli import main

        return self.app.test_cli_runner().invoke(main, args=args, **kw)


@pytest.fixture
def runner(app) -> CLI:
    return CLI(app)


class AuthActions:
    """Log in like a browser does (CSRF token from the form), then call the API with the session."""

    def __init__(self, client) -> None:
        self.client = client
        self.csrf: str | None = None

    def login(self, username: str, password: str = PASSWORD):
        page = self.client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
        resp = self.client.post("/login", data={"username": username, "password": password, "csrf_token": token})
        if resp.status_code == 302 and resp.headers["Location"] != "/login/2fa":
            self.csrf = self.client.get("/api/v1/me").get_json()["csrf_token"]
        return resp

    def _headers(self, lang: str | None) -> dict:
        h = {"X-CSRFToken": self.csrf or ""}
        if lang:
            h["Accept-Language"] = lang
        return h

    def get(self, url: str, lang: str | None = None, **kw):
        return self.client.get(url, headers=self._headers(lang) | kw.pop("headers", {}), **kw)

    def post(self, url: str, json=None, lang: str | None = None, **kw):
        return self.client.post(url, json=json, headers=self._headers(lang) | kw.pop("headers", {}), **kw)

    def put(self, url: str, json=None, lang: str | None = None, **kw):
        return self.client.put(url, json=json, headers=self._headers(lang) | kw.pop("headers", {}), **kw)

    def delete(self, url: str, json=None, lang: str | None = None, **kw):
        return self.client.delete(url, json=json, headers=self._headers(lang) | kw.pop("headers", {}), **kw)

    def patch(self, url: str, json=None, lang: str | None = None, **kw):
        return self.client.patch(url, json=json, headers=self._headers(lang) | kw.pop("headers", {}), **kw)


@pytest.fixture
def auth(client) -> AuthActions:
    return AuthActions(client)


def login_of(demo: dict, role: str, school_index: int = 0) -> str:
    """The demo username holding ``role`` in the n-th school (district roles ignore the index)."""
    schools = sorted({entry["school_id"] for entry in demo["logins"] if entry["school_id"] is not None})
    for entry in demo["logins"]:
        if entry["role"] == role and (role == "district_admin" or entry["school_id"] == schools[school_index]):
            return entry["username"]
    raise LookupError(role)


@pytest.fixture
def login(demo, auth):
    """``login("homeroom_teacher", school=1)`` → an AuthActions logged in as that demo account."""

    def _login(role: str, school: int = 0) -> AuthActions:
        resp = auth.login(login_of(demo, role, school))
        assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
        return auth

    return _login


@pytest.fixture
def db_session(app):
    """An unscoped session on the test's database, for asserting what was (not) written."""

    from foundation.tenancy import unscoped

    with unscoped("test: checking what was written, anywhere").session(app.extensions["jizuo.engine"]) as sess:
        yield sess


@pytest.fixture
def users(app, demo):
    """``users("parent", 0)`` → a logged-in AuthActions with its own client (cached per role and school)."""
    cache: dict = {}

    def _user(role: str, school: int = 0) -> AuthActions:
        if (role, school) not in cache:
            auth = AuthActions(app.test_client())
            resp = auth.login(login_of(demo, role, school))
            assert resp.status_code == 302, resp.get_data(as_text=True)[:300]
            cache[(role, school)] = auth
        return cache[(role, school)]

    return _user


@pytest.fixture
def live_server(app):
    """The test's app served on a free loopback port (werkzeug's threaded server: it shuts down cleanly)."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


# ---- a real browser: Debian's chromium driven by Playwright (one per session) ----------------------
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("JIZUO_REQUIRE_BROWSER"):
            pytest.fail(f"{CHROMIUM} is missing (apt-get install -y chromium)")
        pytest.skip("Debian chromium not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    ctx = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    pg = ctx.new_page()
    yield pg
    ctx.close()


@pytest.fixture
def shot():
    ARTIFACTS.mkdir(exist_ok=True)

    def _shot(page, name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return _shot


def wait_for_js(page, expression: str, timeout: float = 15.0) -> None:
    """Poll a JavaScript expression until it is true. Playwright's ``wait_for_function`` builds its predicate
    with eval inside the page, which the pages' Content-Security-Policy forbids; ``page.evaluate`` does not."""
    import time as _time

    deadline = _time.monotonic() + timeout
    while not page.evaluate(expression):
        if _time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout} s: {expression}")
        page.wait_for_timeout(100)


def browser_login(page, base: str, username: str, password: str = PASSWORD) -> None:
    """Sign in through the login page, as a person would, and wait until the login page is left."""
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
