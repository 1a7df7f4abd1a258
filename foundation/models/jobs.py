"""Runs of plugins' periodic jobs (``jizuo_jobs``): one row per (job, school, period), inserted to claim the
run, so each runs once however many workers there are; then its outcome."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.db import Base, utcnow
from foundation.models.base import SchoolScoped


class JobRun(SchoolScoped, Base):
    __tablename__ = "job_runs"
    __table_args__ = (sa.UniqueConstraint("job", "school_id", "period_start", name="uq_job_runs_period"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    job: so.Mapped[str] = so.mapped_column(sa.String(80), index=True)
    period_start: so.Mapped[datetime] = so.mapped_column()
    started_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    finished_at: so.Mapped[datetime | None] = so.mapped_column()
    ok: so.Mapped[bool | None] = so.mapped_column()  # None: running (or the worker died mid-run)
    detail: so.Mapped[dict[str, Any] | None] = so.mapped_column(sa.JSON)
    error: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    worker: so.Mapped[str | None] = so.mapped_column(sa.String(80))
