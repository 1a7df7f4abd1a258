"""learning: the knowledge map, the Q-matrix, BKT parameters, responses, mastery and its weekly history, the
resource library, pushes, plans and test scores

Revision ID: learning_0001
Revises: (none: the root of the "learning" branch; depends on the core's plugin_installs)
"""
import sqlalchemy as sa
from alembic import op

revision = "learning_0001"
down_revision = None
branch_labels = ("learning",)
depends_on = "0008_plugin_installs"


def upgrade() -> None:
    op.create_table(
        "learning_scores",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("class_id", sa.Integer()),
        sa.Column("subject", sa.String(24), nullable=False),
        sa.Column("test_id", sa.String(64), nullable=False),
        sa.Column("test_kind", sa.String(16), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("student_id", "subject", "test_id", name="uq_learning_scores_test"),
    )
    op.create_table(
        "learning_points",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(24), nullable=False),
        sa.Column("grade", sa.Integer()),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("name_en", sa.String(120)),
        sa.Column("parent_code", sa.String(64)),
        sa.Column("origin", sa.String(12), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.UniqueConstraint("school_id", "code", name="uq_learning_points_code"),
    )
    op.create_table(
        "learning_items",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(24), nullable=False),
        sa.Column("points", sa.JSON(), nullable=False),
        sa.UniqueConstraint("school_id", "item_id", name="uq_learning_items_item"),
    )
    op.create_table(
        "learning_params",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("prior", sa.Float(), nullable=False),
        sa.Column("learn", sa.Float(), nullable=False),
        sa.Column("guess", sa.Float(), nullable=False),
        sa.Column("slip", sa.Float(), nullable=False),
        sa.Column("responses", sa.Integer(), nullable=False),
        sa.Column("fitted_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("school_id", "code", name="uq_learning_params_code"),
    )
    op.create_table(
        "learning_responses",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("correct", sa.Boolean(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("record_id", sa.Integer()),
    )
    op.create_index("ix_learning_responses_code_student", "learning_responses", ["school_id", "code", "student_id", "occurred_at"])
    op.create_table(
        "learning_mastery",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("p", sa.Float(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("correct", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("student_id", "code", name="uq_learning_mastery_student_code"),
    )
    op.create_table(
        "learning_history",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("p", sa.Float(), nullable=False),
        sa.UniqueConstraint("student_id", "code", "week", name="uq_learning_history_week"),
    )
    op.create_table(
        "learning_resources",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("url", sa.String(500), nullable=False),
        sa.Column("subject", sa.String(24), nullable=False),
        sa.Column("grade", sa.Integer()),
        sa.Column("minutes", sa.Integer()),
        sa.Column("points", sa.JSON(), nullable=False),
        sa.Column("origin", sa.String(12), nullable=False),
        sa.Column("created_by_name", sa.String(120)),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "learning_pushes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), sa.ForeignKey("learning_resources.id"), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("p_at_push", sa.Float(), nullable=False),
        sa.Column("pushed_at", sa.DateTime(), nullable=False),
        sa.Column("opened_at", sa.DateTime()),
    )
    op.create_index("ix_learning_pushes_student_time", "learning_pushes", ["student_id", "pushed_at"])
    op.create_table(
        "learning_plans",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(64)),
        sa.Column("text", sa.String(1000), nullable=False),
        sa.Column("created_by", sa.Integer()),
        sa.Column("created_by_name", sa.String(120)),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("learning_plans")
    op.drop_table("learning_pushes")
    op.drop_table("learning_resources")
    op.drop_table("learning_history")
    op.drop_table("learning_mastery")
    op.drop_table("learning_responses")
    op.drop_table("learning_params")
    op.drop_table("learning_items")
    op.drop_table("learning_points")
    op.drop_table("learning_scores")
