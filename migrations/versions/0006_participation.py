"""visibility and participation: public / approval / private offers;
participations that are pending, invited, declined or banned, with the
decision's reason; per-webmaster custom payouts

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("visibility", sa.String(length=12), nullable=False, server_default="public")
        )
        batch_op.create_check_constraint("visibility", "visibility IN ('public', 'approval', 'private')")
    with op.batch_alter_table("participations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("custom_payout_minor", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("decision_reason", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("decided_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("decided_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_participations_decided_by_id_users"), "users", ["decided_by_id"], ["id"]
        )
        batch_op.create_check_constraint(
            "participation_status", "status IN ('active', 'pending', 'invited', 'declined', 'banned')"
        )


def downgrade():
    with op.batch_alter_table("participations", schema=None) as batch_op:
        batch_op.drop_constraint("participation_status", type_="check")
        batch_op.drop_constraint(batch_op.f("fk_participations_decided_by_id_users"), type_="foreignkey")
        batch_op.drop_column("decided_by_id")
        batch_op.drop_column("decided_at")
        batch_op.drop_column("decision_reason")
        batch_op.drop_column("custom_payout_minor")
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.drop_constraint("visibility", type_="check")
        batch_op.drop_column("visibility")
