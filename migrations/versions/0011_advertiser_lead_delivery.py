"""advertiser lead delivery: endpoint settings with signing secrets (global and per
offer), one delivery per accepted lead, and the append-only log of its attempts

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

GLOBAL_ONLY = sa.text("offer_id IS NULL")


def upgrade():
    op.create_table(
        "delivery_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("advertiser_id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=True),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("signing_secret", sa.String(length=100), nullable=False),
        sa.Column("secret_created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["advertiser_id"], ["users.id"], name=op.f("fk_delivery_settings_advertiser_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["offer_id"], ["offers.id"], name=op.f("fk_delivery_settings_offer_id_offers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_settings")),
        sa.UniqueConstraint(
            "advertiser_id", "offer_id", name=op.f("uq_delivery_settings_advertiser_id_offer_id")
        ),
    )
    # One global endpoint per advertiser: NULL offer ids are distinct in the unique key above.
    op.create_index(
        "uq_delivery_settings_advertiser_id_global",
        "delivery_settings",
        ["advertiser_id"],
        unique=True,
        sqlite_where=GLOBAL_ONLY,
        postgresql_where=GLOBAL_ONLY,
    )
    op.create_table(
        "lead_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("advertiser_id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False, server_default=""),
        sa.Column("state", sa.String(length=12), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "state IN ('pending', 'delivered', 'failed')", name=op.f("ck_lead_deliveries_state")
        ),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_lead_deliveries_attempts")),
        sa.ForeignKeyConstraint(
            ["advertiser_id"], ["users.id"], name=op.f("fk_lead_deliveries_advertiser_id_users")
        ),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], name=op.f("fk_lead_deliveries_lead_id_leads")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_deliveries")),
        sa.UniqueConstraint("lead_id", name=op.f("uq_lead_deliveries_lead_id")),
    )
    op.create_index(op.f("ix_lead_deliveries_advertiser_id"), "lead_deliveries", ["advertiser_id"])
    op.create_index(
        "ix_lead_deliveries_state_next_attempt_at", "lead_deliveries", ["state", "next_attempt_at"]
    )
    op.create_table(
        "lead_delivery_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False, server_default=""),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("latency_ms", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("response_excerpt", sa.String(length=500), nullable=False, server_default=""),
        sa.Column("decision", sa.String(length=8), nullable=True),
        sa.Column("decision_result", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["lead_deliveries.id"],
            name=op.f("fk_lead_delivery_attempts_delivery_id_lead_deliveries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_delivery_attempts")),
        sa.UniqueConstraint(
            "delivery_id", "number", name=op.f("uq_lead_delivery_attempts_delivery_id_number")
        ),
    )
    _guard_append_only("lead_delivery_attempts")


def downgrade():
    _drop_guard("lead_delivery_attempts")
    op.drop_table("lead_delivery_attempts")
    op.drop_index("ix_lead_deliveries_state_next_attempt_at", table_name="lead_deliveries")
    op.drop_index(op.f("ix_lead_deliveries_advertiser_id"), table_name="lead_deliveries")
    op.drop_table("lead_deliveries")
    op.drop_index("uq_delivery_settings_advertiser_id_global", table_name="delivery_settings")
    op.drop_table("delivery_settings")


def _guard_append_only(table: str) -> None:
    """The attempt log refuses UPDATE and DELETE, like the postback attempts of revision 0009
    (on PostgreSQL with the refuse_change() function of revision 0001)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION refuse_change()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )


def _drop_guard(table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
