"""report rollups: the change markers the click and lead paths write, and the hourly and
daily figures by (bucket, offer, webmaster, sub1, country) the fold keeps up to date

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
COUNTS = (
    "clicks", "unique_clicks", "leads",
    "leads_received", "leads_review", "leads_awaiting_funds", "leads_pending",
    "leads_approved", "leads_rejected", "leads_returned",
    "revenue_minor", "payout_minor",
)  # fmt: skip


def upgrade():
    op.create_table(
        "report_changes",
        sa.Column("id", ROW_ID, nullable=False),
        sa.Column("bucket_hour", sa.DateTime(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_changes")),
    )
    _create_grain("report_hourly", sa.DateTime())
    _create_grain("report_daily", sa.Date())


def _create_grain(table: str, bucket_type) -> None:
    op.create_table(
        table,
        sa.Column("id", ROW_ID, nullable=False),
        sa.Column("bucket", bucket_type, nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("webmaster_id", sa.Integer(), nullable=False),
        sa.Column("sub1", sa.String(length=255), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("advertiser_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        *(sa.Column(name, sa.BigInteger(), server_default="0", nullable=False) for name in COUNTS),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        sa.UniqueConstraint(
            "bucket",
            "offer_id",
            "webmaster_id",
            "sub1",
            "country",
            name=op.f(f"uq_{table}_bucket_offer_id_webmaster_id_sub1_country"),
        ),  # fmt: skip
    )
    for column in ("advertiser_id", "webmaster_id", "offer_id"):
        op.create_index(f"ix_{table}_{column}_bucket", table, [column, "bucket"])


def downgrade():
    for table in ("report_daily", "report_hourly"):
        for column in ("advertiser_id", "webmaster_id", "offer_id"):
            op.drop_index(f"ix_{table}_{column}_bucket", table_name=table)
        op.drop_table(table)
    op.drop_table("report_changes")
