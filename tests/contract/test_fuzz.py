"""The API contract, checked from outside: schemathesis reads /api/v1/openapi.json from the served app
(PostgreSQL) and calls every operation — explicit examples, the coverage phase's edge and invalid values,
random fuzzing, then the stateful phase that chains operations through the links it infers (create a
student, then read it, change it…) — once as a school admin and once as a homeroom teacher, with the session
cookie and the CSRF header a browser sends. Every response must be no server error, carry a documented
status and content type, match its declared schema, and every time in it must carry its zone.

Bounded: ``MAX_EXAMPLES`` cases per operation and phase, a fixed seed, and a time limit per role."""
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
SECONDS = int(os.environ.get("JIZUO_FUZZ_SECONDS", "90"))  # per role; the run stops there, whatever is left
SEED = os.environ.get("JIZUO_FUZZ_SEED", "20260613")


def signed_in(base: str, username: str) -> tuple[str, str]:
    """Log in as a browser does; the session cookie and the CSRF token for writes."""
    http = requests.Session()
    form = http.get(f"{base}/login", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    resp = http.post(f"{base}/login", data={"username": username, "password": PASSWORD, "csrf_token": token},
                     allow_redirects=False, timeout=10)
    assert resp.status_code == 302 and "2fa" not in resp.headers["Location"], resp.text[:300]
    csrf = http.get(f"{base}/api/v1/me", timeout=10).json()["csrf_token"]
    return "; ".join(f"{k}={v}" for k, v in http.cookies.items()), csrf


@pytest.mark.parametrize("role", ["school_admin", "homeroom_teacher"])
def test_every_operation_keeps_the_contract(template, demo, live_server, role, tmp_path):
    if template.backend != "postgresql":
        pytest.skip("the contract fuzzer runs against the PostgreSQL backend")
    cookie, csrf = signed_in(live_server, login_of(demo, role))
    cmd = [sys.executable, "-m", "schemathesis.cli", "run", f"{live_server}/api/v1/openapi.json",
           "--header", f"Cookie: {cookie}", "--header", f"X-CSRFToken: {csrf}",
           "--checks", ",".join(CHECKS), "--max-examples", str(MAX_EXAMPLES), "--seed", SEED,
           "--max-time", str(SECONDS), "--workers", "2", "--request-timeout", "20",
           "--suppress-health-check", "all", "--output-truncate", "false", "--no-color"]
    env = os.environ | {"SCHEMATHESIS_HOOKS": "tests.contract.hooks", "PYTHONPATH": str(ROOT),
                        "HYPOTHESIS_STORAGE_DIRECTORY": str(tmp_path / "hypothesis")}
    run = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=SECONDS + 120)
    out = run.stdout + run.stderr
    summary = out[out.rfind("SUMMARY"):] if "SUMMARY" in out else out[-3000:]
    assert "Tested:" in summary, out[-3000:]  # the schema loaded and operations ran
    assert run.returncode == 0, out[-20000:]
