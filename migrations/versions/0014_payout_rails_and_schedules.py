"""payout rails and schedules: each webmaster's payout settings (manual or Stripe Connect,
on demand, weekly or monthly, thresholds per currency), manual payout batches, and on
each payout its rail, connected account, Stripe transfer, schedule key, batch and the
Idempotency-Key it was requested with

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "payout_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_payout_batches_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payout_batches")),
    )
    op.create_table(
        "payout_settings",
        sa.Column("webmaster_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("rail", sa.String(length=20), nullable=False),
        sa.Column("stripe_account_id", sa.String(length=80), nullable=True),
        sa.Column("schedule", sa.String(length=12), nullable=False),
        sa.Column("weekday", sa.SmallInteger(), nullable=True),
        sa.Column("day_of_month", sa.SmallInteger(), nullable=True),
        sa.Column("thresholds_minor", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("rail IN ('manual', 'stripe_connect')", name=op.f("ck_payout_settings_rail")),
        sa.CheckConstraint(
            "rail <> 'stripe_connect' OR stripe_account_id IS NOT NULL",
            name=op.f("ck_payout_settings_connect_has_account"),
        ),
        sa.CheckConstraint(
            "schedule IN ('on_demand', 'weekly', 'monthly')", name=op.f("ck_payout_settings_schedule")
        ),
        sa.CheckConstraint(
            "schedule <> 'weekly' OR weekday IS NOT NULL", name=op.f("ck_payout_settings_weekly_has_weekday")
        ),
        sa.CheckConstraint(
            "schedule <> 'monthly' OR day_of_month IS NOT NULL",
            name=op.f("ck_payout_settings_monthly_has_day"),
        ),
        sa.CheckConstraint(
            "weekday IS NULL OR weekday BETWEEN 1 AND 7", name=op.f("ck_payout_settings_weekday_range")
        ),
        sa.CheckConstraint(
            "day_of_month IS NULL OR day_of_month BETWEEN 1 AND 31",
            name=op.f("ck_payout_settings_day_of_month_range"),
        ),
        sa.ForeignKeyConstraint(
            ["webmaster_id"], ["users.id"], name=op.f("fk_payout_settings_webmaster_id_users")
        ),
        sa.PrimaryKeyConstraint("webmaster_id", name=op.f("pk_payout_settings")),
    )
    with op.batch_alter_table("payouts") as batch:
        # every payout so far was settled by hand: the manual rail
        batch.add_column(sa.Column("rail", sa.String(length=20), nullable=False, server_default="manual"))
        batch.add_column(sa.Column("stripe_account_id", sa.String(length=80), nullable=True))
        batch.add_column(sa.Column("stripe_transfer_id", sa.String(length=80), nullable=True))
        batch.add_column(sa.Column("schedule_key", sa.String(length=80), nullable=True))
        batch.add_column(sa.Column("batch_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("idempotency_key", sa.String(length=255), nullable=True))
        batch.create_check_constraint("rail", "rail IN ('manual', 'stripe_connect')")
        batch.create_check_constraint(
            "connect_has_account", "rail <> 'stripe_connect' OR stripe_account_id IS NOT NULL"
        )
        batch.create_unique_constraint(op.f("uq_payouts_stripe_transfer_id"), ["stripe_transfer_id"])
        batch.create_unique_constraint(op.f("uq_payouts_schedule_key"), ["schedule_key"])
        batch.create_unique_constraint(
            op.f("uq_payouts_webmaster_id_idempotency_key"), ["webmaster_id", "idempotency_key"]
        )
        batch.create_foreign_key(
            op.f("fk_payouts_batch_id_payout_batches"), "payout_batches", ["batch_id"], ["id"]
        )
        batch.create_index(op.f("ix_payouts_batch_id"), ["batch_id"])


def downgrade():
    with op.batch_alter_table("payouts") as batch:
        batch.drop_index(op.f("ix_payouts_batch_id"))
        batch.drop_constraint(op.f("fk_payouts_batch_id_payout_batches"), type_="foreignkey")
        batch.drop_constraint(op.f("uq_payouts_webmaster_id_idempotency_key"), type_="unique")
        batch.drop_constraint(op.f("uq_payouts_schedule_key"), type_="unique")
        batch.drop_constraint(op.f("uq_payouts_stripe_transfer_id"), type_="unique")
        batch.drop_constraint("connect_has_account", type_="check")
        batch.drop_constraint("rail", type_="check")
        batch.drop_column("idempotency_key")
        batch.drop_column("batch_id")
        batch.drop_column("schedule_key")
        batch.drop_column("stripe_transfer_id")
        batch.drop_column("stripe_account_id")
        batch.drop_column("rail")
    op.drop_table("payout_settings")
    op.drop_table("payout_batches")
