"""The API contract, checked from outside: schemathesis reads /api/v1/openapi.json from the served app
(PostgreSQL) and calls every operation — explicit examples, the coverage phase's edge and invalid values,
random fuzzing, then the stateful phase that chains operations through the links it infers (create a
student, then read it, change it…) — once as a school admin and once as a homeroom teacher, with the session
cookie and the CSRF header a browser sends. Every response must be no server error, carry a documented
status and content type, match its declared schema, and every time in it must carry its zone.

Bounded: ``MAX_EXAMPLES`` random cases per operation (five times as many stateful scenarios), a fixed seed,
and a time budget per role that schemathesis shares out among its phases (about 3 minutes in all)."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.conftest import PASSWORD, login_of

ROOT = Path(__file__).resolve().parents[2]
CHECKS = ["not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_schema_conformance", "timestamps_carry_their_zone"]
MAX_EXAMPLES = int(os.environ.get("JIZUO_FUZZ_EXAMPLES", "8"))
SECONDS = int(os.environ.get("JIZUO_FUZZ_SECONDS", "75"))  # per role; the run stops there, whatever is left
SEED = os.environ.get("JIZUO_FUZZ_SEED", "20260613")


def signed_in(base: str, username: str) -> requests.Session:
    """Log in as a browser does: a session holding the cookie, and the CSRF header for writes."""
    http = requests.Session()
    form = http.get(f"{base}/login", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    resp = http.post(f"{base}/login", data={"username": username, "password": PASSWORD, "csrf_token": token},
                     allow_redirects=False, timeout=10)
    assert resp.status_code == 302 and "2fa" not in resp.headers["Location"], resp.text[:300]
    http.headers["X-CSRFToken"] = http.get(f"{base}/api/v1/me", timeout=10).json()["csrf_token"]
    return http


def config(http: requests.Session, base: str) -> str:
    """schemathesis.toml: real ids the caller reaches for the path parameters that name people and classes (so
    the calls get past the lookup to what they do; a made-up id is only ever a 404), fewer random cases per
    operation than stateful scenarios (the chains through links go deeper)."""
    api = f"{base}/api/v1"
    student = http.get(f"{api}/students?per_page=1", timeout=10).json()["items"][0]
    guardian = http.get(f"{api}/students/{student['id']}/guardians", timeout=10).json()["items"][0]
    ids = {"student_id": student["id"], "class_id": student["class_id"], "unit_id": student["class_id"],
           "guardian_id": guardian["id"]}
    staff = http.get(f"{api}/staff?per_page=1", timeout=10)
    if staff.status_code == 200:
        ids["staff_id"] = staff.json()["items"][0]["id"]
    lines = ["[parameters]"] + [f'"path.{k}" = {v}' for k, v in sorted(ids.items())]
    lines += ["", "[phases.fuzzing.generation]", f"max-examples = {MAX_EXAMPLES}",
              "", "[phases.stateful.generation]", f"max-examples = {MAX_EXAMPLES * 5}"]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("role", ["school_admin", "homeroom_teacher"])
def test_every_operation_keeps_the_contract(template, demo, live_server, role, tmp_path):
    if template.backend != "postgresql":
        pytest.skip("the contract fuzzer runs against the PostgreSQL backend")
    http = signed_in(live_server, login_of(demo, role))
    (tmp_path / "schemathesis.toml").write_text(config(http, live_server))
    cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items())
    cmd = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(tmp_path / "schemathesis.toml"), "run",
           f"{live_server}/api/v1/openapi.json",
           "--header", f"Cookie: {cookie}", "--header", f"X-CSRFToken: {http.headers['X-CSRFToken']}",
           "--checks", ",".join(CHECKS), "--seed", SEED,
           "--max-time", str(SECONDS),
           "--workers", "1",  # as fast here as two; with two, hypothesis's lambda reprs race (Python 3.11)
           "--request-timeout", "20",
           "--suppress-health-check", "all", "--output-truncate", "false", "--no-color"]
    env = os.environ | {"SCHEMATHESIS_HOOKS": "tests.contract.hooks", "PYTHONPATH": str(ROOT),
                        "HYPOTHESIS_STORAGE_DIRECTORY": str(tmp_path / "hypothesis")}
    run = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=SECONDS + 120)
    out = run.stdout + run.stderr
    summary = out[out.rfind("SUMMARY"):] if "SUMMARY" in out else out[-3000:]
    assert "Tested:" in summary, out[-3000:]  # the schema loaded and operations ran
    assert run.returncode == 0, out[-20000:]
