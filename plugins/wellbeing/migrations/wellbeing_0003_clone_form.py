"""wellbeing: a screening may use the school's low-code clone of PHQ-9 or GAD-7 (its form and version)

Revision ID: wellbeing_0003
Revises: wellbeing_0002
"""
import sqlalchemy as sa
from alembic import op

revision = "wellbeing_0003"
down_revision = "wellbeing_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("wellbeing_screenings", sa.Column("form_id", sa.Integer()))
    op.add_column("wellbeing_screenings", sa.Column("form_version", sa.Integer()))


def downgrade() -> None:
    op.drop_column("wellbeing_screenings", "form_version")
    op.drop_column("wellbeing_screenings", "form_id")
