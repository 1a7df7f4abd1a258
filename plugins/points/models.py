"""The plugin's tables (SQLAlchemy Core on its own MetaData, so the core's models-vs-migrations check does
not see them; migrations/points_0001_tables.py creates exactly these). The core's tenancy listener scopes
ORM entities only: every statement on these tables names its school explicitly.

- ``points_rulebooks``: one immutable row per saved version of a school's rulebook (items, caps, term,
  starting score, eligibility thresholds). Saving makes a new version; old versions are never changed.
- ``points_entries``: the append-only ledger. A reversal is a new row pointing at the entry it reverses.
- ``points_scores``: the live score per student for the current term (a cache of starting score + ledger
  sum, kept in the same transaction as each entry) so rankings are one indexed window query.
- ``points_appeals``: a student's or parent's appeal of one entry, decided by the homeroom teacher.
"""
from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

rulebooks = sa.Table(
    "points_rulebooks", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("school_id", sa.Integer, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("body", sa.JSON, nullable=False),
    sa.Column("note", sa.String(200)),
    sa.Column("created_by", sa.Integer),
    sa.Column("created_by_name", sa.String(120)),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.UniqueConstraint("school_id", "version", name="uq_points_rulebooks_version"),
)

entries = sa.Table(
    "points_entries", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("school_id", sa.Integer, nullable=False),
    sa.Column("student_id", sa.Integer, nullable=False),
    sa.Column("class_id", sa.Integer),
    sa.Column("term_start", sa.Date, nullable=False),
    sa.Column("rulebook_version", sa.Integer, nullable=False),
    sa.Column("rule_code", sa.String(64), nullable=False),
    sa.Column("dimension", sa.String(16), nullable=False),
    sa.Column("raw_points", sa.Integer, nullable=False),  # what the rule gives
    sa.Column("points", sa.Integer, nullable=False),  # what counted, after the dimension's cap
    sa.Column("reason", sa.String(500)),
    sa.Column("evidence", sa.JSON),
    sa.Column("source", sa.String(24), nullable=False),  # attendance, training, hygiene_form, activity, manual…
    sa.Column("source_ref", sa.String(80)),  # e.g. "record:123": the same record never counts twice
    sa.Column("recorded_by", sa.Integer),
    sa.Column("recorded_by_name", sa.String(120)),
    sa.Column("occurred_at", sa.DateTime, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("reverses_id", sa.Integer, sa.ForeignKey("points_entries.id")),
    sa.UniqueConstraint("school_id", "source_ref", name="uq_points_entries_source_ref"),
    sa.Index("ix_points_entries_student_time", "student_id", "occurred_at"),
    sa.Index("ix_points_entries_school_term", "school_id", "term_start"),
    sa.Index("ix_points_entries_reverses_id", "reverses_id"),
)

scores = sa.Table(
    "points_scores", metadata,
    sa.Column("student_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("school_id", sa.Integer, nullable=False),
    sa.Column("term_start", sa.Date, nullable=False),
    sa.Column("score", sa.Integer, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Index("ix_points_scores_school_score", "school_id", "score"),
)

appeals = sa.Table(
    "points_appeals", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("school_id", sa.Integer, nullable=False),
    sa.Column("entry_id", sa.Integer, sa.ForeignKey("points_entries.id"), nullable=False),
    sa.Column("student_id", sa.Integer, nullable=False),
    sa.Column("class_id", sa.Integer),
    sa.Column("reason", sa.String(500), nullable=False),
    sa.Column("status", sa.String(12), nullable=False),  # open, accepted, rejected
    sa.Column("created_by", sa.Integer),
    sa.Column("created_by_name", sa.String(120)),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("decided_by", sa.Integer),
    sa.Column("decided_by_name", sa.String(120)),
    sa.Column("decided_at", sa.DateTime),
    sa.Column("decision_note", sa.String(500)),
    sa.Column("reversal_id", sa.Integer, sa.ForeignKey("points_entries.id")),
    sa.Index("ix_points_appeals_school_status", "school_id", "status"),
)

TABLES = (appeals, scores, entries, rulebooks)  # children first, for purge
