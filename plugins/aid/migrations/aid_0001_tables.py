"""aid: indicators, review steps, awards, declarations, time away

Revision ID: aid_0001
Revises: (none: the root of the "aid" branch; depends on the core's plugin_installs)
"""
import sqlalchemy as sa
from alembic import op

revision = "aid_0001"
down_revision = None
branch_labels = ("aid",)
depends_on = "0008_plugin_installs"


def _ids() -> list[sa.Column]:
    return [sa.Column("id", sa.Integer(), primary_key=True), sa.Column("school_id", sa.Integer(), nullable=False)]


def upgrade() -> None:
    op.create_table(
        "aid_indicators", *_ids(),
        sa.Column("student_id", sa.Integer(), nullable=False), sa.Column("class_id", sa.Integer()),
        sa.Column("month", sa.String(7), nullable=False), sa.Column("status", sa.String(12), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False), sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("dismissed_before", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("computed_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("school_id", "month", "student_id", name="uq_aid_indicators_month"))
    op.create_index("ix_aid_indicators_school_month_status", "aid_indicators", ["school_id", "month", "status"])
    op.create_table(
        "aid_steps", *_ids(),
        sa.Column("student_id", sa.Integer(), nullable=False), sa.Column("month", sa.String(7)),
        sa.Column("kind", sa.String(12), nullable=False), sa.Column("note", sa.String(1000), nullable=False),
        sa.Column("method", sa.String(12)), sa.Column("by_account", sa.Integer()),
        sa.Column("by_name", sa.String(120)), sa.Column("at", sa.DateTime(), nullable=False))
    op.create_index("ix_aid_steps_student", "aid_steps", ["student_id", "at"])
    op.create_table(
        "aid_awards", *_ids(),
        sa.Column("student_id", sa.Integer(), nullable=False), sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("status", sa.String(12), nullable=False), sa.Column("amount", sa.Integer()),
        sa.Column("note", sa.String(500)), sa.Column("recommended_at", sa.DateTime()),
        sa.Column("decided_at", sa.DateTime()), sa.Column("by_account", sa.Integer()),
        sa.Column("by_name", sa.String(120)))
    op.create_index("ix_aid_awards_student", "aid_awards", ["student_id"])
    op.create_table(
        "aid_declarations", *_ids(),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("wants_consideration", sa.Boolean(), nullable=False), sa.Column("situation_enc", sa.Text()),
        sa.Column("submission_id", sa.Integer()), sa.Column("declared_at", sa.DateTime(), nullable=False))
    op.create_index("ix_aid_declarations_student", "aid_declarations", ["student_id"])
    op.create_table(
        "aid_away", *_ids(),
        sa.Column("class_id", sa.Integer()), sa.Column("student_id", sa.Integer()),
        sa.Column("kind", sa.String(12), nullable=False), sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False), sa.Column("note", sa.String(200)),
        sa.Column("created_by", sa.Integer()))


def downgrade() -> None:
    for name in ("aid_away", "aid_declarations", "aid_awards", "aid_steps", "aid_indicators"):
        op.drop_table(name)
