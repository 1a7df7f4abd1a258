"""The plugin's tables, on the platform's ``PluginBase``: scoped by construction, no query here names a school.

- ``learning_points``: the knowledge map, a tree per subject and grade (code, name, parent); seeded at install
  from the district's map (maps/district.json, ``origin = district``) and extended by the school (``origin = school``);
- ``learning_items``: the Q-matrix, which knowledge points each item (question) tests;
- ``learning_params``: BKT parameters per knowledge point, fitted by EM on the school's responses (nightly);
- ``learning_responses``: each response per knowledge point (from ``item_response`` records and homework),
  oldest first per student: what the refit and the AUC read;
- ``learning_mastery``: the live mastery per student and knowledge point, updated as each response arrives;
- ``learning_history``: mastery at the end of each week, for the term's trend;
- ``learning_resources``, ``learning_pushes``, ``learning_plans``: the resource library, what was pushed to
  whom (opened when, mastery then and later), the teachers' plans for a student (一生一案);
- ``learning_scores``: test scores per student and subject (from ``test_score`` records), for value added;
- ``learning_interactions``: classroom interactions per student, subject, week and kind (``classroom_interaction``);
- ``learning_certificates``: where a vocational student stands on each skill certificate (``skill_certificate``).
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.plugin_api import PluginBase, SchoolScoped, StudentScoped


class Point(SchoolScoped, PluginBase):
    __tablename__ = "learning_points"
    __table_args__ = (sa.UniqueConstraint("school_id", "code", name="uq_learning_points_code"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    school_id: so.Mapped[int] = so.mapped_column()
    subject: so.Mapped[str] = so.mapped_column(sa.String(24))
    grade: so.Mapped[int | None] = so.mapped_column()
    code: so.Mapped[str] = so.mapped_column(sa.String(64))
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    name_en: so.Mapped[str | None] = so.mapped_column(sa.String(120))
    parent_code: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    origin: so.Mapped[str] = so.mapped_column(sa.String(12))  # district | school
    seq: so.Mapped[int] = so.mapped_column(default=0)


class Item(SchoolScoped, PluginBase):
    __tablename__ = "learning_items"
    __table_args__ = (sa.UniqueConstraint("school_id", "item_id", name="uq_learning_items_item"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    school_id: so.Mapped[int] = so.mapped_column()
    item_id: so.Mapped[str] = so.mapped_column(sa.String(64))
    subject: so.Mapped[str] = so.mapped_column(sa.String(24))
    points: so.Mapped[list[str]] = so.mapped_column(sa.JSON)


class Param(SchoolScoped, PluginBase):
    __tablename__ = "learning_params"
    __table_args__ = (sa.UniqueConstraint("school_id", "code", name="uq_learning_params_code"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    school_id: so.Mapped[int] = so.mapped_column()
    code: so.Mapped[str] = so.mapped_column(sa.String(64))
    prior: so.Mapped[float] = so.mapped_column()
    learn: so.Mapped[float] = so.mapped_column()
    guess: so.Mapped[float] = so.mapped_column()
    slip: so.Mapped[float] = so.mapped_column()
    responses: so.Mapped[int] = so.mapped_column()
    fitted_at: so.Mapped[datetime] = so.mapped_column()


class Response(StudentScoped, PluginBase):
    __tablename__ = "learning_responses"
    __table_args__ = (sa.Index("ix_learning_responses_code_student", "school_id", "code", "student_id", "occurred_at"),)

    id: so.Mapped[int] = so.mapped_column(sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True)
    school_id: so.Mapped[int] = so.mapped_column()
    student_id: so.Mapped[int] = so.mapped_column()
    code: so.Mapped[str] = so.mapped_column(sa.String(64))
    correct: so.Mapped[bool] = so.mapped_column()
    occurred_at: so.Mapped[datetime] = so.mapped_column()
    record_id: so.Mapped[int | None] = so.mapped_column()


class Mastery(StudentScoped, PluginBase):
    __tablename__ = "learning_mastery"
    __table_args__ = (sa.UniqueConstraint("student_id", "code", name="uq_learning_mastery_student_code"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    school_id: so.Mapped[int] = so.mapped_column()
    student_id: so.Mapped[int] = so.mapped_column()
    code: so.Mapped[str] = so.mapped_column(sa.String(64))
    p: so.Mapped[float] = so.mapped_column()
    attempts: so.Mapped[int] = so.mapped_column()
    correct: so.Mapped[int] = so.mapped_column()
    updated_at: so.Mapped[datetime] = so.mapped_column()


class History(StudentScoped, PluginBase):
    __tablename__ = "learning_history"
    __table_args__ = (sa.UniqueConstraint("student_id", "code", "week", name="uq_learning_history_week"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    school_id: so.Mapped[int] = so.mapped_column()
    student_id: so.Mapped[int] = so.mapped_column()
    code: so.Mapped[str] = so.mapped_column(sa.String(64))
    week: so.Mapped[date] = so.mapped_column()  # the Monday
    p: so.Mapped[float] = so.mapped_column()


class Resource(SchoolScoped, PluginBase):
    __tablename__ = "learning_resources"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    school_id: so.Mapped[int] = so.mapped_column()
    kind: so.Mapped[str] = so.mapped_column(sa.String(16))  # micro_lesson | question_set
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    url: so.Mapped[str] = so.mapped_column(sa.String(500))
    subject: so.Mapped[str] = so.mapped_column(sa.String(24))
    grade: so.Mapped[int | None] = so.mapped_column()
    minutes: so.Mapped[int | None] = so.mapped_column()
    points: so.Mapped[list[str]] = so.mapped_column(sa.JSON)
    origin: so.Mapped[str] = so.mapped_column(sa.String(12))
    created_by_name: so.Mapped[str | None] = so.mapped_column(sa.String(120))
    created_at: so.Mapped[datetime] = so.mapped_column()


class Push(StudentScoped, PluginBase):
    __tablename__ = "learning_pushes"
    __table_args__ = (sa.Index("ix_learning_pushes_student_time", "student_id", "pushed_at"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    school_id: so.Mapped[int] = so.mapped_column()
    student_id: so.Mapped[int] = so.mapped_column()
    resource_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("learning_resources.id"))
    code: so.Mapped[str] = so.mapped_column(sa.String(64))
    p_at_push: so.Mapped[float] = so.mapped_column()
    pushed_at: so.Mapped[datetime] = so.mapped_column()
    opened_at: so.Mapped[datetime | None] = so.mapped_column()


class Plan(StudentScoped, PluginBase):
    __tablename__ = "learning_plans"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    school_id: so.Mapped[int] = so.mapped_column()
    student_id: so.Mapped[int] = so.mapped_column()
    code: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    text: so.Mapped[str] = so.mapped_column(sa.String(1000))
    created_by: so.Mapped[int | None] = so.mapped_column()
    created_by_name: so.Mapped[str | None] = so.mapped_column(sa.String(120))
    created_at: so.Mapped[datetime] = so.mapped_column()


class Score(StudentScoped, PluginBase):
    __tablename__ = "learning_scores"
    __table_args__ = (sa.UniqueConstraint("student_id", "subject", "test_id", name="uq_learning_scores_test"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    school_id: so.Mapped[int] = so.mapped_column()
    student_id: so.Mapped[int] = so.mapped_column()
    class_id: so.Mapped[int | None] = so.mapped_column()
    subject: so.Mapped[str] = so.mapped_column(sa.String(24))
    test_id: so.Mapped[str] = so.mapped_column(sa.String(64))
    test_kind: so.Mapped[str] = so.mapped_column(sa.String(16))
    score: so.Mapped[float] = so.mapped_column()  # per cent of full marks
    occurred_at: so.Mapped[datetime] = so.mapped_column()


class Interaction(StudentScoped, PluginBase):
    __tablename__ = "learning_interactions"
    __table_args__ = (sa.UniqueConstraint("student_id", "subject", "week", "kind", name="uq_learning_interactions"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    school_id: so.Mapped[int] = so.mapped_column()
    student_id: so.Mapped[int] = so.mapped_column()
    subject: so.Mapped[str] = so.mapped_column(sa.String(24))
    week: so.Mapped[date] = so.mapped_column()
    kind: so.Mapped[str] = so.mapped_column(sa.String(12))  # answer, question, board, group
    count: so.Mapped[int] = so.mapped_column()


class Certificate(StudentScoped, PluginBase):
    __tablename__ = "learning_certificates"
    __table_args__ = (sa.UniqueConstraint("student_id", "certificate", name="uq_learning_certificates"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    school_id: so.Mapped[int] = so.mapped_column()
    student_id: so.Mapped[int] = so.mapped_column()
    certificate: so.Mapped[str] = so.mapped_column(sa.String(120))
    level: so.Mapped[str | None] = so.mapped_column(sa.String(40))
    status: so.Mapped[str] = so.mapped_column(sa.String(12))  # registered, preparing, passed, failed
    updated_at: so.Mapped[datetime] = so.mapped_column()


MODELS = (Certificate, Interaction, Plan, Push, Resource, History, Mastery, Response, Param, Item, Point,
          Score)  # children first
TABLES: tuple[Any, ...] = tuple(m.__table__ for m in MODELS)
