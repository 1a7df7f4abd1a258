"""The plugin's tables, on the platform's ``PluginBase`` (scoped by construction; migrations/ creates them).

- ``wellbeing_screenings``: a screening a psychology teacher scheduled: the scale, the classes, the window,
  the school's own extra questions (never scored), from its low-code clone of the scale when it uses one.
- ``wellbeing_responses``: one student's answers to one screening, with the score, band, level and reason
  codes, and the alert case it raised. The answers live here only: no low-code submission, no standard
  record, so no core page that lists submissions ever sees them.
- ``wellbeing_consents``: a guardian's answer for a student under 14 (PIPL): asked, granted or refused.

StudentScoped rows are visible to staff who reach the student and to the family, like the student record;
who may read what of them is narrower and decided in ``access.py`` before any read.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.plugin_api import PluginBase, SchoolScoped, StudentScoped


class Screening(SchoolScoped, PluginBase):
    __tablename__ = "wellbeing_screenings"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    school_id: so.Mapped[int] = so.mapped_column()
    instrument: so.Mapped[str] = so.mapped_column(sa.String(8))
    title: so.Mapped[str] = so.mapped_column(sa.String(120))
    class_ids: so.Mapped[list[int]] = so.mapped_column(sa.JSON)
    opens_on: so.Mapped[date] = so.mapped_column()
    closes_on: so.Mapped[date] = so.mapped_column()
    extra_questions: so.Mapped[list[dict[str, Any]]] = so.mapped_column(sa.JSON, default=list)
    created_by: so.Mapped[int | None] = so.mapped_column()
    created_by_name: so.Mapped[str | None] = so.mapped_column(sa.String(120))
    created_at: so.Mapped[datetime] = so.mapped_column()
    reminded_at: so.Mapped[datetime | None] = so.mapped_column()
    form_id: so.Mapped[int | None] = so.mapped_column()  # the school's low-code clone of the scale (scales.py)
    form_version: so.Mapped[int | None] = so.mapped_column()


class Response(StudentScoped, PluginBase):
    __tablename__ = "wellbeing_responses"
    __table_args__ = (sa.UniqueConstraint("screening_id", "student_id", name="uq_wellbeing_responses_once"),
                      sa.Index("ix_wellbeing_responses_school_time", "school_id", "submitted_at"))

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    school_id: so.Mapped[int] = so.mapped_column()
    student_id: so.Mapped[int] = so.mapped_column()
    class_id: so.Mapped[int | None] = so.mapped_column()
    screening_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("wellbeing_screenings.id", ondelete="CASCADE"))
    instrument: so.Mapped[str] = so.mapped_column(sa.String(8))
    answers: so.Mapped[list[int]] = so.mapped_column(sa.JSON)
    extra: so.Mapped[dict[str, Any] | None] = so.mapped_column(sa.JSON)
    total: so.Mapped[int] = so.mapped_column()
    band: so.Mapped[str] = so.mapped_column(sa.String(20))
    item9: so.Mapped[int | None] = so.mapped_column()
    level: so.Mapped[str | None] = so.mapped_column(sa.String(8))
    reasons: so.Mapped[list[str]] = so.mapped_column(sa.JSON)
    submitted_at: so.Mapped[datetime] = so.mapped_column()
    submitted_by: so.Mapped[int | None] = so.mapped_column()  # the student's account, or the staff who entered paper
    case_id: so.Mapped[int | None] = so.mapped_column()
    contact_due_at: so.Mapped[datetime | None] = so.mapped_column()
    plan_due_at: so.Mapped[datetime | None] = so.mapped_column()
    follow_due_at: so.Mapped[datetime | None] = so.mapped_column()  # a yellow case's
    case_closed_at: so.Mapped[datetime | None] = so.mapped_column()  # told by the engine's alert.case.closed


class Consent(StudentScoped, PluginBase):
    __tablename__ = "wellbeing_consents"
    __table_args__ = (sa.UniqueConstraint("school_id", "student_id", name="uq_wellbeing_consents_student"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    school_id: so.Mapped[int] = so.mapped_column()
    student_id: so.Mapped[int] = so.mapped_column()
    status: so.Mapped[str] = so.mapped_column(sa.String(10))  # asked, granted, refused
    asked_at: so.Mapped[datetime] = so.mapped_column()
    answered_at: so.Mapped[datetime | None] = so.mapped_column()
    answered_by: so.Mapped[int | None] = so.mapped_column()  # the guardian's account
    answered_by_name: so.Mapped[str | None] = so.mapped_column(sa.String(120))


screenings, responses, consents = (m.__table__ for m in (Screening, Response, Consent))
TABLES = (responses, consents, screenings)  # children first, for purge
