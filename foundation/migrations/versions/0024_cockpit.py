"""cockpit figures cache (issue 21)

Revision ID: 0024_cockpit
Revises: 0023_principal_versions
Create Date: 2026-12-06 08:30:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = '0024_cockpit'
down_revision = '0023_principal_versions'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
