"""Test fixtures for a plugin's own tests, outside this repository: a pytest plugin. In the plugin's
``tests/conftest.py`` (``jizuo plugin new`` writes this)::

    pytest_plugins = ["foundation.testing"]

    @pytest.fixture(scope="session")
    def jizuo_plugin():
        from jizuo_notes import plugin
        return plugin

Fixtures:

- ``jizuo_district`` (once per session): a demo district on SQLite — 2 schools × 40 students with their
  staff and parents, one login per role and school (``jizuo_district.login("parent", 1)``), every password
  :data:`PASSWORD`, fast hashing. Each test works on a copy of it.
- ``app``: the platform with the plugin registered beside the installed ones, published in the app square
  by the district and installed (through the API, so its migration runs) in the schools
  ``jizuo_install_in`` names: school index 0, unless a test says otherwise with
  ``@pytest.mark.parametrize("jizuo_install_in", [(0, 1)])``. ``jizuo_config`` is the configuration the
  school admin installs it with (``{}``: the manifest's defaults).
- ``users("homeroom_teacher", 1)``: a signed-in :class:`Client` of that school's demo person.

The helpers under them (:func:`build_district`, :func:`plugin_app`, :func:`publish`, :func:`install`,
:class:`Client`) work on any demo district; the platform's own tests use them too.
"""
from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

PASSWORD = "Plugin-test-2026"
SECRET = "plugin-test-secret-not-for-production"


@dataclass
class District:
    """A demo district in a SQLite file: what ``build_demo`` returned (its logins) and their password."""

    path: Path
    logins: list[dict[str, Any]]
    password: str = PASSWORD

    def login(self, role: str, school: int = 0) -> str:
        return login_of(self.logins, role, school)

    def copy(self, dest: Path) -> str:
        shutil.copy(self.path, dest)
        return f"sqlite:///{dest}"


def login_of(logins: list[dict[str, Any]], role: str, school: int = 0) -> str:
    """The demo username holding ``role`` in the ``school``-th school (district roles ignore it)."""
    schools = sorted({e["school_id"] for e in logins if e["school_id"] is not None})
    for e in logins:
        if e["role"] == role and (e["school_id"] is None or e["school_id"] == schools[school]):
            return e["username"]
    raise LookupError(f"no demo login for {role} in school {school}")


def build_district(workdir: Path, schools: int = 2, students_per_school: int = 40, seed: int = 7) -> District:
    """Migrate a new SQLite database (the core and the installed plugins) and fill a demo district."""
    from foundation.db import make_engine
    from foundation.demo import build_demo
    from foundation.migrate import upgrade

    path = workdir / "district.db"
    upgrade(f"sqlite:///{path}")
    engine = make_engine(f"sqlite:///{path}")
    try:
        demo = build_demo(engine, schools=schools, students_per_school=students_per_school, seed=seed,
                          password=PASSWORD, secret_key=SECRET, fast_hash=True)
    finally:
        engine.dispose()
    return District(path, demo["logins"])


def plugin_app(url: str, plugin: Any, instance: Path, secret_key: str = SECRET, **config: Any) -> Flask:
    """The platform on ``url`` with ``plugin`` registered beside the installed plugins (as a vendor's would
    be after ``pip install``)."""
    from foundation import create_app
    from foundation.pluginhost import discover

    name = plugin.jizuo_manifest()["name"]
    host = discover()
    if name not in host.loaded and not host.register(plugin, name):
        raise RuntimeError(f"plugin {name} left out: {[f.reason for f in host.failures if f.name == name]}")
    return create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": secret_key, "PASSWORD_HASH_FAST": True,
                       "INSTANCE_PATH": str(instance), "REDIS_URL": None, "PLUGIN_HOST": host, **config})


def close(app: Flask) -> None:
    for stop in app.extensions.get("jizuo.plugin_unsubscribe", []):
        stop()
    app.extensions["jizuo.engine"].dispose()


class Client:
    """A person signed in through the login page, as in a browser; every call carries the CSRF token."""

    def __init__(self, app: Flask, username: str, password: str) -> None:
        self.client = app.test_client()
        page = self.client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        resp = self.client.post("/login", data={"username": username, "password": password, "csrf_token": token})
        if resp.status_code != 302 or resp.headers["Location"].startswith("/login"):
            raise AssertionError(f"{username} could not sign in ({resp.status_code})")
        self.csrf = self.client.get("/api/v1/me").get_json()["csrf_token"]

    def open(self, method: str, url: str, json: Any = None, lang: str | None = None):
        headers = {"X-CSRFToken": self.csrf} | ({"Accept-Language": lang} if lang else {})
        return self.client.open(url, method=method, json=json, headers=headers)

    def get(self, url: str, lang: str | None = None):
        return self.open("GET", url, lang=lang)

    def post(self, url: str, json: Any = None, lang: str | None = None):
        return self.open("POST", url, json, lang)

    def put(self, url: str, json: Any = None, lang: str | None = None):
        return self.open("PUT", url, json, lang)

    def delete(self, url: str, lang: str | None = None):
        return self.open("DELETE", url, lang=lang)


def publish(district_admin: Client, name: str) -> None:
    """The district reviews and publishes the plugin in the app square (应用广场)."""
    items = district_admin.get("/api/v1/square").get_json()["items"]
    listing = next(i for i in items if i["kind"] == "plugin" and i["key"] == name)
    for action in {"submitted": ("review", "publish"), "in_review": ("publish",)}.get(listing["status"], ()):
        resp = district_admin.post(f"/api/v1/square/{listing['id']}/{action}", json={"reason": "test"})
        assert resp.status_code == 200, resp.get_json()


def install(school_admin: Client, name: str, config: dict[str, Any] | None = None) -> dict:
    """The school admin installs the plugin (its migration runs; the config is validated)."""
    resp = school_admin.post(f"/api/v1/plugins/{name}/install", json={"config": config or {}})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


# ---- the fixtures ----------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def jizuo_plugin() -> Any:
    pytest.fail("define a session fixture `jizuo_plugin` in your conftest.py returning the plugin object")


@pytest.fixture
def jizuo_install_in() -> tuple[int, ...]:
    return (0,)


@pytest.fixture
def jizuo_config() -> dict[str, Any]:
    return {}


@pytest.fixture(scope="session")
def jizuo_district(tmp_path_factory: pytest.TempPathFactory) -> District:
    return build_district(tmp_path_factory.mktemp("jizuo"))


@pytest.fixture
def app(jizuo_district: District, jizuo_plugin: Any, jizuo_install_in: tuple[int, ...],
        jizuo_config: dict[str, Any], tmp_path: Path) -> Iterator[Flask]:
    flask_app = plugin_app(jizuo_district.copy(tmp_path / "jizuo.db"), jizuo_plugin, tmp_path / "instance")
    try:
        name, password = jizuo_plugin.jizuo_manifest()["name"], jizuo_district.password
        publish(Client(flask_app, jizuo_district.login("district_admin"), password), name)
        for school in jizuo_install_in:
            install(Client(flask_app, jizuo_district.login("school_admin", school), password), name, jizuo_config)
        yield flask_app
    finally:
        close(flask_app)


@pytest.fixture
def users(app: Flask, jizuo_district: District):
    """``users(role, school_index=0)`` → a signed-in :class:`Client` (one per person and test)."""
    cache: dict[tuple[str, int], Client] = {}

    def user(role: str, school: int = 0) -> Client:
        if (role, school) not in cache:
            cache[(role, school)] = Client(app, jizuo_district.login(role, school), jizuo_district.password)
        return cache[(role, school)]

    return user
