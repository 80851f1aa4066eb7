"""The directory's columns and query on SQLite and PostgreSQL: kept on every save, filled in by the migration."""

from __future__ import annotations

from dataclasses import replace
from datetime import time, timedelta

from dbfixtures import database_url, engine, pg_schema  # noqa: F401  (fixtures)
from sqlalchemy import event, text
from test_storage import BOB, T0, make_circle

from bot.circle import Kind, Occurrence, Slot
from bot.directory import MINUTES_A_WEEK, Search
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


def a_directory(store: Store) -> list:
    """45 circles: Bob is in two, one is full, one closed; kits, zones and languages vary."""
    circles = [
        make_circle(f"c{n:02d}", kit_id=("career", "starter")[n % 2], tz=ZONES[n % len(ZONES)], locale=(None, "es")[n % 3 == 0],
                    slot=Slot(n % 7, time(18)))
        for n in range(45)
    ]
    circles[3] = replace(circles[3], capacity=1)  # full: Alice alone
    circles[4] = replace(circles[4], state=State.CLOSED)
    with store.transaction() as tx:
        for circle in circles:
            tx.save(circle, previous_revision=None)
    for n in (7, 8):
        with store.transaction() as tx:
            tx.save(replace(circles[n].with_member(replace(circles[n].members[0], user=BOB, name="Bob")), revision=2),
                    previous_revision=1)
    return circles


def every_page(store: Store, search: Search, limit: int = 20) -> list[list[str]]:
    pages, after = [], None
    while True:
        with store.transaction() as tx:
            found, following = tx.directory(BOB, replace(search, after=after), limit)
        after = following.after
        pages.append([circle.handle for circle in found])
        if after is None:
            return pages


def test_pages_of_the_directory_leave_no_circle_out_and_show_none_twice(engine):  # noqa: F811
    store = Store(engine)
    a_directory(store)
    pages = every_page(store, Search())
    assert [len(page) for page in pages] == [20, 20, 1]
    shown = [handle for page in pages for handle in page]
    # Neither the full one, the closed one, nor Bob's own.
    assert shown == [f"c{n:02d}" for n in range(45) if n not in (3, 4, 7, 8)]
    with store.transaction() as tx:
        assert tx.joinable_count(BOB) == 41


def test_storage_finds_what_each_filter_asks_for(engine):  # noqa: F811
    store = Store(engine)
    circles = {c.id: c for c in a_directory(store)}

    def found(search: Search) -> list[str]:
        return [handle for page in every_page(store, search, limit=7) for handle in page]

    open_ = [f"c{n:02d}" for n in range(45) if n not in (3, 4, 7, 8)]
    assert found(Search(kit="starter")) == [h for h in open_ if circles[h].kit_id == "starter"]
    assert found(Search(locales=("es",))) == [h for h in open_ if circles[h].locale == "es"]
    assert found(Search(locales=("en", None))) == [h for h in open_ if circles[h].locale is None]
    # UTC+5:30 to UTC+13: Kolkata, Auckland and Chatham (+13:45 is past the range).
    assert {circles[h].tz for h in found(Search(offsets=((330, 13 * 60 + 1),)))} == {"Asia/Kolkata", "Pacific/Auckland"}
    # Tuesday 18:00 in each circle's own zone, without the reader's: the week's minutes 1 * 1440 + 18 * 60.
    tuesdays = found(Search(minutes=((1 * 1440 + 1080, 1 * 1440 + 1081),), local=True))
    assert tuesdays == [h for h in open_ if circles[h].slot.weekday == 1]
    # Across the week's end in UTC: Sunday 23:00 to Monday 01:00.
    wrapped = found(Search(minutes=((MINUTES_A_WEEK - 60, MINUTES_A_WEEK), (0, 60))))
    assert wrapped == [h for h in open_ if stored(engine, h)[h]["week_minute"] in range(MINUTES_A_WEEK - 60, MINUTES_A_WEEK)
                       or stored(engine, h)[h]["week_minute"] < 60]


def test_the_directory_reads_only_the_joinable_index_on_sqlite(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/plan.db")
    upgrade(engine)
    store = Store(engine)
    a_directory(store)
    plans = []

    @event.listens_for(engine, "before_cursor_execute")
    def explain(connection, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and "ORDER BY circles.handle" in statement:
            plans.append(" ".join(step[-1] for step in cursor.connection.execute(f"EXPLAIN QUERY PLAN {statement}",
                                                                                   parameters).fetchall()))

    everything = Search(kit="career", locales=("en", None), offsets=((-120, 240),), minutes=((0, 1440), (10000, MINUTES_A_WEEK)),
                        after="c10")
    for search in (Search(), everything, replace(everything, local=True)):
        with store.transaction() as tx:
            tx.directory(BOB, search, 20)
    assert len(plans) == 3 and all("USING COVERING INDEX ix_circles_joinable" in plan for plan in plans), plans
    assert not any("TEMP B-TREE" in plan for plan in plans), plans  # in the index's order: no sort
    engine.dispose()
