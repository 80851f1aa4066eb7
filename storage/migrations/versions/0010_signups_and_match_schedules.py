"""signups and match_schedules: the pool of people asking to be matched into circles, and when each workspace matches

Revision ID: 0010
Revises: 0007
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0010"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    text = sqlmodel.sql.sqltypes.AutoString
    op.create_table(
        "signups",
        sa.Column("user_key", text(length=160), nullable=False),
        sa.Column("platform", text(length=20), nullable=False),
        sa.Column("workspace", text(length=64), nullable=False),
        sa.Column("user_id", text(length=100), nullable=False),
        sa.Column("name", text(length=80), nullable=False),
        sa.Column("kit", text(length=40), nullable=False),
        sa.Column("tz", text(length=64), nullable=False),
        sa.Column("hours", text(length=1000), nullable=False),
        sa.Column("language", text(length=16), nullable=False),
        sa.Column("strangers", sa.Boolean(), nullable=False),
        sa.Column("moderate", sa.Boolean(), nullable=False),
        sa.Column("signed_up_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("told", text(length=20), nullable=True),
        sa.PrimaryKeyConstraint("user_key"),
    )
    op.create_index("ix_signups_place", "signups", ["platform", "workspace", "signed_up_at"])
    op.create_table(
        "match_schedules",
        sa.Column("platform", text(length=20), nullable=False),
        sa.Column("workspace", text(length=64), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("at", text(length=5), nullable=False),
        sa.Column("tz", text(length=64), nullable=False),
        sa.Column("next_run_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("platform", "workspace"),
    )
    op.create_index("ix_match_schedules_next_run_at", "match_schedules", ["next_run_at"])


def downgrade() -> None:
    op.drop_index("ix_match_schedules_next_run_at", table_name="match_schedules")
    op.drop_table("match_schedules")
    op.drop_index("ix_signups_place", table_name="signups")
    op.drop_table("signups")
