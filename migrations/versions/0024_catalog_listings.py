"""catalog listings: the leads the catalog offers, their facts and slots (issue 18)

Revision ID: 0024
Revises: 0023
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "catalog_listings",
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("vertical_id", sa.Integer(), nullable=False),
        sa.Column("seller_id", sa.Integer(), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("region", sa.String(length=100), nullable=True),
        sa.Column("postcode", sa.String(length=20), nullable=True),
        sa.Column("temperature", sa.String(length=8), nullable=True),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("consent", sa.Boolean(), nullable=False),
        sa.Column("floor_minor", sa.BigInteger(), nullable=True),
        sa.Column("captured_at", sa.DateTime(), nullable=False),
        sa.Column("slots", sa.Integer(), nullable=False),
        sa.Column("sold", sa.Integer(), nullable=False),
        sa.Column("own_sold", sa.Integer(), nullable=False),
        sa.Column("exclusive_sold", sa.Boolean(), nullable=False),
        sa.Column("listed", sa.Boolean(), nullable=False),
        sa.Column("listed_at", sa.DateTime(), nullable=False),
        sa.Column("unlisted_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("sold >= 0 AND sold <= slots", name=op.f("ck_catalog_listings_slots")),
        sa.CheckConstraint("NOT exclusive_sold OR sold = slots", name=op.f("ck_catalog_listings_exclusive")),
        sa.CheckConstraint(
            "NOT listed OR (sold < slots AND floor_minor > 0)", name=op.f("ck_catalog_listings_listed")
        ),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], name=op.f("fk_catalog_listings_lead_id_leads")),
        sa.ForeignKeyConstraint(["seller_id"], ["users.id"], name=op.f("fk_catalog_listings_seller_id_users")),
        sa.ForeignKeyConstraint(
            ["vertical_id"], ["verticals.id"], name=op.f("fk_catalog_listings_vertical_id_verticals")
        ),
        sa.PrimaryKeyConstraint("lead_id", name=op.f("pk_catalog_listings")),
    )
    op.create_index(
        "ix_catalog_listings_search",
        "catalog_listings",
        ["vertical_id", "country", "temperature", "captured_at"],
        unique=False,
        postgresql_where=sa.text("listed"),
        sqlite_where=sa.text("listed"),
    )
    op.create_index("ix_catalog_listings_seller", "catalog_listings", ["seller_id", "captured_at"], unique=False)


def downgrade():
    op.drop_index("ix_catalog_listings_seller", table_name="catalog_listings")
    op.drop_index("ix_catalog_listings_search", table_name="catalog_listings")
    op.drop_table("catalog_listings")
