"""validation settings per offer (duplicate scope, minimum temperature, auto-approval,
fraud thresholds, attribution window) and each lead's score, temperature, phone type and
user agent

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def _required(name, type_, default):
    return sa.Column(name, type_, nullable=False, server_default=default)


def upgrade():
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("score", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("temperature", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("phone_type", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("user_agent", sa.String(length=512), nullable=True))
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.add_column(_required("duplicate_scope", sa.String(length=12), "offer"))
        batch_op.add_column(sa.Column("min_temperature", sa.String(length=8), nullable=True))
        batch_op.add_column(_required("auto_approve", sa.String(length=8), "none"))
        batch_op.add_column(_required("min_click_to_lead_seconds", sa.Integer(), "3"))
        batch_op.add_column(_required("max_leads_per_ip_per_hour", sa.Integer(), "5"))
        batch_op.add_column(_required("attribution_window_seconds", sa.Integer(), str(30 * 86400)))
        batch_op.create_check_constraint("duplicate_scope", "duplicate_scope IN ('offer', 'advertiser')")
        batch_op.create_check_constraint("auto_approve", "auto_approve IN ('none', 'all', 'hot')")
        batch_op.create_check_constraint("min_temperature", "min_temperature IN ('cold', 'warm', 'hot')")


def downgrade():
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.drop_constraint("min_temperature", type_="check")
        batch_op.drop_constraint("auto_approve", type_="check")
        batch_op.drop_constraint("duplicate_scope", type_="check")
        batch_op.drop_column("attribution_window_seconds")
        batch_op.drop_column("max_leads_per_ip_per_hour")
        batch_op.drop_column("min_click_to_lead_seconds")
        batch_op.drop_column("auto_approve")
        batch_op.drop_column("min_temperature")
        batch_op.drop_column("duplicate_scope")
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.drop_column("user_agent")
        batch_op.drop_column("phone_type")
        batch_op.drop_column("temperature")
        batch_op.drop_column("score")
