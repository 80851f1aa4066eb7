"""circles: kit, language, week and meeting-time columns for the directory (``list`` with filters)

``list`` filters open circles by kit, language, time-zone band and weekday, a page
at a time, on the partial index of joinable circles, which now holds every column
a filter reads. ``week`` (with ``kit_id``) finds circles at the same point of the
same kit.

Existing circles are filled in from their JSON a batch at a time, with nothing
imported from the app, so this file keeps working whatever the code becomes: the
same figures as ``bot.directory.meeting_columns``.

Revision ID: 0012
Revises: 0011
"""

import json
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

JOINABLE_ONLY = sa.text("state IN ('forming', 'active') AND open_seats > 0")
OLD_COLUMNS = ["platform", "workspace", "handle"]
NEW_COLUMNS = [*OLD_COLUMNS, "kit_id", "locale", "utc_offset", "week_minute", "id", "state", "open_seats"]
BATCH = 500


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def _meeting(data: dict) -> tuple[int, int]:
    """The zone's UTC offset (minutes) at the slot's first meeting after the circle's next wake (else its
    forming), and that meeting's UTC minute of the week."""
    wakes = [_moment(data["plan"][0]["at"])] if data.get("plan") else []
    wakes += [_moment(e["planned"]["at"]) for e in data.get("life_events", []) if e.get("planned")]
    reference = min(wakes, default=None) or _moment(data["created_at"])
    zone, weekday, at = ZoneInfo(data["tz"]), data["slot"]["weekday"], time.fromisoformat(data["slot"]["at"])
    local = reference.astimezone(zone).date()
    on = local + timedelta(days=(weekday - local.weekday()) % 7)
    while (meeting := datetime.combine(on, at).replace(tzinfo=zone).astimezone(UTC)) < reference:
        on += timedelta(days=7)
    offset = meeting.astimezone(zone).utcoffset()
    return int(offset.total_seconds()) // 60, meeting.weekday() * 1440 + meeting.hour * 60 + meeting.minute


def upgrade() -> None:
    # The defaults only stand in until the backfill below (as 0004's do).
    op.add_column("circles", sa.Column("kit_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False,
                                       server_default=""))
    op.add_column("circles", sa.Column("locale", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
    for name in ("week", "utc_offset", "week_minute"):
        op.add_column("circles", sa.Column(name, sa.Integer(), nullable=False, server_default="0"))

    connection = op.get_bind()
    circles = sa.table(
        "circles", sa.column("id"), sa.column("data"), sa.column("kit_id"), sa.column("locale"), sa.column("week"),
        sa.column("utc_offset"), sa.column("week_minute"),
    )
    fill = (
        circles.update()
        .where(circles.c.id == sa.bindparam("b_id"))
        .values({name: sa.bindparam(name) for name in ("kit_id", "locale", "week", "utc_offset", "week_minute")})
    )
    after = None
    while True:  # a batch at a time, by id: a big table is never held in memory at once
        query = sa.select(circles.c.id, circles.c.data).order_by(circles.c.id).limit(BATCH)
        rows = connection.execute(query if after is None else query.where(circles.c.id > after)).all()
        if not rows:
            break
        values = []
        for row in rows:
            data = json.loads(row.data)
            utc_offset, week_minute = _meeting(data)
            values.append(dict(b_id=row.id, kit_id=data["kit_id"], locale=data.get("locale"), week=data.get("week", 0),
                               utc_offset=utc_offset, week_minute=week_minute))
        connection.execute(fill, values)
        after = rows[-1].id

    op.drop_index("ix_circles_joinable", table_name="circles")
    op.create_index("ix_circles_joinable", "circles", NEW_COLUMNS, postgresql_where=JOINABLE_ONLY,
                    sqlite_where=JOINABLE_ONLY)


def downgrade() -> None:
    op.drop_index("ix_circles_joinable", table_name="circles")
    with op.batch_alter_table("circles", schema=None) as batch_op:
        for name in ("week_minute", "utc_offset", "week", "locale", "kit_id"):
            batch_op.drop_column(name)
    # After the batch: SQLite's copies the table, and would copy the index without its WHERE.
    op.create_index("ix_circles_joinable", "circles", OLD_COLUMNS, postgresql_where=JOINABLE_ONLY,
                    sqlite_where=JOINABLE_ONLY)
