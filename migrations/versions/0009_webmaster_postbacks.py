"""webmaster postbacks: postback URLs (global and per offer), one delivery per lead
event, and the append-only log of attempts

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

GLOBAL_ONLY = sa.text("offer_id IS NULL")


def upgrade():
    op.create_table(
        "postback_urls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("webmaster_id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=True),
        sa.Column("url_template", sa.String(length=2000), nullable=False),
        sa.Column("status_map", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["offer_id"], ["offers.id"], name=op.f("fk_postback_urls_offer_id_offers")),
        sa.ForeignKeyConstraint(
            ["webmaster_id"], ["users.id"], name=op.f("fk_postback_urls_webmaster_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_postback_urls")),
        sa.UniqueConstraint("webmaster_id", "offer_id", name=op.f("uq_postback_urls_webmaster_id_offer_id")),
    )
    # One global URL per webmaster: NULL offer ids are distinct in the unique key above.
    op.create_index(
        "uq_postback_urls_webmaster_id_global",
        "postback_urls",
        ["webmaster_id"],
        unique=True,
        sqlite_where=GLOBAL_ONLY,
        postgresql_where=GLOBAL_ONLY,
    )
    op.create_table(
        "postback_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("webmaster_id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("lead_event_id", sa.Integer(), nullable=False),
        sa.Column("lead_status", sa.String(length=16), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "state IN ('pending', 'delivered', 'failed')", name=op.f("ck_postback_deliveries_state")
        ),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_postback_deliveries_attempts")),
        sa.ForeignKeyConstraint(
            ["lead_event_id"],
            ["lead_events.id"],
            name=op.f("fk_postback_deliveries_lead_event_id_lead_events"),
        ),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], name=op.f("fk_postback_deliveries_lead_id_leads")),
        sa.ForeignKeyConstraint(
            ["webmaster_id"], ["users.id"], name=op.f("fk_postback_deliveries_webmaster_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_postback_deliveries")),
        sa.UniqueConstraint("lead_event_id", name=op.f("uq_postback_deliveries_lead_event_id")),
    )
    op.create_index(op.f("ix_postback_deliveries_lead_id"), "postback_deliveries", ["lead_id"])
    op.create_index(op.f("ix_postback_deliveries_webmaster_id"), "postback_deliveries", ["webmaster_id"])
    op.create_index(
        "ix_postback_deliveries_state_next_attempt_at", "postback_deliveries", ["state", "next_attempt_at"]
    )
    op.create_table(
        "postback_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("response_excerpt", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["postback_deliveries.id"],
            name=op.f("fk_postback_attempts_delivery_id_postback_deliveries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_postback_attempts")),
        sa.UniqueConstraint("delivery_id", "number", name=op.f("uq_postback_attempts_delivery_id_number")),
    )
    _guard_append_only("postback_attempts")


def downgrade():
    _drop_guard("postback_attempts")
    op.drop_table("postback_attempts")
    op.drop_index("ix_postback_deliveries_state_next_attempt_at", table_name="postback_deliveries")
    op.drop_index(op.f("ix_postback_deliveries_webmaster_id"), table_name="postback_deliveries")
    op.drop_index(op.f("ix_postback_deliveries_lead_id"), table_name="postback_deliveries")
    op.drop_table("postback_deliveries")
    op.drop_index("uq_postback_urls_webmaster_id_global", table_name="postback_urls")
    op.drop_table("postback_urls")


def _guard_append_only(table: str) -> None:
    """The attempt log, like the ledger and the lead events, refuses UPDATE and DELETE
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
