"""Alert cases (预警) and the intervention loop around them: who is assigned, every step of the timeline,
the escalation steps fired, and each school's deadline settings and school calendar.

One open case per (student, rule) is enforced by the database: ``open_key`` holds "student:rule" while the
case is open and NULL once it is closed, under a unique constraint (NULLs never collide, on SQLite and
PostgreSQL alike), so two processes raising the same alert at once cannot open two cases.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.db import Base, utcnow
from foundation.models.base import SchoolScoped
from foundation.tenancy import one_of

if TYPE_CHECKING:
    from foundation.tenancy import Scope

LEVELS = ("red", "yellow")
STATUSES = ("opened", "acknowledged", "contacted", "planned", "following", "evaluated", "closed")


class AlertCase(SchoolScoped, Base):
    """One student's alert under one rule, from opening to its closing outcome."""

    __tablename__ = "alert_cases"
    __table_args__ = (
        sa.UniqueConstraint("open_key", name="uq_alert_cases_open_key"),
        sa.Index("ix_alert_cases_school_status", "school_id", "status"),
        sa.CheckConstraint(f"level IN {LEVELS}", name="level"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    student_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("students.id", ondelete="CASCADE"), index=True)
    class_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("org_units.id"), index=True)
    rule_key: so.Mapped[str] = so.mapped_column(sa.String(120), index=True)
    rule_title: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON)  # snapshot: readable in every process
    category: so.Mapped[str] = so.mapped_column(sa.String(40))
    level: so.Mapped[str] = so.mapped_column(sa.String(8))
    sensitive: so.Mapped[bool] = so.mapped_column(default=False)
    source: so.Mapped[str | None] = so.mapped_column(sa.String(120))
    value: so.Mapped[Any] = so.mapped_column(sa.JSON, nullable=True)
    detail: so.Mapped[dict[str, Any] | None] = so.mapped_column(sa.JSON)
    status: so.Mapped[str] = so.mapped_column(sa.String(16), default="opened")
    open_key: so.Mapped[str | None] = so.mapped_column(sa.String(160))
    parent_case_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("alert_cases.id"), index=True)
    count: so.Mapped[int] = so.mapped_column(default=1)
    opened_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    last_triggered_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    # the current round of deadlines (a re-trigger after everything was done starts a new round)
    round_no: so.Mapped[int] = so.mapped_column(default=1)
    round_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    contact_due_at: so.Mapped[datetime | None] = so.mapped_column()
    contact_at: so.Mapped[datetime | None] = so.mapped_column()
    plan_due_at: so.Mapped[datetime | None] = so.mapped_column()
    plan_at: so.Mapped[datetime | None] = so.mapped_column()
    follow_due_at: so.Mapped[datetime | None] = so.mapped_column()
    follow_at: so.Mapped[datetime | None] = so.mapped_column()
    next_due_at: so.Mapped[datetime | None] = so.mapped_column(index=True)  # earliest unmet deadline
    first_action_at: so.Mapped[datetime | None] = so.mapped_column()  # first contact / plan / follow-up
    missed: so.Mapped[bool] = so.mapped_column(default=False)  # sticky: some deadline passed unmet
    escalation_epoch: so.Mapped[int] = so.mapped_column(default=0)
    escalation_step: so.Mapped[int] = so.mapped_column(default=0)
    last_escalated_at: so.Mapped[datetime | None] = so.mapped_column()
    plan: so.Mapped[str | None] = so.mapped_column(sa.Text)
    evaluate_after: so.Mapped[date | None] = so.mapped_column()
    evaluated_at: so.Mapped[datetime | None] = so.mapped_column()
    recovered: so.Mapped[bool | None] = so.mapped_column()
    closed_at: so.Mapped[datetime | None] = so.mapped_column()
    outcome: so.Mapped[str | None] = so.mapped_column(sa.String(32))

    @classmethod
    def tenant_criteria(cls, scope: Scope) -> sa.ColumnElement[bool]:
        """Like students: whole schools for school roles, own classes for class roles, nothing for parents
        and students (cases are staff work; the API checks capabilities and assignment on top)."""
        parts = [one_of(cls.school_id, scope.full_school_ids)]
        if scope.class_ids:
            parts.append(one_of(cls.class_id, scope.class_ids))
        return sa.and_(one_of(cls.school_id, scope.school_ids), sa.or_(*parts))


class AlertAssignee(Base):
    """An account responsible for a case: assigned at opening (homeroom teacher, the rule's roles) or added
    by an escalation step."""

    __tablename__ = "alert_assignees"
    __table_args__ = (sa.UniqueConstraint("case_id", "account_id", name="uq_alert_assignees_pair"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    case_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("alert_cases.id", ondelete="CASCADE"), index=True)
    account_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    role: so.Mapped[str] = so.mapped_column(sa.String(32))
    reason: so.Mapped[str] = so.mapped_column(sa.String(16), default="assigned")  # assigned | escalation
    at: so.Mapped[datetime] = so.mapped_column(default=utcnow)


class AlertEvent(SchoolScoped, Base):
    """One step of a case's timeline: who did what, when (opened, contact, plan, escalated, closed…)."""

    __tablename__ = "alert_events"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    case_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("alert_cases.id", ondelete="CASCADE"), index=True)
    at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    kind: so.Mapped[str] = so.mapped_column(sa.String(24))
    account_id: so.Mapped[int | None] = so.mapped_column()
    actor: so.Mapped[str | None] = so.mapped_column(sa.String(64))  # display name at the time
    note: so.Mapped[str | None] = so.mapped_column(sa.Text)
    data: so.Mapped[dict[str, Any] | None] = so.mapped_column(sa.JSON)


class AlertEscalation(SchoolScoped, Base):
    """A fired escalation step. Unique per (case, epoch, step): a step fires once, even when two sweeps
    run at the same moment; a re-trigger starts a new epoch."""

    __tablename__ = "alert_escalations"
    __table_args__ = (sa.UniqueConstraint("case_id", "epoch", "step", name="uq_alert_escalations_step"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    case_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("alert_cases.id", ondelete="CASCADE"), index=True)
    epoch: so.Mapped[int] = so.mapped_column()
    step: so.Mapped[int] = so.mapped_column()
    role: so.Mapped[str] = so.mapped_column(sa.String(32))
    deadline: so.Mapped[str] = so.mapped_column(sa.String(16))  # contact | plan | follow
    due_at: so.Mapped[datetime] = so.mapped_column()  # when this step was due to fire
    fired_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    recipients: so.Mapped[list[int]] = so.mapped_column(sa.JSON, default=list)


class AlertSettings(SchoolScoped, Base):
    """A school's deadlines per level, escalation chain, school week and time zone (defaults when absent)."""

    __tablename__ = "alert_settings"
    __table_args__ = (sa.UniqueConstraint("school_id", name="uq_alert_settings_school"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    deadlines: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON)
    chain: so.Mapped[list[str]] = so.mapped_column(sa.JSON)
    weekdays: so.Mapped[list[int]] = so.mapped_column(sa.JSON)  # 0 = Monday
    timezone: so.Mapped[str] = so.mapped_column(sa.String(40), default="Asia/Shanghai")
    updated_by: so.Mapped[int | None] = so.mapped_column()
    updated_at: so.Mapped[datetime] = so.mapped_column(default=utcnow, onupdate=utcnow)


class SchoolCalendarDay(SchoolScoped, Base):
    """A day the school sets apart from its usual week: a holiday (no school) or a make-up school day (调休)."""

    __tablename__ = "alert_calendar_days"
    __table_args__ = (sa.UniqueConstraint("school_id", "day", name="uq_alert_calendar_days_day"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    day: so.Mapped[date] = so.mapped_column()
    kind: so.Mapped[str] = so.mapped_column(sa.String(8))  # holiday | workday
    name: so.Mapped[str | None] = so.mapped_column(sa.String(60))
