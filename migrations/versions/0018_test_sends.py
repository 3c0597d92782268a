"""test sends: the portals' test postbacks and test leads in a table of their own, with
their state in columns (they were notifications of kinds test_postback and test_lead,
whose JSON data carried their state); those notifications move here, keeping their ids
so that a test still queued finds its row under its job's id

Revision ID: 0018
Revises: 0017
"""

from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

KINDS = {"test_postback": "postback", "test_lead": "lead"}
STATES = ("queued", "sending", "sent")
DECISIONS = ("approve", "reject")
BOUNDED = 500  # error and response_excerpt, as in the attempt tables

notifications = sa.table(
    "notifications",
    sa.column("id", sa.Integer()),
    sa.column("user_id", sa.Integer()),
    sa.column("kind", sa.String()),
    sa.column("data", sa.JSON()),
    sa.column("created_at", sa.DateTime()),
)


def upgrade():
    test_sends = op.create_table(
        "test_sends",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("queued_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("latency_ms", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(length=BOUNDED), nullable=True),
        sa.Column("response_excerpt", sa.String(length=BOUNDED), nullable=False),
        sa.Column("decision", sa.String(length=8), nullable=True),
        sa.CheckConstraint(
            "decision IS NULL OR decision IN ('approve', 'reject')", name=op.f("ck_test_sends_decision")
        ),
        sa.CheckConstraint("kind IN ('postback', 'lead')", name=op.f("ck_test_sends_kind")),
        sa.CheckConstraint("state IN ('queued', 'sending', 'sent')", name=op.f("ck_test_sends_state")),
        sa.ForeignKeyConstraint(["offer_id"], ["offers.id"], name=op.f("fk_test_sends_offer_id_offers")),
        sa.ForeignKeyConstraint(
            ["owner_user_id"], ["users.id"], name=op.f("fk_test_sends_owner_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_test_sends")),
    )
    op.create_index("ix_test_sends_owner_user_id_kind_id", "test_sends", ["owner_user_id", "kind", "id"])
    _move_tests_out_of_notifications(test_sends)


def downgrade():
    """The tests are a log of trial calls: they are dropped, not moved back."""
    op.drop_index("ix_test_sends_owner_user_id_kind_id", table_name="test_sends")
    op.drop_table("test_sends")


def _move_tests_out_of_notifications(test_sends: sa.Table) -> None:
    bind = op.get_bind()
    kind_is_test = notifications.c.kind.in_(list(KINDS))
    rows = [_test_send(row) for row in bind.execute(sa.select(notifications).where(kind_is_test))]
    if not rows:
        return
    op.bulk_insert(test_sends, rows)
    op.execute(notifications.delete().where(kind_is_test))
    if bind.dialect.name == "postgresql":  # the ids were given: move the sequence past them
        op.execute(
            "SELECT setval(pg_get_serial_sequence('test_sends', 'id'), (SELECT max(id) FROM test_sends))"
        )


def _test_send(note) -> dict:
    """A notification's test as a row; what its JSON did not say is left empty."""
    data = note.data or {}
    state = data.get("state") if data.get("state") in STATES else "sent"
    decision = data.get("decision")
    return {
        "id": note.id,
        "owner_user_id": note.user_id,
        "kind": KINDS[note.kind],
        "offer_id": data.get("offer_id"),
        "url": str(data.get("url") or ""),
        "state": state,
        "queued_at": note.created_at,
        "claimed_at": _when(data.get("claimed_at")),
        "sent_at": _when(data.get("sent_at")) or (note.created_at if state == "sent" else None),
        "status_code": data.get("status_code"),
        "latency_ms": data.get("latency_ms"),
        "error": str(data["error"])[:BOUNDED] if data.get("error") else None,
        "response_excerpt": str(data.get("response_excerpt") or "")[:BOUNDED],
        "decision": decision if decision in DECISIONS else None,
    }


def _when(text: object) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if isinstance(text, str) else None
    except ValueError:
        return None
