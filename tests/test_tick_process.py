"""Ticking in a process of its own (what `circlebot run` does): same ticks, same deliveries, logs come home."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from dbfixtures import database_url, engine, pg_schema  # noqa: F401  (fixtures)
from fakes.sender import RecordingSender
from sqlalchemy import text
from sqlalchemy.engine import make_url
from test_storage import make_circle

from bot.circle import Anchor, Kind, Occurrence
from bot.state import State
from circlebot.tick_process import TickProcess, separable, wanted
from circlebot.wiring import wire
from kits import builtin_kits
from storage.database import make_engine, upgrade

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def due(circle_id: str, **changes):
    return make_circle(circle_id, state=State.ACTIVE, plan=(Occurrence(Kind.REMINDER, 1, NOW),), anchor=Anchor(1, NOW.date()),
                       **changes)


@pytest.fixture
def app(engine):
    return wire(engine, builtin_kits(), timedelta(hours=6))


@pytest.fixture
def sqlite_app(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/circlebot.db")
    upgrade(engine)
    yield wire(engine, builtin_kits(), timedelta(hours=6))
    engine.dispose()


def started(app):
    process = TickProcess(app.ticker, app.engine.url)
    yield process
    process.close()


@pytest.fixture
def ticking(app):
    yield from started(app)


@pytest.fixture
def sqlite_ticking(sqlite_app):
    yield from started(sqlite_app)


def save(app, *circles) -> None:
    with app.store.transaction() as tx:
        for circle in circles:
            tx.save(circle, previous_revision=None)


async def test_the_child_ticks_and_this_process_sends_what_it_queued(app, ticking):
    save(app, due("crew"), due("team"))
    sender = RecordingSender()
    report = await app.runner(sender, ticking).run_due(NOW)
    assert (report.sent, sorted(sender.keys)) == (2, ["crew/reminder:1/0", "team/reminder:1/0"])
    assert app.store.due_circle_ids(NOW) == []  # the reminder is done: both circles moved on
    assert ticking.cpu_seconds > 0
    assert await app.runner(sender, ticking).run_due(NOW) == type(report)()  # nothing twice


def test_the_childs_log_lines_reach_this_processs_handlers(sqlite_app, sqlite_ticking, caplog):
    app, ticking = sqlite_app, sqlite_ticking
    save(app, due("crew", kit_id="gone"))
    with caplog.at_level(logging.WARNING):
        assert ticking.tick_due(NOW) == 1
        ticking.close()  # the child says it is done once its last record is sent
    assert any("its kit gone is not installed" in r.getMessage() and r.circle == "crew" for r in caplog.records)


@pytest.mark.slow
def test_a_child_that_dies_during_a_tick_fails_that_tick_and_the_next_one_starts_another(sqlite_app, sqlite_ticking):
    app, ticking = sqlite_app, sqlite_ticking
    ticking.start(wait=True)
    first = ticking.pid
    save(app, due("crew"))
    orders = ticking._orders
    send = orders.send

    def send_then_die(order):  # the child is killed once it has its orders, before it can answer
        send(order)
        os.kill(first, signal.SIGKILL)

    orders.send = send_then_die
    with pytest.raises(RuntimeError, match="died"):
        ticking.tick_due(NOW)
    assert ticking.tick_due(NOW) == 1
    assert ticking.pid not in (None, first)


@pytest.mark.slow
def test_a_child_found_dead_before_a_tick_is_started_again_for_it(sqlite_app, sqlite_ticking):
    app, ticking = sqlite_app, sqlite_ticking
    ticking.start(wait=True)
    first = ticking.pid
    os.kill(first, signal.SIGKILL)
    ticking._process.join(5)  # dead, and seen so
    save(app, due("crew"))
    assert ticking.tick_due(NOW) == 1
    assert ticking.pid not in (None, first)


def test_an_in_memory_database_cannot_be_shared_with_a_child():
    assert not separable(make_url("sqlite://"))
    assert not separable(make_url("sqlite:///:memory:"))
    assert separable(make_url("sqlite:////tmp/circlebot.db"))
    assert separable(make_url("postgresql+psycopg://postgres@127.0.0.1:5432/test"))


def test_a_tick_that_fails_in_the_child_fails_here_by_name(sqlite_app, sqlite_ticking, caplog):
    ticking = sqlite_ticking
    ticking.start()
    with sqlite_app.engine.begin() as connection:
        connection.execute(text("DROP TABLE handled_requests"))  # a tick first forgets old request ids
    with caplog.at_level(logging.ERROR), pytest.raises(RuntimeError, match="ticking failed in its process: .*Error"):
        ticking.tick_due(NOW)
    ticking.close()
    # With the child's traceback, written into the line where it happened.
    assert any(r.getMessage().startswith("ticking failed\nTraceback") and "handled_requests" in r.getMessage()
               for r in caplog.records)


def test_the_childs_ticks_wait_while_a_person_s_command_is_open_here(sqlite_app, sqlite_ticking):
    """Commands first, across processes: the child sees this process's open command transactions."""
    app, ticking = sqlite_app, sqlite_ticking
    ticking.start(wait=True)
    finished = threading.Event()
    with app.store.transaction():  # a person's command, still running
        worker = threading.Thread(target=lambda: (ticking.tick_due(NOW), finished.set()))
        worker.start()
        # Nothing is due: left alone, the child answers in milliseconds. It waits (up to a second) instead.
        assert not finished.wait(0.5)
    worker.join(5)
    assert finished.is_set()  # and goes on once the command is done


def test_ticks_get_a_process_of_their_own_when_two_cpus_are_ours_unless_told(monkeypatch):
    on_a_file = make_url("sqlite:////tmp/circlebot.db")
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0, 1})
    assert wanted(None, on_a_file)
    assert not wanted(False, on_a_file)
    assert not wanted(None, make_url("sqlite://"))  # nobody else can open an in-memory database
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0})
    assert not wanted(None, on_a_file)
    assert wanted(True, on_a_file)


def test_on_postgresql_the_childs_ticks_do_not_wait_for_commands_here(pg_schema):
    """PostgreSQL locks rows: a tick that paused for a command elsewhere would only hold its own rows longer."""
    engine = make_engine(pg_schema)
    upgrade(engine)
    app = wire(engine, builtin_kits(), timedelta(hours=6))
    ticking = TickProcess(app.ticker, engine.url)
    try:
        ticking.start(wait=True)
        save(app, due("crew"))
        with app.store.transaction():  # a person's command, still running
            began = time.monotonic()
            assert ticking.tick_due(NOW) == 1
            assert time.monotonic() - began < 0.5  # on SQLite it would wait up to a second here
    finally:
        ticking.close()
        engine.dispose()
