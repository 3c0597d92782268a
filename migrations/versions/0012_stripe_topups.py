"""stripe top-ups: the advertiser's card payments (one PaymentIntent each) and every
verified Stripe event, once, with when and how it was applied

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "topups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("advertiser_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("payment_intent_id", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("failure", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("settled_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_topups_amount_positive")),
        sa.CheckConstraint("status IN ('requested', 'succeeded', 'failed')", name=op.f("ck_topups_status")),
        sa.ForeignKeyConstraint(["advertiser_id"], ["users.id"], name=op.f("fk_topups_advertiser_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_topups")),
        sa.UniqueConstraint("payment_intent_id", name=op.f("uq_topups_payment_intent_id")),
    )
    op.create_index(op.f("ix_topups_advertiser_id"), "topups", ["advertiser_id"])
    op.create_table(
        "stripe_events",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("processed_at", sa.DateTime(), nullable=True),
        sa.Column("outcome", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stripe_events")),
    )
    op.create_index(op.f("ix_stripe_events_processed_at"), "stripe_events", ["processed_at"])


def downgrade():
    op.drop_index(op.f("ix_stripe_events_processed_at"), table_name="stripe_events")
    op.drop_table("stripe_events")
    op.drop_index(op.f("ix_topups_advertiser_id"), table_name="topups")
    op.drop_table("topups")
