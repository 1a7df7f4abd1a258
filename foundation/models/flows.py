"""Approval flows (foundation/lowcode/flow.py): the tasks each step gives its approvers, the submission's
timeline, and the deputies people name while they are away. A submission's place in its flow (the step it
waits at, when that step started, its reminder and escalation) is kept on the submission itself."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.db import Base, utcnow
from foundation.models.base import SchoolScoped


class FlowTask(SchoolScoped, Base):
    """One approver's part in one step of one submission: open until they (or their deputy) decide, or the
    step is decided by someone else (或签), or the submission is withdrawn ("closed")."""

    __tablename__ = "lowcode_flow_tasks"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    submission_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("lowcode_submissions.id", ondelete="CASCADE"),
                                                     index=True)
    step: so.Mapped[int] = so.mapped_column()  # the step's index in the flow
    step_key: so.Mapped[str] = so.mapped_column(sa.String(40))
    account_id: so.Mapped[int] = so.mapped_column(index=True)  # the approver
    origin: so.Mapped[str] = so.mapped_column(sa.String(12), default="approver")  # approver|escalation|fallback
    status: so.Mapped[str] = so.mapped_column(sa.String(10), default="open", index=True)  # open|approved|rejected|returned|closed
    decided_by: so.Mapped[int | None] = so.mapped_column()  # the approver, or their deputy
    note: so.Mapped[str | None] = so.mapped_column(sa.String(300))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    decided_at: so.Mapped[datetime | None] = so.mapped_column()


class FlowEvent(SchoolScoped, Base):
    """One line of a submission's timeline: submitted, step started or skipped, approved, rejected,
    reminded, escalated, withdrawn, finished. Names are kept as they were at the time."""

    __tablename__ = "lowcode_flow_events"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    submission_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("lowcode_submissions.id", ondelete="CASCADE"),
                                                     index=True)
    at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    kind: so.Mapped[str] = so.mapped_column(sa.String(12))
    step_key: so.Mapped[str | None] = so.mapped_column(sa.String(40))
    by_account: so.Mapped[int | None] = so.mapped_column()
    by_name: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    for_name: so.Mapped[str | None] = so.mapped_column(sa.String(64))  # a deputy decided for this person
    note: so.Mapped[str | None] = so.mapped_column(sa.String(300))
    detail: so.Mapped[dict[str, Any] | None] = so.mapped_column(sa.JSON)


class Delegation(SchoolScoped, Base):
    """While ``starts`` ≤ today ≤ ``ends`` (the school's days), ``account_id``'s approvals are offered to
    ``deputy_id`` too."""

    __tablename__ = "lowcode_delegations"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    account_id: so.Mapped[int] = so.mapped_column(index=True)
    deputy_id: so.Mapped[int] = so.mapped_column(index=True)
    starts: so.Mapped[date] = so.mapped_column(sa.Date)
    ends: so.Mapped[date] = so.mapped_column(sa.Date)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    cancelled_at: so.Mapped[datetime | None] = so.mapped_column()
