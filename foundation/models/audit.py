"""The audit log: who read or changed which sensitive record, when, through which endpoint."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.db import Base, utcnow


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    at: so.Mapped[datetime] = so.mapped_column(default=utcnow, index=True)
    account_id: so.Mapped[int | None] = so.mapped_column(index=True)
    username: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    action: so.Mapped[str] = so.mapped_column(sa.String(64), index=True)  # e.g. people.student.read
    resource_type: so.Mapped[str | None] = so.mapped_column(sa.String(32))
    resource_id: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    school_id: so.Mapped[int | None] = so.mapped_column(index=True)
    endpoint: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    ip: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    detail: so.Mapped[dict[str, Any] | None] = so.mapped_column(sa.JSON)
