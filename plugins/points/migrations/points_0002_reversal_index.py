"""points: index the reversal link (an archive lists, per entry, the reversal that cancelled it)

Revision ID: points_0002
Revises: points_0001
"""
from alembic import op

revision = "points_0002"
down_revision = "points_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_points_entries_reverses_id", "points_entries", ["reverses_id"])


def downgrade() -> None:
    op.drop_index("ix_points_entries_reverses_id", table_name="points_entries")
