"""catalog listing seen_until: the sales of its consumer counted when a listing's slots
were last read from the register, so the sweep reads again the listings whose consumer was
sold through another lead since (issue 18)

Revision ID: 0027
Revises: 0026
"""

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("catalog_listings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seen_until", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("catalog_listings", schema=None) as batch_op:
        batch_op.drop_column("seen_until")
