"""outbox recipient: cancel a leaver's queued DMs

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recipient", sqlmodel.sql.sqltypes.AutoString(length=160), nullable=True))
        batch_op.create_index("ix_outbox_circle_id_recipient", ["circle_id", "recipient"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_circle_id_recipient")
        batch_op.drop_column("recipient")
