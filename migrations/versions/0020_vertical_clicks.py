"""vertical clicks: a click is on an offer's link or on a seller's vertical link

Revision ID: 0020
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

OFFER_OR_VERTICAL = (
    "(participation_id IS NOT NULL AND offer_id IS NOT NULL"
    " AND vertical_seller_id IS NULL AND vertical_id IS NULL)"
    " OR (participation_id IS NULL AND offer_id IS NULL"
    " AND vertical_seller_id IS NOT NULL AND vertical_id IS NOT NULL)"
)


def upgrade():
    with op.batch_alter_table("clicks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("vertical_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("vertical_seller_id", sa.Integer(), nullable=True))
        batch_op.alter_column("offer_id", existing_type=sa.INTEGER(), nullable=True)
        batch_op.alter_column("participation_id", existing_type=sa.INTEGER(), nullable=True)
        batch_op.create_foreign_key(
            batch_op.f("fk_clicks_vertical_id_verticals"), "verticals", ["vertical_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_clicks_vertical_seller_id_vertical_sellers"),
            "vertical_sellers",
            ["vertical_seller_id"],
            ["id"],
        )
        batch_op.create_index(
            batch_op.f("ix_clicks_vertical_seller_id"), ["vertical_seller_id"], unique=False
        )
        batch_op.create_index("ix_clicks_vertical_visitor", ["vertical_id", "ip", "created_at"], unique=False)
        batch_op.create_check_constraint("offer_or_vertical", OFFER_OR_VERTICAL)


def downgrade():
    """Refused once a vertical link has been clicked: an offer's click table cannot hold it,
    and leads may name it by its click id."""
    if (
        op.get_bind()
        .execute(sa.text("SELECT count(*) FROM clicks WHERE vertical_seller_id IS NOT NULL"))
        .scalar()
    ):
        raise RuntimeError("clicks on vertical links exist; downgrading below 0020 would lose them")
    with op.batch_alter_table("clicks", schema=None) as batch_op:
        batch_op.drop_constraint("offer_or_vertical", type_="check")
        batch_op.drop_index("ix_clicks_vertical_visitor")
        batch_op.drop_index(batch_op.f("ix_clicks_vertical_seller_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_clicks_vertical_seller_id_vertical_sellers"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("fk_clicks_vertical_id_verticals"), type_="foreignkey")
        batch_op.alter_column("participation_id", existing_type=sa.INTEGER(), nullable=False)
        batch_op.alter_column("offer_id", existing_type=sa.INTEGER(), nullable=False)
        batch_op.drop_column("vertical_seller_id")
        batch_op.drop_column("vertical_id")
