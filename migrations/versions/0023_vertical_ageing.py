"""vertical ageing: each vertical's schedule of catalog prices by a lead's age (issue 18)

Revision ID: 0023
Revises: 0022
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

# exchange.verticals.domain.DEFAULT_AGEING as it was written here: a migration keeps its own copy.
DEFAULT_AGEING = {
    "steps": [
        {"after_hours": 0, "percent": 100},
        {"after_hours": 24, "percent": 75},
        {"after_hours": 72, "percent": 50},
        {"after_hours": 336, "percent": 20},
    ],
    "gone_after_hours": 2160,
}


def upgrade():
    with op.batch_alter_table("verticals", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("ageing", sa.JSON(), nullable=False, server_default=sa.text(f"'{json.dumps(DEFAULT_AGEING)}'"))
        )


def downgrade():
    with op.batch_alter_table("verticals", schema=None) as batch_op:
        batch_op.drop_column("ageing")
