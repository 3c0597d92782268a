"""funds-aware offers: a return window no longer than the hold, a low-balance threshold
and why an offer was paused (by the exchange, for funds); the advertiser's and every
user's notifications

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

WEEK = 7 * 86400


def upgrade():
    with op.batch_alter_table("offers") as batch:
        batch.add_column(
            sa.Column("return_window_seconds", sa.Integer(), nullable=False, server_default=str(WEEK))
        )
        batch.add_column(sa.Column("low_balance_minor", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("paused_for", sa.String(length=20), nullable=True))
    # Until now a lead could be returned for as long as it was on hold: keep that where the hold is short.
    op.execute(
        f"UPDATE offers SET return_window_seconds = CASE WHEN hold_seconds < {WEEK} THEN hold_seconds "
        f"ELSE {WEEK} END"
    )
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("message", sa.String(length=1000), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("read_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_notifications_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    op.create_index(op.f("ix_notifications_user_id"), "notifications", ["user_id"])


def downgrade():
    op.drop_index(op.f("ix_notifications_user_id"), table_name="notifications")
    op.drop_table("notifications")
    with op.batch_alter_table("offers") as batch:
        batch.drop_column("paused_for")
        batch.drop_column("low_balance_minor")
        batch.drop_column("return_window_seconds")
