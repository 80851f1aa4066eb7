"""outbox lanes: a lane column and partial indexes over waiting rows, for cheap claims

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

WAITING_ONLY = sa.text("status IN ('pending', 'sending')")


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("lane", sqlmodel.sql.sqltypes.AutoString(length=210), nullable=False, server_default="")
        )
    op.execute(
        "UPDATE outbox SET lane = CASE WHEN recipient IS NULL THEN circle_id ELSE circle_id || '/' || recipient END"
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.alter_column("lane", server_default=None)
    op.create_index("ix_outbox_waiting_id", "outbox", ["id"], postgresql_where=WAITING_ONLY, sqlite_where=WAITING_ONLY)
    op.create_index(
        "ix_outbox_waiting_lane", "outbox", ["lane", "id"], postgresql_where=WAITING_ONLY, sqlite_where=WAITING_ONLY
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_waiting_lane", table_name="outbox")
    op.drop_index("ix_outbox_waiting_id", table_name="outbox")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("lane")
