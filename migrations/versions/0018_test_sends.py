"""test sends: the portals' test postbacks and test leads in a table of their own, with
their state in columns, so that they are not among a user's notifications

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

BOUNDED = 500  # error and response_excerpt, as in the attempt tables


def upgrade():
    op.create_table(
        "test_sends",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("queued_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("latency_ms", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(length=BOUNDED), nullable=True),
        sa.Column("response_excerpt", sa.String(length=BOUNDED), nullable=False),
        sa.Column("decision", sa.String(length=8), nullable=True),
        sa.CheckConstraint(
            "decision IS NULL OR decision IN ('approve', 'reject')", name=op.f("ck_test_sends_decision")
        ),
        sa.CheckConstraint("kind IN ('postback', 'lead')", name=op.f("ck_test_sends_kind")),
        sa.CheckConstraint("state IN ('queued', 'sending', 'sent')", name=op.f("ck_test_sends_state")),
        sa.ForeignKeyConstraint(["offer_id"], ["offers.id"], name=op.f("fk_test_sends_offer_id_offers")),
        sa.ForeignKeyConstraint(
            ["owner_user_id"], ["users.id"], name=op.f("fk_test_sends_owner_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_test_sends")),
    )
    op.create_index("ix_test_sends_owner_user_id_kind_id", "test_sends", ["owner_user_id", "kind", "id"])


def downgrade():
    """The tests are a log of trial calls: they are dropped with their table."""
    op.drop_index("ix_test_sends_owner_user_id_kind_id", table_name="test_sends")
    op.drop_table("test_sends")
