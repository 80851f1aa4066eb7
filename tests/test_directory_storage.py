"""The directory's columns and query on SQLite and PostgreSQL: kept on every save, filled in by the migration."""

from __future__ import annotations

from dataclasses import replace
from datetime import time, timedelta

from dbfixtures import database_url, engine, pg_schema  # noqa: F401  (fixtures)
from sqlalchemy import text
from test_storage import T0, make_circle

from bot.circle import Kind, Occurrence, Slot
from bot.state import State
from storage.database import make_engine, upgrade
from storage.codec import dump_circle
from storage.repository import Store, circle_columns

DIRECTORY = ("kit_id", "locale", "week", "utc_offset", "week_minute")
ZONES = ("Europe/London", "America/New_York", "Pacific/Auckland", "Asia/Kolkata", "Pacific/Chatham", "UTC")


def stored(engine, *circle_ids: str) -> dict[str, dict]:
    with engine.connect() as connection:
        rows = connection.execute(text(f"SELECT id, {', '.join(DIRECTORY)} FROM circles")).mappings().all()
    return {row["id"]: {name: row[name] for name in DIRECTORY} for row in rows if row["id"] in circle_ids}


def expected(circle) -> dict:
    return {name: circle_columns(circle)[name] for name in DIRECTORY}


def test_the_directory_columns_follow_every_save_batched_or_not(engine):  # noqa: F811
    store = Store(engine)
    crew = make_circle("crew", tz="America/New_York", slot=Slot(1, time(21, 30)), locale="es")
    with store.transaction() as tx:
        tx.save(crew, previous_revision=None)
    # Tue 21:30 in New York in December is Wed 02:30 UTC, five hours behind.
    assert stored(engine, "crew")["crew"] == dict(kit_id="career", locale="es", week=0, utc_offset=-300,
                                                     week_minute=2 * 1440 + 150)
    # A tick's save (held for the batch): week 3, its next step in July, when New York is four hours behind.
    later = replace(crew, state=State.ACTIVE, week=3, revision=2,
                    plan=(Occurrence(Kind.REMINDER, 3, T0.replace(month=7, year=2027)),))
    with store.transaction() as tx:
        tx.save(later, previous_revision=1, members_changed=False)
    assert stored(engine, "crew")["crew"] == dict(kit_id="career", locale="es", week=3, utc_offset=-240,
                                                     week_minute=2 * 1440 + 90)


def test_the_migration_fills_the_columns_in_for_existing_circles(database_url):  # noqa: F811
    engine = make_engine(database_url)
    upgrade(engine, "0011")
    circles = [
        make_circle(
            f"c{n:04d}", tz=ZONES[n % len(ZONES)], slot=Slot(n % 7, time(n % 24, 45 * (n % 2))), week=n % 9,
            locale=(None, "es", "de")[n % 3], kit_id=("career", "starter")[n % 2], created_at=T0 + timedelta(days=n % 200),
            plan=(Occurrence(Kind.EXERCISE, 1, T0 + timedelta(days=n % 300)),) if n % 4 else (),
        )
        for n in range(1203)  # more than two batches
    ]
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO circles (id, platform, workspace, handle, name, state, open_seats, started, graduated, "
                 "next_wake_at, revision, data, updated_at) VALUES (:id, 'slack', 'T1', :id, 'Crew', 'forming', 1, "
                 "false, false, NULL, 1, :data, :now)"),
            [dict(id=circle.id, data=dump_circle(circle), now=T0) for circle in circles],
        )
    upgrade(engine)
    assert stored(engine, *(c.id for c in circles)) == {circle.id: expected(circle) for circle in circles}
    engine.dispose()
