"""``jizuo oneroster import / export`` against the test's database."""
from __future__ import annotations

import io
import json
import zipfile

import sqlalchemy as sa

from foundation.cli.oneroster import oneroster_cmd
from foundation.models import OrgUnit, Student
from tests.oneroster.support import count


def invoke(app, args: list[str]):
    """Through ``jizuo oneroster`` once the group is registered in foundation.cli; directly until then."""
    from foundation.cli import main

    if "oneroster" in main.commands:
        return app.test_cli_runner().invoke(main, ["oneroster", *args])
    return app.test_cli_runner().invoke(oneroster_cmd, args)


def test_import_json_and_reimport(app, db_session, clean_zip):
    result = invoke(app, ["import", str(clean_zip), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["applied"] and report["errors"] == []
    assert report["counts"]["student"]["created"] == 1 and report["encodings"]["users.csv"] == "utf-8"
    assert count(db_session, Student, Student.name == "Bruce Wayne") == 1  # committed
    again = invoke(app, ["import", str(clean_zip)])
    assert again.exit_code == 0 and "student" in again.stdout and "errors 0" in again.stdout
    assert count(db_session, Student, Student.name == "Bruce Wayne") == 1


def test_import_atomic_with_errors_exits_1_and_writes_nothing(app, db_session, messy_zip):
    code = db_session.scalar(sa.select(OrgUnit.code).where(OrgUnit.kind == "school").order_by(OrgUnit.id).limit(1))
    before = count(db_session, Student)
    result = invoke(app, ["import", str(messy_zip), "--school-code", code, "--atomic"])
    assert result.exit_code == 1
    assert "error: enrollments.csv:3 [role]" in result.stdout
    assert "warning: users.csv:1 [prefferedGivenName]" in result.stdout
    assert count(db_session, Student) == before
    result = invoke(app, ["import", str(messy_zip), "--school-code", code])  # not atomic: good rows kept
    assert result.exit_code == 0, result.output
    assert count(db_session, Student) == before + 3


def test_import_unknown_school_code(app, messy_zip):
    result = invoke(app, ["import", str(messy_zip), "--school-code", "0000000000"])
    assert result.exit_code == 1 and "neither in the database nor in the bundle" in result.stdout


def test_export_one_school(app, db_session, tmp_path):
    school = db_session.scalar(sa.select(OrgUnit).where(OrgUnit.kind == "school").order_by(OrgUnit.id).limit(1))
    out = tmp_path / "school.zip"
    result = invoke(app, ["export", str(out), "--school-code", school.code])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(io.BytesIO(out.read_bytes())) as zf:
        orgs = zf.read("orgs.csv").decode()
    assert school.name in orgs and orgs.count(",school,") == 1
    assert invoke(app, ["export", str(out), "--school-code", "nope"]).exit_code != 0
