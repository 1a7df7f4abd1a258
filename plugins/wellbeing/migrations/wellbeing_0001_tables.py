"""wellbeing: screenings, responses, guardian consents

Revision ID: wellbeing_0001
Revises: (none: the root of the "wellbeing" branch; depends on the core's plugin_installs)
"""
import sqlalchemy as sa
from alembic import op

revision = "wellbeing_0001"
down_revision = None
branch_labels = ("wellbeing",)
depends_on = "0008_plugin_installs"


def upgrade() -> None:
    op.create_table(
        "wellbeing_screenings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("school_id", sa.Integer(), nullable=False, index=True),
        sa.Column("instrument", sa.String(8), nullable=False),
        sa.Column("title", sa.String(120), nullable=False),
        sa.Column("class_ids", sa.JSON(), nullable=False),
        sa.Column("opens_on", sa.Date(), nullable=False),
        sa.Column("closes_on", sa.Date(), nullable=False),
        sa.Column("extra_questions", sa.JSON()),
        sa.Column("created_by", sa.Integer()),
        sa.Column("created_by_name", sa.String(120)),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("reminded_at", sa.DateTime()),
    )
    op.create_table(
        "wellbeing_responses",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("school_id", sa.Integer(), nullable=False, index=True),
        sa.Column("student_id", sa.Integer(), nullable=False, index=True),
        sa.Column("class_id", sa.Integer()),
        sa.Column("screening_id", sa.Integer(), sa.ForeignKey("wellbeing_screenings.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("instrument", sa.String(8), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("extra", sa.JSON()),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("band", sa.String(20), nullable=False),
        sa.Column("item9", sa.Integer()),
        sa.Column("level", sa.String(8)),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(), nullable=False),
        sa.Column("submitted_by", sa.Integer()),
        sa.Column("case_id", sa.Integer()),
        sa.Column("contact_due_at", sa.DateTime()),
        sa.Column("plan_due_at", sa.DateTime()),
        sa.Column("follow_due_at", sa.DateTime()),
        sa.UniqueConstraint("screening_id", "student_id", name="uq_wellbeing_responses_once"),
    )
    op.create_index("ix_wellbeing_responses_school_time", "wellbeing_responses", ["school_id", "submitted_at"])
    op.create_table(
        "wellbeing_consents",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("school_id", sa.Integer(), nullable=False, index=True),
        sa.Column("student_id", sa.Integer(), nullable=False, index=True),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("asked_at", sa.DateTime(), nullable=False),
        sa.Column("answered_at", sa.DateTime()),
        sa.Column("answered_by", sa.Integer()),
        sa.Column("answered_by_name", sa.String(120)),
        sa.UniqueConstraint("school_id", "student_id", name="uq_wellbeing_consents_student"),
    )


def downgrade() -> None:
    op.drop_table("wellbeing_consents")
    op.drop_table("wellbeing_responses")
    op.drop_table("wellbeing_screenings")
