"""enrolment history and school facilities for the forecast and the balanced-development map (issue 21)

Revision ID: 0025_planning
Revises: 0024_cockpit
Create Date: 2026-12-06 08:30:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = '0025_planning'
down_revision = '0024_cockpit'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
