"""points: where each score stands (class, grade and school rank, the family's band), kept with the score

Revision ID: points_0003
Revises: points_0002
"""
import sqlalchemy as sa
from alembic import op

revision = "points_0003"
down_revision = "points_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("points_scores") as b:
        b.add_column(sa.Column("class_rank", sa.Integer(), nullable=True))
        b.add_column(sa.Column("grade_rank", sa.Integer(), nullable=True))
        b.add_column(sa.Column("school_rank", sa.Integer(), nullable=True))
        b.add_column(sa.Column("band", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("points_scores") as b:
        for name in ("band", "school_rank", "grade_rank", "class_rank"):
            b.drop_column(name)
