"""a version counter per account that role changes bump, for the principal cache (issue 20)

Revision ID: 0023_principal_versions
Revises: 0022_ingest_partitions
Create Date: 2026-12-06 08:30:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = '0023_principal_versions'
down_revision = '0022_ingest_partitions'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
