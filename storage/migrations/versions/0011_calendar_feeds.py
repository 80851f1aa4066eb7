"""calendar_feeds: each member's private calendar address per circle; people's platform language

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calendar_feeds",
        sa.Column("token", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("circle_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("user_key", sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("token"),
    )
    op.create_index("ux_calendar_feeds_circle_user", "calendar_feeds", ["circle_id", "user_key"], unique=True)
    op.create_index("ix_calendar_feeds_user_key", "calendar_feeds", ["user_key"])
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("platform_locale", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("platform_locale")
    op.drop_index("ix_calendar_feeds_user_key", table_name="calendar_feeds")
    op.drop_index("ux_calendar_feeds_circle_user", table_name="calendar_feeds")
    op.drop_table("calendar_feeds")
