"""Configuration: built-in defaults, then the environment, then test overrides.

``JIZUO_DATABASE_URL`` (default: SQLite file under instance/), ``JIZUO_REDIS_URL`` (unset → embedded
in-process mode), ``JIZUO_SECRET_KEY`` (generated once and kept under instance/ when unset).
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any


def instance_dir() -> Path:
    path = Path(os.environ.get("JIZUO_INSTANCE_PATH") or Path.cwd() / "instance")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _secret_key(inst: Path) -> str:
    """Read the secret key from the environment, else from instance/secret_key (created once, mode 0600)."""
    key = os.environ.get("JIZUO_SECRET_KEY")
    if key:
        return key
    path = inst / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def normalise_db_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` and use psycopg 3 for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def load(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    overrides = dict(overrides or {})
    inst = Path(overrides.pop("INSTANCE_PATH", None) or instance_dir())
    inst.mkdir(parents=True, exist_ok=True)
    env = os.environ.get
    cfg: dict[str, Any] = {
        "INSTANCE_PATH": str(inst),
        "DATABASE_URL": env("JIZUO_DATABASE_URL") or f"sqlite:///{inst / 'jizuo.db'}",
        "REDIS_URL": env("JIZUO_REDIS_URL") or None,
        "ENV": env("JIZUO_ENV", "development"),
        "LOGIN_MAX_FAILURES": int(env("JIZUO_LOGIN_MAX_FAILURES", "5")),
        "LOGIN_LOCK_MINUTES": int(env("JIZUO_LOGIN_LOCK_MINUTES", "15")),
        "LOGIN_IP_MAX_FAILURES": int(env("JIZUO_LOGIN_IP_MAX_FAILURES", "30")),
        "LOGIN_IP_WINDOW_MINUTES": int(env("JIZUO_LOGIN_IP_WINDOW_MINUTES", "15")),
        # a browser session ends this long after its login, however active (docs/security.md)
        "SESSION_MAX_HOURS": float(env("JIZUO_SESSION_MAX_HOURS", "12")),
        "PASSWORD_HASH_FAST": False,
        "WTF_CSRF_TIME_LIMIT": None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_NAME": "jizuo_session",
        "API_MAX_PER_PAGE": 500,
        # a body above the limit gets a clear 413 before it is read (foundation/inputs.py): 2 MB for any
        # request, more for ingest uploads (a notice's attachments take their size × count)
        "MAX_CONTENT_LENGTH": int(float(env("JIZUO_MAX_BODY_MB", "2")) * 1024 * 1024),
        "UPLOAD_MAX_CONTENT_LENGTH": int(float(env("JIZUO_MAX_UPLOAD_MB", "64")) * 1024 * 1024),
        # the OIDC issuer URL as clients reach it; unset → the host of each request
        "OIDC_ISSUER": (env("JIZUO_ISSUER") or "").rstrip("/") or None,
        "LOGIN_URL": "/login",
        # message center channels (docs/messages.md): the portal webhook (HMAC-signed), SMTP, retries
        "MESSAGE_WEBHOOK_URL": env("JIZUO_MESSAGE_WEBHOOK_URL") or None,
        "MESSAGE_WEBHOOK_SECRET": env("JIZUO_MESSAGE_WEBHOOK_SECRET") or None,
        "MESSAGE_WEBHOOK_TIMEOUT": float(env("JIZUO_MESSAGE_WEBHOOK_TIMEOUT", "5")),
        "SMTP_HOST": env("JIZUO_SMTP_HOST") or None,
        "SMTP_PORT": int(env("JIZUO_SMTP_PORT", "25")),
        "SMTP_FROM": env("JIZUO_SMTP_FROM") or None,
        "SMTP_USER": env("JIZUO_SMTP_USER") or None,
        "SMTP_PASSWORD": env("JIZUO_SMTP_PASSWORD") or None,
        "SMTP_STARTTLS": env("JIZUO_SMTP_STARTTLS", "") in ("1", "true", "yes"),
        "MESSAGE_MAX_ATTEMPTS": int(env("JIZUO_MESSAGE_MAX_ATTEMPTS", "6")),
        "MESSAGE_BACKOFF": float(env("JIZUO_MESSAGE_BACKOFF", "2")),
        "MESSAGE_LEASE": float(env("JIZUO_MESSAGE_LEASE", "60")),
        "MESSAGE_REDIS_PREFIX": env("JIZUO_MESSAGE_REDIS_PREFIX", "jizuo"),
        "MESSAGE_SSE_MAX": int(env("JIZUO_MESSAGE_SSE_MAX", "4")),  # open live streams per process
        "MESSAGE_SSE_POLL": float(env("JIZUO_MESSAGE_SSE_POLL", "15")),  # stream poll while Redis is away
    }
    cfg.update(overrides)
    cfg["DATABASE_URL"] = normalise_db_url(cfg["DATABASE_URL"])
    if "SECRET_KEY" not in cfg:
        cfg["SECRET_KEY"] = _secret_key(inst)
    cfg.setdefault("SESSION_COOKIE_SECURE", cfg["ENV"] != "development")
    # how long audit rows are kept before `jizuo audit prune` may delete them: 180 days at least (等保 level 3)
    from foundation.audit_chain import retention_days

    cfg["AUDIT_RETENTION_DAYS"] = retention_days(cfg.get("AUDIT_RETENTION_DAYS", env("JIZUO_AUDIT_RETENTION_DAYS")))
    return cfg
