"""learning: classroom interactions per week, skill-certificate progress

Revision ID: learning_0002
Revises: learning_0001
"""
import sqlalchemy as sa
from alembic import op

revision = "learning_0002"
down_revision = "learning_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "learning_interactions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(24), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.UniqueConstraint("student_id", "subject", "week", "kind", name="uq_learning_interactions"),
    )
    op.create_table(
        "learning_certificates",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("certificate", sa.String(120), nullable=False),
        sa.Column("level", sa.String(40)),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("student_id", "certificate", name="uq_learning_certificates"),
    )


def downgrade() -> None:
    op.drop_table("learning_certificates")
    op.drop_table("learning_interactions")
