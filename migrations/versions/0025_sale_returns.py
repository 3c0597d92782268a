"""sale returns: a buyer's return of one sale is a dispute of its own (one per sale), and
each vertical caps its buyers' returns as a percent of a month's purchases (issue 18)

Revision ID: 0025
Revises: 0024
"""

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("disputes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sale_id", sa.Integer(), nullable=True))
        batch_op.alter_column("kind", type_=sa.String(length=12), existing_type=sa.String(length=8))
        batch_op.create_foreign_key(op.f("fk_disputes_sale_id_sales"), "sales", ["sale_id"], ["id"])
        batch_op.create_unique_constraint(op.f("uq_disputes_sale_id"), ["sale_id"])
        batch_op.drop_constraint(op.f("uq_disputes_lead_id_kind"), type_="unique")
        batch_op.drop_constraint("kind", type_="check")
        batch_op.create_check_constraint("kind", "kind IN ('appeal', 'return', 'sale_return')")
        batch_op.create_check_constraint("sale", "(kind = 'sale_return') = (sale_id IS NOT NULL)")
    op.create_index(
        "uq_disputes_lead_id_kind",
        "disputes",
        ["lead_id", "kind"],
        unique=True,
        postgresql_where=sa.text("sale_id IS NULL"),
        sqlite_where=sa.text("sale_id IS NULL"),
    )
    with op.batch_alter_table("verticals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("return_cap_percent", sa.Integer(), nullable=True, server_default="20"))
        batch_op.create_check_constraint(
            "return_cap_percent", "return_cap_percent IS NULL OR return_cap_percent BETWEEN 0 AND 100"
        )
    with op.batch_alter_table("verticals", schema=None) as batch_op:  # 20 for the verticals there were
        batch_op.alter_column("return_cap_percent", server_default=None)


def downgrade():
    with op.batch_alter_table("verticals", schema=None) as batch_op:
        batch_op.drop_constraint("return_cap_percent", type_="check")
        batch_op.drop_column("return_cap_percent")
    op.drop_index("uq_disputes_lead_id_kind", table_name="disputes")
    op.execute("DELETE FROM dispute_messages WHERE dispute_id IN (SELECT id FROM disputes WHERE kind = 'sale_return')")
    op.execute("DELETE FROM disputes WHERE kind = 'sale_return'")
    with op.batch_alter_table("disputes", schema=None) as batch_op:
        batch_op.drop_constraint("sale", type_="check")
        batch_op.drop_constraint("kind", type_="check")
        batch_op.create_check_constraint("kind", "kind IN ('appeal', 'return')")
        batch_op.create_unique_constraint(op.f("uq_disputes_lead_id_kind"), ["lead_id", "kind"])
        batch_op.drop_constraint(op.f("uq_disputes_sale_id"), type_="unique")
        batch_op.drop_constraint(op.f("fk_disputes_sale_id_sales"), type_="foreignkey")
        batch_op.drop_column("sale_id")
        batch_op.alter_column("kind", type_=sa.String(length=8), existing_type=sa.String(length=12))
