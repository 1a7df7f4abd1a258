"""The example third-party plugin ``jizuo-hello``, installed as its own distribution, end to end through
the public plugin API: install with a validated config, its page and API gated per school, capabilities
granted per role, events of enabled schools only, uninstall with and without purge; and broken plugins
left out with a reason."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic import command

from foundation.hookspecs import hookimpl
from foundation.migrate import alembic_config
from foundation.models import DataSource, OrgUnit, Student
from foundation.oidc.scopes import capabilities_of
from foundation.permissions import CAPABILITIES
from foundation.pluginhost import PluginHost

API = "/api/v1/plugins"


@pytest.fixture
def schools(db_session) -> list[int]:
    return sorted(db_session.scalars(sa.select(OrgUnit.id).where(OrgUnit.kind == "school")))


def scalar(app, sql: str, **params):
    with app.extensions["jizuo.engine"].connect() as conn:
        return conn.execute(sa.text(sql), params).scalar()


def has_table(app, name: str) -> bool:
    return sa.inspect(app.extensions["jizuo.engine"]).has_table(name)


def install(admin, config=None):
    resp = admin.post(f"{API}/hello/install", json={"config": config or {"greeting": "欢迎"}})
    assert resp.status_code == 201, resp.get_json()
    return resp


def test_the_plugin_is_loaded_from_its_own_distribution(app):
    host = app.extensions["jizuo.plugins"]
    loaded = host.loaded["hello"]
    assert "jizuo-hello" in loaded.origin
    assert loaded.manifest["version"] == "0.1.0"
    assert [f for f in host.failures if f.name == "hello"] == []
    assert host.call("hello", "jizuo_form_templates")[0]["id"] == "hello_feedback"
    assert "hello.greeting.create" in CAPABILITIES
    assert capabilities_of("hello.read") == {"hello.greeting.read"}
    anonymous = app.test_client()
    assert anonymous.get("/hello/api/greetings").status_code == 401
    assert anonymous.get("/hello/").status_code == 302


def test_install_page_api_and_isolation(app, login):
    # the template database has every head applied: take the plugin's branch back so install must migrate
    command.downgrade(alembic_config(app.config["DATABASE_URL"]), "hello@base")
    assert not has_table(app, "hello_greetings")

    admin = login("school_admin", 0)
    listed = {p["name"]: p for p in admin.get(API).get_json()["items"]}
    assert listed["hello"]["install"] is None and "jizuo-hello" in listed["hello"]["origin"]
    assert admin.get("/hello/").status_code == 404
    assert admin.get("/hello/api/greetings").status_code == 404

    resp = admin.post(f"{API}/hello/install", json={"config": {"greeting": "x" * 50}})
    assert resp.status_code == 422 and "config.greeting" in resp.get_json()["error"]["fields"]
    install(admin)
    assert has_table(app, "hello_greetings") and has_table(app, "hello_late_counts")

    assert "欢迎" in admin.get("/hello/").get_data(as_text=True)
    resp = admin.post("/hello/api/greetings", json={"text": ""})
    assert resp.status_code == 422 and "text" in resp.get_json()["error"]["fields"]
    assert admin.post("/hello/api/greetings", json={"text": "x" * 201}).status_code == 422
    assert admin.post("/hello/api/greetings", json={"text": "早上好"}).status_code == 201
    assert [g["text"] for g in admin.get("/hello/api/greetings").get_json()["items"]] == ["早上好"]
    assert "早上好" in admin.get("/hello/").get_data(as_text=True)

    other = login("school_admin", 1)
    assert other.get("/hello/").status_code == 404
    assert other.get("/hello/api/greetings").status_code == 404
    install(other, {"greeting": "您好"})
    assert other.get("/hello/api/greetings").get_json()["items"] == []
    assert "早上好" not in other.get("/hello/").get_data(as_text=True)

    reader = login("subject_teacher", 0)
    assert [g["text"] for g in reader.get("/hello/api/greetings").get_json()["items"]] == ["早上好"]
    assert reader.post("/hello/api/greetings", json={"text": "hi"}).status_code == 403
    writer = login("homeroom_teacher", 0)
    assert writer.post("/hello/api/greetings", json={"text": "同学们好"}).status_code == 201
    parent = login("parent", 0)
    assert parent.get("/hello/api/greetings").status_code in (403, 404)
    assert parent.post("/hello/api/greetings", json={"text": "hi"}).status_code in (403, 404)


def test_disable_enable_and_config(login):
    admin = login("school_admin", 0)
    install(admin)
    assert admin.post(f"{API}/hello/disable", json={"reason": "试用结束"}).status_code == 200
    assert admin.get("/hello/").status_code == 404
    assert admin.get("/hello/api/greetings").status_code == 404
    assert admin.post(f"{API}/hello/enable").status_code == 200
    assert admin.get("/hello/").status_code == 200

    resp = admin.put(f"{API}/hello/config", json={"config": {"greeting": "欢迎", "max_per_day": 0}})
    assert resp.status_code == 422 and "config.max_per_day" in resp.get_json()["error"]["fields"]
    resp = admin.put(f"{API}/hello/config", json={"config": {"greeting": "早安", "max_per_day": 1}})
    assert resp.status_code == 200 and resp.get_json()["install"]["config"]["max_per_day"] == 1
    assert "早安" in admin.get("/hello/").get_data(as_text=True)
    assert admin.post("/hello/api/greetings", json={"text": "一"}).status_code == 201
    assert admin.post("/hello/api/greetings", json={"text": "二"}).status_code == 422  # one a day now


def test_late_attendance_is_counted_for_enabled_schools_only(app, login, db_session, schools, request):
    db_session.add(DataSource(code="classroom_terminal", name="班牌考勤"))
    db_session.commit()
    a, b = schools[:2]
    other = login("school_admin", 1)
    install(other)
    assert other.post(f"{API}/hello/disable", json={"reason": "试用结束"}).status_code == 200
    install(login("school_admin", 0))

    when = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    for index, school in ((0, a), (1, b)):
        kid = db_session.scalar(sa.select(Student).where(Student.school_id == school).order_by(Student.id))
        resp = login("school_admin", index).post("/api/v1/ingest/attendance?source=classroom_terminal", json=[
            {"source_id": f"late-{school}", "student": kid.student_no, "occurred_at": when, "status": "late"},
            {"source_id": f"ok-{school}", "student": kid.student_no, "occurred_at": when, "status": "present"}])
        assert resp.status_code == 200 and resp.get_json()["created"] == 2, resp.get_json()

    count = "SELECT count FROM hello_late_counts WHERE school_id = :s"
    assert scalar(app, count, s=a) == 1
    assert scalar(app, count, s=b) is None


def test_uninstall_keeps_data_unless_purged(app, login, schools):
    admin = login("school_admin", 0)
    install(admin)
    assert admin.post("/hello/api/greetings", json={"text": "留下来"}).status_code == 201
    rows = "SELECT count(*) FROM hello_greetings WHERE school_id = :s"

    assert admin.delete(f"{API}/hello", json={"reason": "不再使用"}).status_code == 204
    assert admin.get("/hello/").status_code == 404
    assert scalar(app, rows, s=schools[0]) == 1
    install(admin)
    assert [g["text"] for g in admin.get("/hello/api/greetings").get_json()["items"]] == ["留下来"]

    assert admin.delete(f"{API}/hello?purge=true", json={"reason": "不再使用，数据清除"}).status_code == 204
    assert scalar(app, rows, s=schools[0]) == 0


# ---- broken plugins -------------------------------------------------------------------------------------
def _manifest(**changes) -> dict:
    base = {"name": "demo", "version": "1.0.0", "title": {"zh": "示例", "en": "Demo"},
            "description": {"zh": "示例插件", "en": "A demo plugin"}, "foundation": ">=0.1,<1.0"}
    return base | changes


class Plugin:
    def __init__(self, manifest: dict) -> None:
        self.manifest = manifest

    @hookimpl
    def jizuo_manifest(self) -> dict:
        return self.manifest


class Misspelt(Plugin):
    @hookimpl
    def jizuo_manifets(self) -> dict:
        return self.manifest


def test_broken_plugins_are_left_out_with_a_reason():
    host = PluginHost()
    assert host.register(Plugin(_manifest(name="no_en", title={"zh": "缺英文"})), "no_en") is False
    assert host.register(Plugin(_manifest(name="future", foundation=">=5.0")), "future") is False
    assert host.register(Misspelt(_manifest(name="typo")), "typo") is False
    assert host.register(Plugin(_manifest(name="fine")), "fine") is True

    reasons = {f.name: f.reason for f in host.failures}
    assert set(reasons) == {"no_en", "future", "typo"} and set(host.loaded) == {"fine"}
    assert "title" in reasons["no_en"] and "'en' is a required property" in reasons["no_en"]
    assert ">=5.0" in reasons["future"]
    assert "jizuo_manifets" in reasons["typo"]


def test_the_plugins_form_template_is_offered_to_clone(app, login):
    from foundation import db
    from foundation.lowcode.forms import seed_templates
    from foundation.tenancy import unscoped

    with app.app_context():
        assert seed_templates(unscoped("test setup").mark(db.session())) >= 1
        db.session().commit()
    teacher = login("homeroom_teacher", 0)
    titles = {f["title"]["zh"] for f in teacher.get("/api/v1/forms").get_json()["items"] if f["school_id"] is None}
    assert "问候反馈" in titles and "班级请假申请" in titles
