"""long tasks: exports and the decisions import run as jobs, with their progress, their
per-row errors and their result (the CSV, kept in the database until it expires)

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

MAX_RESULT_BYTES = 20 * 1024 * 1024


def upgrade():
    op.create_table(
        "long_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("message", sa.String(length=500), nullable=True),
        sa.Column("source", sa.LargeBinary(), nullable=True),
        sa.Column("result", sa.LargeBinary(), nullable=True),
        sa.Column("result_bytes", sa.Integer(), nullable=False),
        sa.Column("result_name", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("expired_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('leads_export', 'report_export', 'decisions_import')", name=op.f("ck_long_tasks_kind")
        ),
        sa.CheckConstraint(
            "state IN ('queued', 'running', 'done', 'failed')", name=op.f("ck_long_tasks_state")
        ),
        sa.CheckConstraint(
            "done >= 0 AND total >= 0 AND failed >= 0 AND failed <= done", name=op.f("ck_long_tasks_counts")
        ),
        sa.CheckConstraint(f"result_bytes <= {MAX_RESULT_BYTES}", name=op.f("ck_long_tasks_result_bytes")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_long_tasks_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_long_tasks")),
    )
    op.create_index("ix_long_tasks_user_id_id", "long_tasks", ["user_id", "id"])
    op.create_index("ix_long_tasks_state_updated_at", "long_tasks", ["state", "updated_at"])
    op.create_index("ix_long_tasks_expired_at_finished_at", "long_tasks", ["expired_at", "finished_at"])


def downgrade():
    op.drop_index("ix_long_tasks_expired_at_finished_at", table_name="long_tasks")
    op.drop_index("ix_long_tasks_state_updated_at", table_name="long_tasks")
    op.drop_index("ix_long_tasks_user_id_id", table_name="long_tasks")
    op.drop_table("long_tasks")
