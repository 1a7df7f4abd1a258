"""``jizuo plugin new`` writes a plugin that works: the files a vendor gets, lint-clean and importing only
``foundation.plugin_api``; imported by path (not pip-installed), registered on a host, published in the app
square, installed through the API in ONE school (its migration runs), then its page and API for a teacher
of that school, 404 for the other school, 422 naming the field; and its own two-school test, run as a
vendor would run it (a subprocess, with ``foundation.testing``)."""
from __future__ import annotations

import ast
import importlib
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from foundation.testing import close, install, plugin_app, publish
from tests.conftest import SECRET

NAME, PACKAGE = "demo_notes", "jizuo_demo_notes"
NOTES = f"/{NAME}/api/students/{{}}/notes"
FILES = {"pyproject.toml", "README.md", "tests/conftest.py", "tests/test_isolation.py",
         *(f"{PACKAGE}/{f}" for f in ("__init__.py", "models.py", "views.py", "api.py", "locales/zh.json",
                                      "locales/en.json", f"migrations/{NAME}_0001_notes.py",
                                      f"templates/{NAME}/index.html", f"templates/{NAME}/student.html",
                                      f"static/{NAME}.js"))}


@dataclass
class Scaffolded:
    root: Path
    output: str
    plugin: Any


@pytest.fixture(scope="session")
def scaffolded(tmp_path_factory) -> Scaffolded:
    """``jizuo plugin new demo_notes``, the package imported from its folder: once per session, since its
    model, once mapped on ``PluginBase``, cannot be mapped again in this process (the backends take turns
    across modules). At the end the folder leaves ``sys.path`` and the package ``sys.modules``."""
    from foundation.cli import main

    where = tmp_path_factory.mktemp("vendor")
    result = CliRunner().invoke(main, ["plugin", "new", NAME, "--dir", str(where), "--vendor", "示例厂商"])
    assert result.exit_code == 0, result.output
    root = where / f"jizuo-{NAME}"
    sys.path.insert(0, str(root))
    try:
        yield Scaffolded(root, result.output, importlib.import_module(PACKAGE).plugin)
    finally:
        sys.path.remove(str(root))
        for module in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[module]


@pytest.fixture(scope="module", autouse=True)
def tidy():
    """After this module, the tests that follow see the platform without the plugin: its table leaves the
    plugins' MetaData, its capabilities the catalogue (the mapper stays, unused: SQLAlchemy has no public
    way to unmap one class, and the tenancy layer caches the scoped models)."""
    yield
    from foundation.permissions import CAPABILITIES
    from foundation.plugin_api import PluginBase

    if f"{NAME}_notes" in PluginBase.metadata.tables:
        PluginBase.metadata.remove(PluginBase.metadata.tables[f"{NAME}_notes"])
    for capability in (f"{NAME}.item.read", f"{NAME}.item.create"):
        CAPABILITIES.pop(capability, None)


@pytest.fixture
def app(template, tmp_path, scaffolded):
    """The test's app (the conftest fixtures' too) with the scaffolded plugin registered on its host."""
    url = template.copy()
    flask_app = plugin_app(url, scaffolded.plugin, tmp_path / "instance", secret_key=SECRET)
    yield flask_app
    close(flask_app)
    template.drop_copy(url)


def test_the_files_a_vendor_gets(scaffolded, runner, app, tmp_path):
    root = scaffolded.root
    assert {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()} == FILES
    assert all(f in scaffolded.output for f in ("pyproject.toml", "pip install -e", "docs/plugins.md"))
    assert f'{NAME} = "{PACKAGE}:plugin"' in (root / "pyproject.toml").read_text("utf-8")
    manifest = scaffolded.plugin.jizuo_manifest()
    assert (manifest["name"], manifest["version"], manifest["foundation"]) == (NAME, "0.1.0", ">=0.1,<1.0")
    assert manifest["capabilities"] == [f"{NAME}.item.read", f"{NAME}.item.create"]
    assert manifest["vendor"] == "示例厂商" and manifest["default_config"] == {"max_length": 500}
    migration = (root / PACKAGE / "migrations" / f"{NAME}_0001_notes.py").read_text("utf-8")
    for line in (f'revision = "{NAME}_0001"', "down_revision = None", f'branch_labels = ("{NAME}",)',
                 'depends_on = "0008_plugin_installs"', f'"{NAME}_notes"'):
        assert line in migration
    assert "{% extends \"jizuo/page.html\" %}" in (root / PACKAGE / "templates" / NAME / "index.html").read_text()

    # the platform's rules for plugins hold for the generated code: the plugin API only, no bypass, lint-clean
    bad = []
    for path in root.rglob("*.py"):
        text = path.read_text("utf-8")
        assert "unscoped" not in text, path
        for node in ast.walk(ast.parse(text)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            bad += [f"{path.name}: {n}" for n in names
                    if (n.startswith("foundation") and n != "foundation.plugin_api") or n.startswith("admin")]
    assert not bad
    ruff = Path(sys.executable).with_name("ruff")
    if ruff.exists():
        for extra in ([], ["--select", "E501"]):  # its own config (the platform's rules), then 110 columns
            lint = subprocess.run([str(ruff), "check", "--no-cache", *extra, "."], cwd=root, capture_output=True,
                                  text=True)
            assert lint.returncode == 0, lint.stdout + lint.stderr

    # refusals: a bad name, a name taken (installed, or loaded by the running app), a folder in use
    for args, why in ((["Notes"], "not a plugin name"), (["x"], "not a plugin name"), (["hello"], "already"),
                      (["api"], "platform itself"), ([NAME, "--title-zh", 'a"b'], "quotes")):
        result = runner.invoke(["plugin", "new", *args, "--dir", str(tmp_path)])
        assert result.exit_code != 0 and why in result.output, (args, result.output)
    with app.app_context():
        result = runner.invoke(["plugin", "new", NAME, "--dir", str(tmp_path)])
    assert result.exit_code != 0 and "already" in result.output
    (tmp_path / "jizuo-other").mkdir()
    (tmp_path / "jizuo-other" / "x").write_text("mine")
    result = runner.invoke(["plugin", "new", "other", "--dir", str(tmp_path)])
    assert result.exit_code != 0 and "not empty" in result.output
    assert runner.invoke(["plugin", "new", "fresh", "--dir", str(tmp_path)]).exit_code == 0


def test_installed_in_one_school_page_and_api_work_and_the_other_school_gets_404(app, users, db_session, demo):
    from foundation.models import AuditEntry

    engine = app.extensions["jizuo.engine"]
    assert not sa.inspect(engine).has_table(f"{NAME}_notes")
    admin = users("school_admin", 0)
    assert admin.get(f"/{NAME}/").status_code == 404  # loaded, not installed: as if it did not exist
    publish(users("district_admin"), NAME)
    install(admin, NAME)
    assert sa.inspect(engine).has_table(f"{NAME}_notes")  # the install ran its migration

    teacher = users("homeroom_teacher", 0)
    kid = teacher.get("/api/v1/students?per_page=1").get_json()["items"][0]["id"]
    resp = teacher.post(NOTES.format(kid), json={"text": "课堂发言积极"})
    assert resp.status_code == 201, resp.get_json()
    note = resp.get_json()
    assert [n["text"] for n in teacher.get(NOTES.format(kid)).get_json()["items"]] == ["课堂发言积极"]
    page = teacher.get(f"/{NAME}/").get_data(as_text=True)
    assert "学生笔记" in page and "课堂发言积极" in page and f'href="/{NAME}/"' in page  # its nav entry
    english = teacher.get(f"/{NAME}/students/{kid}?lang=en").get_data(as_text=True)
    assert "New note" in english and "课堂发言积极" in english
    assert db_session.scalar(sa.select(AuditEntry.school_id).where(
        AuditEntry.action == f"{NAME}.note.create", AuditEntry.resource_id == str(note["id"]))) is not None

    for bad in ({"text": ""}, {"text": "长" * 501}, {"text": ["x"]}, None):
        resp = teacher.post(NOTES.format(kid), json=bad)
        assert resp.status_code == 422 and "text" in resp.get_json()["error"]["fields"], (bad, resp.get_json())
    resp = teacher.post(NOTES.format(kid), json={"text": "x" * 501}, lang="en")
    assert resp.get_json()["error"]["fields"]["text"] == "At most 500 characters"
    assert teacher.post(NOTES.format(kid), json={"text": "a\x00b"}).status_code == 422

    for role in ("school_admin", "homeroom_teacher", "subject_teacher", "parent"):
        other = users(role, 1)
        for url in (NOTES.format(kid), f"/{NAME}/students/{kid}", f"/{NAME}/"):
            assert other.get(url).status_code == 404, (role, url)
        assert other.post(NOTES.format(kid), json={"text": "越界"}).status_code == 404, role
    assert len(teacher.get(NOTES.format(kid)).get_json()["items"]) == 1

    paths = admin.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"get", "post"} <= set(paths[f"/{NAME}/api/students/{{student_id}}/notes"])
    # the platform's isolation probe, untouched, over every route with the new plugin installed in school A only
    from tests.test_isolation_probe import probe_app

    prober = probe_app(app, demo, install=False)
    assert not prober.unfillable, prober.unfillable
    assert not prober.problems, prober.problems
    assert any(r.rule.startswith(f"/{NAME}/") for r in prober.routes)


def test_its_own_tests_pass_as_a_vendor_runs_them(scaffolded, template):
    if template.backend != "sqlite":
        pytest.skip("foundation.testing builds its district on SQLite: once is enough")
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
                         cwd=scaffolded.root, env={**os.environ, "PYTHONPATH": str(scaffolded.root)},
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "3 passed" in run.stdout, run.stdout
