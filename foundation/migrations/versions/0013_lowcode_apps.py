"""low-code apps

Revision ID: 0013_lowcode_apps
Revises: 0012_alerts
Create Date: 2026-11-25 18:10:00
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0013_lowcode_apps'
down_revision = '0012_alerts'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
