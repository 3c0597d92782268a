"""offer settings and statuses: description, terms, traffic sources, landing
rotation; statuses draft / active / paused / archived

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("description", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("terms", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("traffic_sources", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("landing_urls", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.drop_constraint("status", type_="check")
        batch_op.create_check_constraint("status", "status IN ('draft', 'active', 'paused', 'archived')")


def downgrade():
    op.execute("UPDATE offers SET status = 'paused' WHERE status IN ('draft', 'archived')")
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.drop_constraint("status", type_="check")
        batch_op.create_check_constraint("status", "status IN ('active', 'paused')")
        batch_op.drop_column("landing_urls")
        batch_op.drop_column("traffic_sources")
        batch_op.drop_column("terms")
        batch_op.drop_column("description")
