"""payment models cpl / cpa / cps with percentage prices, payout rules, conversions
reported by the advertiser's postback, custom payouts in bps, declared traffic sources

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

PRICES = (
    "(rate_bps IS NULL AND payout_bps IS NULL AND payout_minor > 0 AND rate_minor >= payout_minor)"
    " OR (model = 'cps' AND rate_minor IS NULL AND payout_minor IS NULL"
    " AND payout_bps > 0 AND rate_bps >= payout_bps AND rate_bps <= 10000)"
)


def upgrade():
    op.create_table(
        "postback_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("advertiser_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("ip_allowlist", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["advertiser_id"], ["users.id"], name=op.f("fk_postback_tokens_advertiser_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_postback_tokens")),
        sa.UniqueConstraint("advertiser_id", name=op.f("uq_postback_tokens_advertiser_id")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_postback_tokens_token_hash")),
    )
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pricing", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("txid", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("sale_amount_minor", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("reported_status", sa.String(length=16), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_leads_advertiser_id_txid"), ["advertiser_id", "txid"])
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rate_bps", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("payout_bps", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("payout_rules", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.alter_column("rate_minor", existing_type=sa.BigInteger(), nullable=True)
        batch_op.alter_column("payout_minor", existing_type=sa.BigInteger(), nullable=True)
        batch_op.drop_constraint("prices", type_="check")
        batch_op.create_check_constraint("prices", PRICES)
        batch_op.drop_constraint("model", type_="check")
        batch_op.create_check_constraint("model", "model IN ('cpl', 'cpa', 'cps')")
    with op.batch_alter_table("participations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("custom_payout_bps", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("traffic_sources", sa.JSON(), nullable=False, server_default="[]"))


def downgrade():
    # Offers of the new models cannot be expressed before this revision: refuse rather than lose them.
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT count(*) FROM offers WHERE model != 'cpl'")).scalar():
        raise RuntimeError("cpa / cps offers exist: downgrading would lose their prices")
    with op.batch_alter_table("participations", schema=None) as batch_op:
        batch_op.drop_column("traffic_sources")
        batch_op.drop_column("custom_payout_bps")
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.drop_constraint("model", type_="check")
        batch_op.create_check_constraint("model", "model IN ('cpl')")
        batch_op.drop_constraint("prices", type_="check")
        batch_op.create_check_constraint("prices", "payout_minor > 0 AND rate_minor >= payout_minor")
        batch_op.alter_column("payout_minor", existing_type=sa.BigInteger(), nullable=False)
        batch_op.alter_column("rate_minor", existing_type=sa.BigInteger(), nullable=False)
        batch_op.drop_column("payout_rules")
        batch_op.drop_column("payout_bps")
        batch_op.drop_column("rate_bps")
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_leads_advertiser_id_txid"), type_="unique")
        batch_op.drop_column("reported_status")
        batch_op.drop_column("sale_amount_minor")
        batch_op.drop_column("txid")
        batch_op.drop_column("pricing")
    op.drop_table("postback_tokens")
