"""The plugin's tables (migrations/ creates exactly these), all on the platform's ``PluginBase``, so no query
here names a school to keep tenants apart.

- ``aid_indicators``: one row per student and month — the figures, the outcome (``candidate``, ``normal``,
  ``insufficient``), a score for sorting and the reason codes with their numbers. Recomputed set-wise.
- ``aid_steps``: the review loop, append-only: confirm, dismiss (remembered for the next months), a talk with
  the family, a note — who, when, why.
- ``aid_awards``: aid recommended and its outcome (grant, work-study post, fee waiver…), and aid the school
  already gives; a recommendation goes through the platform's approval flow ``aid.grant``.
- ``aid_declarations``: the student's own declaration (申报), from the school's declaration form.
- ``aid_away``: internship weeks and other time away of a class or a student (not counted as school days).
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.plugin_api import PluginBase, SchoolScoped, StudentScoped


class Indicator(StudentScoped, PluginBase):
    __tablename__ = "aid_indicators"
    __table_args__ = (sa.UniqueConstraint("school_id", "month", "student_id", name="uq_aid_indicators_month"),
                      sa.Index("ix_aid_indicators_school_month_status", "school_id", "month", "status"))

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    school_id: so.Mapped[int] = so.mapped_column()
    student_id: so.Mapped[int] = so.mapped_column()
    class_id: so.Mapped[int | None] = so.mapped_column()
    month: so.Mapped[str] = so.mapped_column(sa.String(7))
    status: so.Mapped[str] = so.mapped_column(sa.String(12))
    score: so.Mapped[int] = so.mapped_column()
    figures: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON)
    reasons: so.Mapped[list[dict[str, Any]]] = so.mapped_column(sa.JSON)
    dismissed_before: so.Mapped[bool] = so.mapped_column(default=False)
    computed_at: so.Mapped[datetime] = so.mapped_column()


class Step(StudentScoped, PluginBase):
    __tablename__ = "aid_steps"
    __table_args__ = (sa.Index("ix_aid_steps_student", "student_id", "at"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    school_id: so.Mapped[int] = so.mapped_column()
    student_id: so.Mapped[int] = so.mapped_column()
    month: so.Mapped[str | None] = so.mapped_column(sa.String(7))
    kind: so.Mapped[str] = so.mapped_column(sa.String(12))  # confirm, dismiss, talk, note
    note: so.Mapped[str] = so.mapped_column(sa.String(1000))
    method: so.Mapped[str | None] = so.mapped_column(sa.String(12))  # a talk: home_visit, phone, meeting
    by_account: so.Mapped[int | None] = so.mapped_column()
    by_name: so.Mapped[str | None] = so.mapped_column(sa.String(120))
    at: so.Mapped[datetime] = so.mapped_column()


class Award(StudentScoped, PluginBase):
    __tablename__ = "aid_awards"
    __table_args__ = (sa.Index("ix_aid_awards_student", "student_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    school_id: so.Mapped[int] = so.mapped_column()
    student_id: so.Mapped[int] = so.mapped_column()
    kind: so.Mapped[str] = so.mapped_column(sa.String(20))
    status: so.Mapped[str] = so.mapped_column(sa.String(12))  # recommended, granted, declined
    amount: so.Mapped[int | None] = so.mapped_column()  # yuan per term, when there is one
    note: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    recommended_at: so.Mapped[datetime | None] = so.mapped_column()
    decided_at: so.Mapped[datetime | None] = so.mapped_column()
    by_account: so.Mapped[int | None] = so.mapped_column()
    by_name: so.Mapped[str | None] = so.mapped_column(sa.String(120))
    flow_submission_id: so.Mapped[int | None] = so.mapped_column()  # the aid.grant approval, while it runs


class Declaration(StudentScoped, PluginBase):
    __tablename__ = "aid_declarations"
    __table_args__ = (sa.Index("ix_aid_declarations_student", "student_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    school_id: so.Mapped[int] = so.mapped_column()
    student_id: so.Mapped[int] = so.mapped_column()
    wants_consideration: so.Mapped[bool] = so.mapped_column()
    situation_enc: so.Mapped[str | None] = so.mapped_column(sa.Text)  # the family's words, encrypted
    submission_id: so.Mapped[int | None] = so.mapped_column()
    declared_at: so.Mapped[datetime] = so.mapped_column()


class Away(SchoolScoped, PluginBase):
    __tablename__ = "aid_away"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    school_id: so.Mapped[int] = so.mapped_column()
    class_id: so.Mapped[int | None] = so.mapped_column()
    student_id: so.Mapped[int | None] = so.mapped_column()
    kind: so.Mapped[str] = so.mapped_column(sa.String(12))  # internship, leave
    first_day: so.Mapped[date] = so.mapped_column()
    last_day: so.Mapped[date] = so.mapped_column()
    note: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    created_by: so.Mapped[int | None] = so.mapped_column()


indicators, steps, awards, declarations, away = (m.__table__ for m in (Indicator, Step, Award, Declaration, Away))
TABLES = (indicators, steps, awards, declarations, away)
