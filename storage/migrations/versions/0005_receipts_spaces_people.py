"""receipts on the outbox, circles' spaces, handled requests, people's own zone and language

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("platform", sa.String(20), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("locale", sa.String(16), nullable=False, server_default="en"))
        batch_op.add_column(sa.Column("reader_tz", sa.String(64), nullable=False, server_default="UTC"))
        batch_op.add_column(sa.Column("channel", sa.String(100), nullable=True))
        batch_op.add_column(sa.Column("message_id", sa.String(100), nullable=True))
    op.execute("UPDATE outbox SET platform = (SELECT platform FROM circles WHERE circles.id = outbox.circle_id)")
    op.create_table(
        "spaces",
        sa.Column("circle_id", sa.String(40), primary_key=True),
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("channel", sa.String(100), nullable=False),
    )
    op.create_index("ux_spaces_platform_channel", "spaces", ["platform", "channel"], unique=True)
    op.create_table(
        "handled_requests",
        sa.Column("id", sa.String(300), primary_key=True),
        sa.Column("handled_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    )
    op.create_index("ix_handled_requests_handled_at", "handled_requests", ["handled_at"])
    op.create_table(
        "people",
        sa.Column("user_key", sa.String(160), primary_key=True),
        sa.Column("tz", sa.String(64), nullable=True),
        sa.Column("locale", sa.String(16), nullable=True),
        sa.Column("tz_asked", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    op.drop_table("people")
    op.drop_index("ix_handled_requests_handled_at", table_name="handled_requests")
    op.drop_table("handled_requests")
    op.drop_index("ux_spaces_platform_channel", table_name="spaces")
    op.drop_table("spaces")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        for column in ("message_id", "channel", "reader_tz", "locale", "platform"):
            batch_op.drop_column(column)
