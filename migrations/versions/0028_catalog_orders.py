"""catalog orders: each purchase from the catalog is placed as an order (its leads, shared
or exclusive, the prices the buyer was shown) and filled in turns with the orders placed
beside it, in one transaction, with its outcome kept: its sales or its refusal (issue 18)

Revision ID: 0028
Revises: 0027
"""

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "catalog_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("buyer_id", sa.Integer(), nullable=False),
        sa.Column("purchases", sa.JSON(), nullable=False),
        sa.Column("first", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("sale_ids", sa.JSON(), nullable=True),
        sa.Column("refusal", sa.JSON(), nullable=True),
        sa.Column("placed_at", sa.DateTime(), nullable=False),
        sa.Column("done_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "status IN ('waiting', 'filled', 'refused', 'withdrawn')", name=op.f("ck_catalog_orders_status")
        ),
        sa.ForeignKeyConstraint(["buyer_id"], ["users.id"], name=op.f("fk_catalog_orders_buyer_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_orders")),
    )
    with op.batch_alter_table("catalog_orders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_catalog_orders_buyer_id"), ["buyer_id"], unique=False)
        batch_op.create_index(
            "ix_catalog_orders_waiting",
            ["id"],
            unique=False,
            postgresql_where=sa.text("status = 'waiting'"),
            sqlite_where=sa.text("status = 'waiting'"),
        )


def downgrade():
    with op.batch_alter_table("catalog_orders", schema=None) as batch_op:
        batch_op.drop_index("ix_catalog_orders_waiting", postgresql_where=sa.text("status = 'waiting'"))
        batch_op.drop_index(batch_op.f("ix_catalog_orders_buyer_id"))
    op.drop_table("catalog_orders")
