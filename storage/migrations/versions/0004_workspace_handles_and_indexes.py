"""per-workspace handles; columns, involvements and weekly totals so no command reads a whole workspace

Circles get a ``handle`` (what people type, unique within a workspace), the
columns ``list`` and ``stats`` filter and count by, ``involvements`` (the
circles that hold something about a person, for ``export`` and ``forget-me``)
and the weekly attendance figures per circle and per workspace.

Existing circles keep their ids as storage keys and take them as handles. The
backfill reads each circle's JSON here, with nothing imported from the app, so
this file keeps working whatever the code becomes.

Revision ID: 0004
Revises: 0003
"""

import json

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

JOINABLE_ONLY = sa.text("state IN ('forming', 'active') AND open_seats > 0")
STAND_IN_PREFIX = "former-member-"


def _user_key(user: dict) -> str:
    return f"{user['platform']}:{user['workspace']}:{user['id']}"


def _people(value) -> set[str]:
    """Every person the circle's JSON names, anywhere in it (stand-ins for forgotten people are nobody)."""
    if isinstance(value, dict):
        if set(value) == {"platform", "workspace", "id"}:
            return set() if value["id"].startswith(STAND_IN_PREFIX) else {_user_key(value)}
        return set().union(*(_people(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_people(v) for v in value))
    return set()


def _week_rows(circle_id: str, row, data: dict) -> list[dict]:
    """The circle's part of each held week's figures (as ``bot.stats.week_figures`` counts them)."""
    held = sorted(int(key.split(":")[1]) for key in data.get("done", []) if key.startswith("checkin:"))
    users = [_user_key(member["user"]) for member in data.get("members", [])]
    checked_in = {(x["week"], _user_key(x["user"])) for x in data.get("checkins", [])}
    coming = {(x["week"], _user_key(x["user"])) for x in data.get("attendance", []) if x["rsvp"] in ("going", "attended")}
    return [
        dict(circle_id=circle_id, week=week, platform=row.platform, workspace=row.workspace, places=len(users),
             checked_in=sum((week, user) in checked_in for user in users), coming=sum((week, user) in coming for user in users))
        for week in held
    ]


def upgrade() -> None:
    op.add_column("circles", sa.Column("handle", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False, server_default=""))
    op.add_column("circles", sa.Column("open_seats", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("circles", sa.Column("started", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("circles", sa.Column("graduated", sa.Boolean(), nullable=False, server_default=sa.false()))
    involvements = op.create_table(
        "involvements",
        sa.Column("user_key", sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
        sa.Column("circle_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.ForeignKeyConstraint(["circle_id"], ["circles.id"]),
        sa.PrimaryKeyConstraint("user_key", "circle_id"),
    )
    circle_weeks = op.create_table(
        "circle_weeks",
        sa.Column("circle_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("week", sa.Integer(), nullable=False),
        sa.Column("platform", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("workspace", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("places", sa.Integer(), nullable=False),
        sa.Column("checked_in", sa.Integer(), nullable=False),
        sa.Column("coming", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["circle_id"], ["circles.id"]),
        sa.PrimaryKeyConstraint("circle_id", "week"),
    )
    workspace_weeks = op.create_table(
        "workspace_weeks",
        sa.Column("platform", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("workspace", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("week", sa.Integer(), nullable=False),
        sa.Column("places", sa.Integer(), nullable=False),
        sa.Column("checked_in", sa.Integer(), nullable=False),
        sa.Column("coming", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("platform", "workspace", "week"),
    )

    connection = op.get_bind()
    circles = sa.table(
        "circles", sa.column("id"), sa.column("platform"), sa.column("workspace"), sa.column("data"), sa.column("handle"),
        sa.column("open_seats"), sa.column("started"), sa.column("graduated"),
    )
    weeks, people, totals = [], [], {}
    for row in connection.execute(sa.select(circles.c.id, circles.c.platform, circles.c.workspace, circles.c.data)).all():
        data = json.loads(row.data)
        data["handle"] = row.id
        done = data.get("done", [])
        connection.execute(
            circles.update().where(circles.c.id == row.id).values(
                handle=row.id, data=json.dumps(data), open_seats=data.get("capacity", 5) - len(data.get("members", [])),
                started=data.get("anchor") is not None, graduated="graduation:0" in done,
            )
        )
        people += [dict(user_key=key, circle_id=row.id) for key in sorted(_people(data))]
        for week in _week_rows(row.id, row, data):
            weeks.append(week)
            total = totals.setdefault((row.platform, row.workspace, week["week"]), [0, 0, 0])
            for i, name in enumerate(("places", "checked_in", "coming")):
                total[i] += week[name]
    if people:
        op.bulk_insert(involvements, people)
    if weeks:
        op.bulk_insert(circle_weeks, weeks)
    if totals:
        op.bulk_insert(workspace_weeks, [
            dict(platform=platform, workspace=workspace, week=week, places=places, checked_in=checked_in, coming=coming)
            for (platform, workspace, week), (places, checked_in, coming) in sorted(totals.items())
        ])

    op.create_index("ix_circles_place_handle", "circles", ["platform", "workspace", "handle"], unique=True)
    op.create_index("ix_circles_place_tally", "circles", ["platform", "workspace", "state", "started", "graduated"])
    op.create_index(
        "ix_circles_joinable", "circles", ["platform", "workspace", "handle"],
        postgresql_where=JOINABLE_ONLY, sqlite_where=JOINABLE_ONLY,
    )
    op.create_index("ix_circle_weeks_place_week", "circle_weeks", ["platform", "workspace", "week"])
    op.create_index("ix_outbox_recipient", "outbox", ["recipient"])


def downgrade() -> None:
    op.drop_index("ix_outbox_recipient", table_name="outbox")
    op.drop_index("ix_circle_weeks_place_week", table_name="circle_weeks")
    op.drop_index("ix_circles_joinable", table_name="circles")
    op.drop_index("ix_circles_place_tally", table_name="circles")
    op.drop_index("ix_circles_place_handle", table_name="circles")
    op.drop_table("workspace_weeks")
    op.drop_table("circle_weeks")
    op.drop_table("involvements")
    for column in ("graduated", "started", "open_seats", "handle"):
        with op.batch_alter_table("circles") as batch_op:
            batch_op.drop_column(column)
