"""The ``jizuo`` command: init migrates, demo builds a deterministic district, accounts administration."""
from __future__ import annotations

import hashlib
import json

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from click.testing import CliRunner

from foundation import create_app
from foundation.cli import main
from foundation.db import Base
from foundation.migrate import alembic_config, current, head
from foundation.models import Student


def _env(tmp_path, name: str) -> dict:
    return {"JIZUO_DATABASE_URL": f"sqlite:///{tmp_path / name}", "JIZUO_INSTANCE_PATH": str(tmp_path / "inst"),
            "JIZUO_SECRET_KEY": "cli-test-secret"}


def _digest(url: str) -> str:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(Student.student_no, Student.name, Student.sex_code, Student.ethnicity_code,
                                      Student.birth_date, Student.id_number_hash, Student.boarding)
                            .order_by(Student.school_id, Student.student_no)).all()
    engine.dispose()
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def test_demo_json_counts_logins_and_same_seed_same_district(tmp_path):
    runner = CliRunner()
    outs = []
    for name in ("a.db", "b.db"):
        result = runner.invoke(main, ["demo", "--schools", "2", "--students-per-school", "60", "--seed", "5",
                                      "--password", "Demo-pass-1", "--json"], env=_env(tmp_path, name))
        assert result.exit_code == 0, result.output
        outs.append(json.loads(result.stdout))
    out = outs[0]
    assert out["counts"]["schools"] == 2 and out["counts"]["students"] == 120
    assert out["counts"]["staff"] > 0 and out["counts"]["guardians"] >= 120
    roles = {entry["role"] for entry in out["logins"]}
    # the core's roles, and the first-party plugins' own (the aid officer, the wellbeing lead), each with a login
    assert roles == {"district_admin", "school_admin", "homeroom_teacher", "subject_teacher", "psychology_teacher",
                     "life_instructor", "grade_head", "dean", "principal", "student_cadre", "student", "parent",
                     "aid_officer", "wellbeing_lead"}
    assert outs[0]["logins"] == outs[1]["logins"]
    # the first-party plugins come installed, with a term of their demo data (conduct history)
    assert out["plugins"] == ["afterschool", "aid", "learning", "points", "wellbeing"]
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'a.db'}")
    with engine.connect() as conn:
        installs = conn.execute(sa.text("SELECT count(*) FROM plugin_installs WHERE plugin = 'points'")).scalar()
        entries = conn.execute(sa.text("SELECT count(DISTINCT student_id) FROM points_entries")).scalar()
        cases = conn.execute(sa.text("SELECT count(*) FROM alert_cases WHERE rule_key = 'points.weekly_drop'")).scalar()
    engine.dispose()
    assert installs == 2 and entries > 60 and cases > 0  # a few students fall fast: their alerts are open
    assert _digest(f"sqlite:///{tmp_path / 'a.db'}") == _digest(f"sqlite:///{tmp_path / 'b.db'}")
    again = runner.invoke(main, ["demo", "--password", "Demo-pass-1"], env=_env(tmp_path, "a.db"))
    assert again.exit_code != 0 and "already" in again.output
    # the printed logins work with the printed password
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}", "SECRET_KEY": "cli-test-secret",
                      "INSTANCE_PATH": str(tmp_path / "inst")})
    client = app.test_client()
    import re

    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    resp = client.post("/login", data={"username": out["logins"][1]["username"], "password": "Demo-pass-1",
                                       "csrf_token": token})
    assert resp.status_code == 302


def test_demo_rejects_a_weak_password(tmp_path):
    result = CliRunner().invoke(main, ["demo", "--password", "12345678"], env=_env(tmp_path, "w.db"))
    assert result.exit_code != 0 and "password" in result.output


def test_init_migrates_to_head_and_models_match_the_migrations(tmp_path):
    env = _env(tmp_path, "m.db") | {"JIZUO_PLUGINS": ""}  # the core alone: plugins bring tables of their own
    result = CliRunner().invoke(main, ["init"], env=env)
    assert result.exit_code == 0, result.output
    url = env["JIZUO_DATABASE_URL"]
    assert head() in current(url)
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == [], "models changed without a migration"
    assert alembic_config(url).get_main_option("script_location").endswith("migrations")


def test_accounts_create_set_password_and_list(runner, demo):
    result = runner.invoke(["accounts", "create", "it.zhang", "--name", "张工", "--role", "district_admin",
                                 "--org-unit", "310105000", "--password", "Strong-pass-9"])
    assert result.exit_code == 0, result.output
    bad = runner.invoke(["accounts", "create", "it.li", "--name", "李", "--role", "district_admin",
                              "--org-unit", "310105000", "--password", "short"])
    assert bad.exit_code != 0 and "8" in bad.output
    wrong_unit = runner.invoke(["accounts", "create", "it.wu", "--name", "吴", "--role", "nope",
                                     "--org-unit", "310105000", "--password", "Strong-pass-9"])
    assert wrong_unit.exit_code != 0 and "unknown role" in wrong_unit.output
    listed = runner.invoke(["accounts", "list", "--role", "district_admin"])
    assert "it.zhang" in listed.output and "district_admin" in listed.output
    assert runner.invoke(["accounts", "set-password", "it.zhang", "--password", "Other-pass-8"]).exit_code == 0
    assert runner.invoke(["accounts", "set-password", "ghost", "--password", "Other-pass-8"]).exit_code != 0


def test_grant_makes_a_teacher_homeroom_teacher_of_another_class(runner, demo, app, auth, db_session):
    from foundation.models import OrgUnit
    from tests.conftest import login_of

    teacher = login_of(demo, "subject_teacher")
    school = next(e["school_id"] for e in demo["logins"] if e["username"] == teacher)
    klass = db_session.scalar(sa.select(OrgUnit).where(OrgUnit.kind == "class", OrgUnit.school_id == school)
                              .order_by(OrgUnit.id.desc()))
    wrong = runner.invoke(["accounts", "grant", teacher, "--role", "homeroom_teacher", "--org-unit",
                           db_session.get(OrgUnit, school).code])
    assert wrong.exit_code != 0 and "class or a grade" in wrong.output
    klass.code = klass.code or f"TEST-{klass.id}"
    db_session.commit()
    ok = runner.invoke(["accounts", "grant", teacher, "--role", "homeroom_teacher", "--org-unit", klass.code])
    assert ok.exit_code == 0, ok.output
    auth.login(teacher)
    seen = {s["class_id"] for s in auth.get("/api/v1/students?per_page=500").get_json()["items"]}
    assert klass.id in seen
    assert runner.invoke(["accounts", "revoke", teacher, "--role", "homeroom_teacher", "--org-unit",
                          klass.code]).exit_code == 0
    auth.login(teacher)
    roles = auth.get("/api/v1/me").get_json()["roles"]
    assert ("homeroom_teacher", klass.id) not in {(r["role"], r["org_unit_id"]) for r in roles}


def test_serve_refuses_a_database_that_was_never_initialised(tmp_path):
    result = CliRunner().invoke(main, ["serve", "--port", "0"], env=_env(tmp_path, "empty.db"))
    assert result.exit_code != 0 and "jizuo init" in result.output
