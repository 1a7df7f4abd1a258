"""aid: an award recommended for approval remembers its flow (the platform's aid.grant approval)

Revision ID: aid_0002
Revises: aid_0001
"""
import sqlalchemy as sa
from alembic import op

revision = "aid_0002"
down_revision = "aid_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("aid_awards", sa.Column("flow_submission_id", sa.Integer()))


def downgrade() -> None:
    with op.batch_alter_table("aid_awards") as batch:
        batch.drop_column("flow_submission_id")
