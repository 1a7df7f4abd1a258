"""The outside channels' configuration (webhook, SMTP, retries), read from the app config. Its own module
so that sending (service.py), the channels, the queue and the worker all read it from below, and none of
them has to reach into another for it."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, has_app_context

# attachments of a notice (config MESSAGE_ATTACHMENT_MAX_MB / MESSAGE_ATTACHMENT_MAX_FILES override the sizes):
# what a parent's phone shows inline or opens, nothing that runs; the type is read from the content
ATTACHMENT_MAX_MB = 10
ATTACHMENT_MAX_FILES = 5
ATTACHMENT_TYPES = {"image/png": (".png",), "image/jpeg": (".jpg", ".jpeg"), "image/webp": (".webp",),
                    "application/pdf": (".pdf",)}


@dataclass(frozen=True)
class Settings:
    """The channels' configuration, read from the app config (config.py: JIZUO_MESSAGE_*, JIZUO_SMTP_*)."""

    webhook_url: str | None = None
    webhook_secret: str | None = None
    webhook_timeout: float = 5.0
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str = "jizuo@localhost"
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    max_attempts: int = 6
    backoff: float = 2.0
    lease: float = 60.0
    attachment_max_bytes: int = ATTACHMENT_MAX_MB * 1024 * 1024
    attachment_max_files: int = ATTACHMENT_MAX_FILES

    @classmethod
    def of(cls, config) -> Settings:
        get = config.get
        return cls(webhook_url=get("MESSAGE_WEBHOOK_URL"), webhook_secret=get("MESSAGE_WEBHOOK_SECRET"),
                   webhook_timeout=float(get("MESSAGE_WEBHOOK_TIMEOUT", 5)), smtp_host=get("SMTP_HOST"),
                   smtp_port=int(get("SMTP_PORT", 25)), smtp_from=get("SMTP_FROM") or "jizuo@localhost",
                   smtp_user=get("SMTP_USER"), smtp_password=get("SMTP_PASSWORD"),
                   smtp_starttls=bool(get("SMTP_STARTTLS", False)),
                   max_attempts=int(get("MESSAGE_MAX_ATTEMPTS", 6)), backoff=float(get("MESSAGE_BACKOFF", 2)),
                   lease=float(get("MESSAGE_LEASE", 60)),
                   attachment_max_bytes=int(float(get("MESSAGE_ATTACHMENT_MAX_MB", ATTACHMENT_MAX_MB)) * 1024 * 1024),
                   attachment_max_files=int(get("MESSAGE_ATTACHMENT_MAX_FILES", ATTACHMENT_MAX_FILES)))

    def configured(self, channel: str) -> bool:
        if channel == "webhook":
            return bool(self.webhook_url and self.webhook_secret)
        if channel == "email":
            return bool(self.smtp_host)
        return True


def settings() -> Settings:
    """The current app's settings; outside an app context the defaults (no outside channel configured)."""
    return Settings.of(current_app.config) if has_app_context() else Settings()
