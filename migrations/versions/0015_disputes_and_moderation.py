"""disputes and moderation: appeals and returns with their threads, the moderators'
append-only audit log, partner status on users, dispute and fraud-review settings on
offers, the review state of a lead, when it was rejected or reinstated, and the appeal
and return deadlines fixed when it was rejected or approved

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

DAY = 86400
LEAD_STATES = "'received', 'pending', 'awaiting_funds', 'rejected', 'approved', 'returned'"
APPEND_ONLY = ("moderation_actions", "dispute_messages")


def upgrade():
    op.create_table(
        "moderation_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("actor_kind", sa.String(length=12), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("actor_label", sa.String(length=80), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("subject_type", sa.String(length=20), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=2000), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_user_id"], ["users.id"], name=op.f("fk_moderation_actions_actor_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderation_actions")),
    )
    op.create_index(op.f("ix_moderation_actions_actor_user_id"), "moderation_actions", ["actor_user_id"])
    op.create_index(op.f("ix_moderation_actions_created_at"), "moderation_actions", ["created_at"])
    op.create_table(
        "disputes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("advertiser_id", sa.Integer(), nullable=False),
        sa.Column("webmaster_id", sa.Integer(), nullable=False),
        sa.Column("opened_by_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("statement", sa.String(length=4000), nullable=False),
        sa.Column("answer_due_at", sa.DateTime(), nullable=False),
        sa.Column("escalated_at", sa.DateTime(), nullable=True),
        sa.Column("escalated_because", sa.String(length=16), nullable=True),
        sa.Column("decide_by", sa.DateTime(), nullable=True),
        sa.Column("outcome", sa.String(length=12), nullable=True),
        sa.Column("decided_by", sa.String(length=12), nullable=True),
        sa.Column("decided_by_user_id", sa.Integer(), nullable=True),
        sa.Column("decision_reason", sa.String(length=2000), nullable=True),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "decided_by IS NULL OR decided_by IN ('moderator', 'party', 'rule')",
            name=op.f("ck_disputes_decided_by"),
        ),
        sa.CheckConstraint("kind IN ('appeal', 'return')", name=op.f("ck_disputes_kind")),
        sa.CheckConstraint(
            "outcome IS NULL OR outcome IN ('upheld', 'overturned')", name=op.f("ck_disputes_outcome")
        ),
        sa.CheckConstraint(
            "status IN ('awaiting_answer', 'escalated', 'resolved', 'withdrawn')",
            name=op.f("ck_disputes_status"),
        ),
        sa.ForeignKeyConstraint(["advertiser_id"], ["users.id"], name=op.f("fk_disputes_advertiser_id_users")),
        sa.ForeignKeyConstraint(
            ["decided_by_user_id"], ["users.id"], name=op.f("fk_disputes_decided_by_user_id_users")
        ),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], name=op.f("fk_disputes_lead_id_leads")),
        sa.ForeignKeyConstraint(["opened_by_id"], ["users.id"], name=op.f("fk_disputes_opened_by_id_users")),
        sa.ForeignKeyConstraint(["webmaster_id"], ["users.id"], name=op.f("fk_disputes_webmaster_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disputes")),
        sa.UniqueConstraint("lead_id", "kind", name=op.f("uq_disputes_lead_id_kind")),
    )
    op.create_index(op.f("ix_disputes_advertiser_id"), "disputes", ["advertiser_id"])
    op.create_index(op.f("ix_disputes_webmaster_id"), "disputes", ["webmaster_id"])
    op.create_index("ix_disputes_status_answer_due_at", "disputes", ["status", "answer_due_at"])
    op.create_index("ix_disputes_status_escalated_at", "disputes", ["status", "escalated_at"])
    op.create_table(
        "dispute_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dispute_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("author_role", sa.String(length=12), nullable=False),
        sa.Column("body", sa.String(length=4000), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], name=op.f("fk_dispute_messages_author_id_users")),
        sa.ForeignKeyConstraint(
            ["dispute_id"], ["disputes.id"], name=op.f("fk_dispute_messages_dispute_id_disputes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispute_messages")),
    )
    op.create_index(op.f("ix_dispute_messages_dispute_id"), "dispute_messages", ["dispute_id"])
    for table in APPEND_ONLY:
        _guard_append_only(table)

    with op.batch_alter_table("leads") as batch:
        batch.add_column(sa.Column("rejected_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("reinstated_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("appeal_until", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("return_until", sa.DateTime(), nullable=True))
        batch.drop_constraint("status", type_="check")
        batch.create_check_constraint("status", f"status IN ({LEAD_STATES}, 'review')")
    # A lead rejected before now was last changed when it was rejected. (Its appeal and
# return deadlines stay empty: they are then read from the offer's current windows.)
    op.execute("UPDATE leads SET rejected_at = updated_at WHERE status = 'rejected'")
    with op.batch_alter_table("offers") as batch:
        batch.add_column(
            sa.Column("appeal_window_seconds", sa.Integer(), nullable=False, server_default=str(7 * DAY))
        )
        batch.add_column(
            sa.Column("dispute_answer_seconds", sa.Integer(), nullable=False, server_default=str(3 * DAY))
        )
        batch.add_column(sa.Column("auto_return_reasons", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("auto_return_cap_count", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("auto_return_cap_percent", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("fraud_review", sa.Boolean(), nullable=False, server_default=sa.false()))
    # Webmasters and everyone else already here stay active.
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("status", sa.String(length=12), nullable=False, server_default="active"))
        batch.add_column(sa.Column("status_reason", sa.String(length=500), nullable=True))
        batch.add_column(sa.Column("status_changed_at", sa.DateTime(), nullable=True))
        batch.create_check_constraint("status", "status IN ('active', 'pending', 'banned')")


def downgrade():
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint("status", type_="check")
        batch.drop_column("status_changed_at")
        batch.drop_column("status_reason")
        batch.drop_column("status")
    with op.batch_alter_table("offers") as batch:
        for column in (
            "fraud_review",
            "auto_return_cap_percent",
            "auto_return_cap_count",
            "auto_return_reasons",
            "dispute_answer_seconds",
            "appeal_window_seconds",
        ):
            batch.drop_column(column)
    op.execute("UPDATE leads SET status = 'rejected' WHERE status = 'review'")
    with op.batch_alter_table("leads") as batch:
        batch.drop_constraint("status", type_="check")
        batch.create_check_constraint("status", f"status IN ({LEAD_STATES})")
        batch.drop_column("return_until")
        batch.drop_column("appeal_until")
        batch.drop_column("reinstated_at")
        batch.drop_column("rejected_at")
    for table in APPEND_ONLY:
        _drop_guard(table)
    op.drop_table("dispute_messages")
    op.drop_table("disputes")
    op.drop_table("moderation_actions")


def _guard_append_only(table: str) -> None:
    """Like the ledger and the lead events: UPDATE and DELETE refused (on PostgreSQL with
    the refuse_change() function of revision 0001)."""
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
    else:
        for verb in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb}")
