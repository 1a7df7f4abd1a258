"""wellbeing: when a response's alert case was closed (so the workbench lists open cases)

Revision ID: wellbeing_0002
Revises: wellbeing_0001
"""
import sqlalchemy as sa
from alembic import op

revision = "wellbeing_0002"
down_revision = "wellbeing_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("wellbeing_responses", sa.Column("case_closed_at", sa.DateTime()))


def downgrade() -> None:
    op.drop_column("wellbeing_responses", "case_closed_at")
