"""``/healthz`` reports the database and, when configured, Redis — against the real servers."""
from __future__ import annotations

import os

import pytest

from foundation import create_app


def test_healthz_reports_the_database(client, template):
    body = client.get("/healthz").get_json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == body["checks"]["database"] | {"status": "ok", "backend": template.backend}
    assert body["checks"]["redis"] == {"status": "embedded"}


@pytest.mark.skipif(not os.environ.get("JIZUO_TEST_REDIS_URL"), reason="JIZUO_TEST_REDIS_URL not set")
def test_healthz_reports_a_real_redis(app):
    app.config["REDIS_URL"] = os.environ["JIZUO_TEST_REDIS_URL"]
    body = app.test_client().get("/healthz").get_json()
    assert body["checks"]["redis"]["status"] == "ok"


def test_healthz_says_503_when_redis_is_unreachable(app):
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    resp = app.test_client().get("/healthz")
    assert resp.status_code == 503
    assert resp.get_json()["checks"]["redis"]["status"] == "down"


def test_healthz_says_503_when_the_database_is_unreachable(tmp_path):
    app = create_app({"DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none", "SECRET_KEY": "x",
                      "INSTANCE_PATH": str(tmp_path)})
    resp = app.test_client().get("/healthz")
    assert resp.status_code == 503
    assert resp.get_json()["checks"]["database"]["status"] == "down"
