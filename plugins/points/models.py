"""The plugin's tables, as models on the platform's ``PluginBase``: scoped by construction, so no query in this
plugin names a school to keep tenants apart (migrations/ creates exactly these).

- ``points_rulebooks``: one immutable row per saved version of a school's rulebook (items, caps, term,
  starting score, eligibility thresholds). Saving makes a new version; old versions are never changed.
- ``points_entries``: the append-only ledger. A reversal is a new row pointing at the entry it reverses.
- ``points_scores``: the live score per student for the current term (a cache of starting score + ledger
  sum, kept in the same transaction as each entry) and where it stands in the class, grade and school,
  refreshed for the whole school after every change (``standing.refresh``), so a family's band and a class
  teacher's grade rank need no query beyond what they may see.
- ``points_appeals``: a student's or parent's appeal of one entry, decided by the homeroom teacher.

Rows about a student are ``StudentScoped``: staff see their school's or their classes', a family its own.
The module-level names (``entries``…) are the tables, for Core statements (scoped all the same).
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.plugin_api import PluginBase, SchoolScoped, StudentScoped


class Rulebook(SchoolScoped, PluginBase):
    __tablename__ = "points_rulebooks"
    __table_args__ = (sa.UniqueConstraint("school_id", "version", name="uq_points_rulebooks_version"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    school_id: so.Mapped[int] = so.mapped_column()
    version: so.Mapped[int] = so.mapped_column()
    body: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON)
    note: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    created_by: so.Mapped[int | None] = so.mapped_column()
    created_by_name: so.Mapped[str | None] = so.mapped_column(sa.String(120))
    created_at: so.Mapped[datetime] = so.mapped_column()


class Entry(StudentScoped, PluginBase):
    __tablename__ = "points_entries"
    __table_args__ = (
        sa.UniqueConstraint("school_id", "source_ref", name="uq_points_entries_source_ref"),
        sa.Index("ix_points_entries_student_time", "student_id", "occurred_at"),
        sa.Index("ix_points_entries_school_term", "school_id", "term_start"),
        sa.Index("ix_points_entries_reverses_id", "reverses_id"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    school_id: so.Mapped[int] = so.mapped_column()
    student_id: so.Mapped[int] = so.mapped_column()
    class_id: so.Mapped[int | None] = so.mapped_column()
    term_start: so.Mapped[date] = so.mapped_column()
    rulebook_version: so.Mapped[int] = so.mapped_column()
    rule_code: so.Mapped[str] = so.mapped_column(sa.String(64))
    dimension: so.Mapped[str] = so.mapped_column(sa.String(16))
    raw_points: so.Mapped[int] = so.mapped_column()  # what the rule gives
    points: so.Mapped[int] = so.mapped_column()  # what counted, after the dimension's cap
    reason: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    evidence: so.Mapped[Any | None] = so.mapped_column(sa.JSON)
    source: so.Mapped[str] = so.mapped_column(sa.String(24))  # attendance, training, hygiene_form, manual…
    source_ref: so.Mapped[str | None] = so.mapped_column(sa.String(80))  # "record:123": counted once
    recorded_by: so.Mapped[int | None] = so.mapped_column()
    recorded_by_name: so.Mapped[str | None] = so.mapped_column(sa.String(120))
    occurred_at: so.Mapped[datetime] = so.mapped_column()
    created_at: so.Mapped[datetime] = so.mapped_column()
    reverses_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("points_entries.id"))


class Score(StudentScoped, PluginBase):
    __tablename__ = "points_scores"
    __table_args__ = (sa.Index("ix_points_scores_school_score", "school_id", "score"),)

    student_id: so.Mapped[int] = so.mapped_column(primary_key=True, autoincrement=False)
    school_id: so.Mapped[int] = so.mapped_column()
    term_start: so.Mapped[date] = so.mapped_column()
    score: so.Mapped[int] = so.mapped_column()
    updated_at: so.Mapped[datetime] = so.mapped_column()
    class_rank: so.Mapped[int | None] = so.mapped_column()
    grade_rank: so.Mapped[int | None] = so.mapped_column()
    school_rank: so.Mapped[int | None] = so.mapped_column()
    band: so.Mapped[str | None] = so.mapped_column(sa.String(16))


class Appeal(StudentScoped, PluginBase):
    __tablename__ = "points_appeals"
    __table_args__ = (sa.Index("ix_points_appeals_school_status", "school_id", "status"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    school_id: so.Mapped[int] = so.mapped_column()
    entry_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("points_entries.id"))
    student_id: so.Mapped[int] = so.mapped_column()
    class_id: so.Mapped[int | None] = so.mapped_column()
    reason: so.Mapped[str] = so.mapped_column(sa.String(500))
    status: so.Mapped[str] = so.mapped_column(sa.String(12))  # open, accepted, rejected
    created_by: so.Mapped[int | None] = so.mapped_column()
    created_by_name: so.Mapped[str | None] = so.mapped_column(sa.String(120))
    created_at: so.Mapped[datetime] = so.mapped_column()
    decided_by: so.Mapped[int | None] = so.mapped_column()
    decided_by_name: so.Mapped[str | None] = so.mapped_column(sa.String(120))
    decided_at: so.Mapped[datetime | None] = so.mapped_column()
    decision_note: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    reversal_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("points_entries.id"))


rulebooks, entries, scores, appeals = (m.__table__ for m in (Rulebook, Entry, Score, Appeal))
TABLES = (appeals, scores, entries, rulebooks)  # children first, for purge
