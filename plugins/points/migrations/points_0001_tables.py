"""points: rulebooks, the ledger, live scores, appeals

Revision ID: points_0001
Revises: (none: the root of the "points" branch; depends on the core's plugin_installs)
"""
import sqlalchemy as sa
from alembic import op

revision = "points_0001"
down_revision = None
branch_labels = ("points",)
depends_on = "0008_plugin_installs"


def upgrade() -> None:
    op.create_table(
        "points_rulebooks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("note", sa.String(200)),
        sa.Column("created_by", sa.Integer()),
        sa.Column("created_by_name", sa.String(120)),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("school_id", "version", name="uq_points_rulebooks_version"),
    )
    op.create_table(
        "points_entries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("class_id", sa.Integer()),
        sa.Column("term_start", sa.Date(), nullable=False),
        sa.Column("rulebook_version", sa.Integer(), nullable=False),
        sa.Column("rule_code", sa.String(64), nullable=False),
        sa.Column("dimension", sa.String(16), nullable=False),
        sa.Column("raw_points", sa.Integer(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(500)),
        sa.Column("evidence", sa.JSON()),
        sa.Column("source", sa.String(24), nullable=False),
        sa.Column("source_ref", sa.String(80)),
        sa.Column("recorded_by", sa.Integer()),
        sa.Column("recorded_by_name", sa.String(120)),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("reverses_id", sa.Integer(), sa.ForeignKey("points_entries.id")),
        sa.UniqueConstraint("school_id", "source_ref", name="uq_points_entries_source_ref"),
    )
    op.create_index("ix_points_entries_student_time", "points_entries", ["student_id", "occurred_at"])
    op.create_index("ix_points_entries_school_term", "points_entries", ["school_id", "term_start"])
    op.create_table(
        "points_scores",
        sa.Column("student_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("term_start", sa.Date(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_points_scores_school_score", "points_scores", ["school_id", "score"])
    op.create_table(
        "points_appeals",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), sa.ForeignKey("points_entries.id"), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("class_id", sa.Integer()),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("created_by", sa.Integer()),
        sa.Column("created_by_name", sa.String(120)),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("decided_by", sa.Integer()),
        sa.Column("decided_by_name", sa.String(120)),
        sa.Column("decided_at", sa.DateTime()),
        sa.Column("decision_note", sa.String(500)),
        sa.Column("reversal_id", sa.Integer(), sa.ForeignKey("points_entries.id")),
    )
    op.create_index("ix_points_appeals_school_status", "points_appeals", ["school_id", "status"])


def downgrade() -> None:
    op.drop_table("points_appeals")
    op.drop_table("points_scores")
    op.drop_table("points_entries")
    op.drop_table("points_rulebooks")
