"""Writing the audit log. Sensitive reads and every change call :func:`record`; the row joins the
request's transaction, which the request boundary commits when the answer is a success (so a read that
was answered always leaves its trace, and a change that failed leaves none)."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from flask import g, has_request_context, request

from foundation import db
from foundation.models.audit import AuditEntry

if TYPE_CHECKING:
    from foundation.models import Account


def record(
    action: str,
    resource_type: str | None = None,
    resource_id: Any = None,
    *,
    school_id: int | None = None,
    detail: dict[str, Any] | None = None,
    account: Account | None = None,
) -> AuditEntry:
    principal = g.get("principal") if has_request_context() else None
    entry = AuditEntry(
        account_id=account.id if account else (principal.account_id if principal else None),
        username=account.username if account else (principal.username if principal else None),
        action=action,
        resource_type=resource_type,
        resource_id=None if resource_id is None else str(resource_id),
        school_id=school_id,
        endpoint=f"{request.method} {request.path}" if has_request_context() else "cli",
        ip=request.remote_addr if has_request_context() else None,
        detail=detail,
    )
    db.session().add(entry)
    return entry


LOCAL = ZoneInfo("Asia/Shanghai")  # stored times are UTC; people read them in the district's time


def local_time(at: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored (naive UTC) time as the district reads it."""
    return "" if at is None else at.replace(tzinfo=UTC).astimezone(LOCAL).strftime(fmt)
