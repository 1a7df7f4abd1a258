"""message center

Revision ID: 0011_messages
Revises: 0010_lowcode_forms
Create Date: 2026-11-25 18:10:00
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0011_messages'
down_revision = '0010_lowcode_forms'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
