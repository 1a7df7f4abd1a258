"""alert engine

Revision ID: 0012_alerts
Revises: 0011_messages
Create Date: 2026-11-25 18:10:00
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0012_alerts'
down_revision = '0011_messages'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
