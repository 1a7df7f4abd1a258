"""hello: greetings and late counts

Revision ID: hello_0001
Revises: (none: the root of the "hello" branch; depends on the core's plugin_installs)
"""
import sqlalchemy as sa
from alembic import op

revision = "hello_0001"
down_revision = None
branch_labels = ("hello",)
depends_on = "0008_plugin_installs"


def upgrade() -> None:
    op.create_table(
        "hello_greetings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("school_id", sa.Integer(), nullable=False, index=True),
        sa.Column("author_account_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "hello_late_counts",
        sa.Column("school_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("count", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("hello_late_counts")
    op.drop_table("hello_greetings")
