"""``GET /healthz``: database (and Redis, when configured) status for load balancers and IT staff."""
from __future__ import annotations

import time

import sqlalchemy as sa
from flask import Flask, current_app, jsonify

from foundation import db
from foundation.version import __version__


def _check_db() -> dict:
    start = time.perf_counter()
    try:
        with db.engine().connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        return {"status": "ok", "backend": db.engine().dialect.name,
                "latency_ms": round((time.perf_counter() - start) * 1000, 2)}
    except Exception as exc:  # noqa: BLE001 - any failure is "down", reported
        return {"status": "down", "backend": db.engine().dialect.name, "error": type(exc).__name__}


def _check_redis(url: str) -> dict:
    import redis

    start = time.perf_counter()
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        client.ping()
        client.close()
        return {"status": "ok", "latency_ms": round((time.perf_counter() - start) * 1000, 2)}
    except Exception as exc:  # noqa: BLE001
        return {"status": "down", "error": type(exc).__name__}


def init_app(app: Flask) -> None:
    @app.get("/healthz")
    def healthz():
        checks = {"database": _check_db()}
        url = current_app.config.get("REDIS_URL")
        checks["redis"] = _check_redis(url) if url else {"status": "embedded"}
        ok = all(c["status"] in ("ok", "embedded") for c in checks.values())
        from foundation.events import failures

        # failed event deliveries since this process started (their writes were rolled back): a plugin's
        # subscriber that keeps failing shows here before anyone misses its data
        failed = failures()
        body = {"status": "ok" if ok else "degraded", "version": __version__, "checks": checks,
                "event_failures": {"total": sum(failed.values()), "by_subscriber": failed}}
        return jsonify(body), 200 if ok else 503
