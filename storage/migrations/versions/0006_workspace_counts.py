"""workspace_counts: every running count list and stats need, in place of workspace_weeks

Counting the joinable circles, or the circles in each state, meant walking tens
of thousands of index entries on every ``list`` and ``stats``; the counts are now
kept up to date as circles change, like the weekly figures were. The backfill
counts from the circle columns and circle_weeks, in SQL.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

JOINABLE = "state IN ('forming', 'active') AND open_seats > 0"
WEEK = "'week:' || CAST(week AS VARCHAR(10)) || "
#: (figure, value, table, condition, grouped by): a running count per workspace, as the app keeps it.
COUNTS = (
    ("'circles'", "COUNT(*)", "circles", "1 = 1", ""),
    ("'state:' || state", "COUNT(*)", "circles", "1 = 1", ", state"),
    ("'started'", "COUNT(*)", "circles", "started", ""),
    ("'graduated'", "COUNT(*)", "circles", "started AND graduated", ""),
    ("'joinable'", "COUNT(*)", "circles", JOINABLE, ""),
    (f"{WEEK}':circles'", "COUNT(*)", "circle_weeks", "1 = 1", ", week"),
    (f"{WEEK}':places'", "SUM(places)", "circle_weeks", "1 = 1", ", week"),
    (f"{WEEK}':checked_in'", "SUM(checked_in)", "circle_weeks", "1 = 1", ", week"),
    (f"{WEEK}':coming'", "SUM(coming)", "circle_weeks", "1 = 1", ", week"),
)


def upgrade() -> None:
    op.create_table(
        "workspace_counts",
        sa.Column("platform", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("workspace", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("figure", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("platform", "workspace", "figure"),
    )
    for figure, value, table, condition, grouped in COUNTS:
        # The driver's own SQL: the figures' colons are text, not bound parameters.
        op.get_bind().exec_driver_sql(
            f"INSERT INTO workspace_counts (platform, workspace, figure, count) "
            f"SELECT platform, workspace, {figure}, {value} FROM {table} WHERE {condition} "
            f"GROUP BY platform, workspace{grouped}"
        )
    op.drop_table("workspace_weeks")


def downgrade() -> None:
    # The weekly totals again, summed from the circles' own rows (0004's downgrade drops this table).
    op.execute(
        "CREATE TABLE workspace_weeks AS SELECT platform, workspace, week, SUM(places) AS places, "
        "SUM(checked_in) AS checked_in, SUM(coming) AS coming FROM circle_weeks GROUP BY platform, workspace, week"
    )
    op.drop_table("workspace_counts")
