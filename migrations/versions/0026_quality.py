"""quality: each seller's and each buyer's record per vertical (counts: the multiplier on a
seller's prices and a buyer's rank among equal bids are computed from them), and the rank
each bid had in its auction (issue 18)

Revision ID: 0026
Revises: 0025
"""

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "seller_quality",
        sa.Column("seller_id", sa.Integer(), nullable=False),
        sa.Column("vertical_id", sa.Integer(), nullable=False),
        sa.Column("approved", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("returned", sa.Integer(), nullable=False),
        sa.Column("counted_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["seller_id"], ["users.id"], name=op.f("fk_seller_quality_seller_id_users")),
        sa.ForeignKeyConstraint(
            ["vertical_id"], ["verticals.id"], name=op.f("fk_seller_quality_vertical_id_verticals")
        ),
        sa.PrimaryKeyConstraint("seller_id", "vertical_id", name=op.f("pk_seller_quality")),
    )
    op.create_table(
        "buyer_standing",
        sa.Column("buyer_id", sa.Integer(), nullable=False),
        sa.Column("vertical_id", sa.Integer(), nullable=False),
        sa.Column("sales", sa.Integer(), nullable=False),
        sa.Column("refused", sa.Integer(), nullable=False),
        sa.Column("returned", sa.Integer(), nullable=False),
        sa.Column("counted_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["buyer_id"], ["users.id"], name=op.f("fk_buyer_standing_buyer_id_users")),
        sa.ForeignKeyConstraint(
            ["vertical_id"], ["verticals.id"], name=op.f("fk_buyer_standing_vertical_id_verticals")
        ),
        sa.PrimaryKeyConstraint("buyer_id", "vertical_id", name=op.f("pk_buyer_standing")),
    )
    with op.batch_alter_table("auction_bids", schema=None) as batch_op:
        batch_op.add_column(sa.Column("buyer_rank_tenths", sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table("auction_bids", schema=None) as batch_op:
        batch_op.drop_column("buyer_rank_tenths")
    op.drop_table("buyer_standing")
    op.drop_table("seller_quality")
