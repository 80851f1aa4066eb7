"""APScheduler on the real clock, and leader election among replicas on PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

from dbfixtures import database_url, engine, pg_schema, require_postgres  # noqa: F401  (fixtures)
from fakes.sender import RecordingSender
from test_storage import make_circle

from bot.circle import Actor, Anchor, Kind, Occurrence, UserRef
from bot.state import State
from circlebot.wiring import wire
from requesting import request
from sqlalchemy import text

from kits import builtin_kits
from scheduler.leader import PostgresLeader, leader_for
from scheduler.live import LiveScheduler
from scheduler.runner import Runner
from storage.database import make_engine
from storage.outbox import Outbox
from storage.repository import Store


async def test_a_step_due_in_a_moment_is_delivered_once_by_apscheduler(engine):
    store = Store(engine)
    soon = datetime.now(UTC) + timedelta(seconds=1)
    kits = builtin_kits()
    circle = make_circle(state=State.ACTIVE, plan=(Occurrence(Kind.REMINDER, 1, soon),), anchor=Anchor(1, soon.date()))
    with store.transaction() as tx:
        tx.save(circle, previous_revision=None)
    sender = RecordingSender()
    runner = wire(engine, kits, timedelta(hours=6)).runner(sender)
    live = LiveScheduler(runner, leader_for(engine), heartbeat=timedelta(seconds=30))
    live.start()
    try:
        for _ in range(100):
            if sender.delivered:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # a second run, if there were one, would show by now
    finally:
        await live.shutdown()
    assert sender.keys == ["crew/reminder:1/0"]


def test_a_leader_whose_connection_is_dropped_takes_the_lock_again_in_a_new_term(pg_schema):
    require_postgres()
    engine = make_engine(pg_schema)
    leader = PostgresLeader(engine, lock_id=hash(pg_schema) & 0x7FFFFFFF)
    try:
        assert (leader.acquire(), leader.term) == (True, 1)
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": leader._connection.connection.dbapi_connection.info.backend_pid})
        # Nobody else took it meanwhile; a new term, because somebody could have.
        assert (leader.acquire(), leader.term) == (True, 2)
        assert (leader.acquire(), leader.term) == (True, 2)
    finally:
        leader.release()
        engine.dispose()


def test_only_one_replica_leads_and_another_takes_over_when_it_dies(pg_schema):
    require_postgres()
    engines = [make_engine(pg_schema) for _ in range(3)]
    leaders = [PostgresLeader(e, lock_id=hash(pg_schema) & 0x7FFFFFFF) for e in engines]
    try:
        assert [leader.acquire() for leader in leaders] == [True, False, False]
        assert leaders[0].acquire() is True  # still leading on the next beat
        # The leader's process dies: PostgreSQL ends its session and with it the lock.
        with engines[1].connect() as connection:
            pid = connection.execute(text("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objid = :id"), {"id": leaders[0].lock_id}).scalar()
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            # pg_terminate_backend only signals: wait until the session has really gone, and its lock with it.
            for _ in range(100):
                held = connection.execute(text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = :id"), {"id": leaders[0].lock_id}).scalar()
                if not held:
                    break
                time.sleep(0.05)
        assert [leader.acquire() for leader in leaders[1:]] == [True, False]
        assert leaders[0].acquire() is False  # it notices, and stands down
        leaders[1].release()
        assert leaders[2].acquire() is True
    finally:
        for leader in leaders:
            leader.release()
        for e in engines:
            e.dispose()


def in_space(sender: RecordingSender) -> list[str]:
    """What was delivered to the circle's space, by type: DMs left out."""
    return [type(e).__name__ for e in sender.delivered if type(e).__name__ != "DirectMessage"]


async def test_a_command_pokes_the_live_scheduler_instead_of_waiting_for_the_heartbeat(engine):
    store = Store(engine)
    sender = RecordingSender()
    app = wire(engine, builtin_kits(), timedelta(hours=6))
    live = LiveScheduler(app.runner(sender), leader_for(engine), heartbeat=timedelta(minutes=10))
    app.commands.on_change = live.poke
    live.start()
    try:
        await asyncio.sleep(0.3)  # the first heartbeat has run; the next is ten minutes away
        alice = Actor(UserRef("slack", "T1", "alice"), "Alice")
        await app.commands.ahandle(request(alice, '/circle new "Crew" starter UTC tue 17:00'), datetime.now(UTC))
        for _ in range(100):
            if len(in_space(sender)) == 2:
                break
            await asyncio.sleep(0.05)
    finally:
        await live.shutdown()
    # (The moderator's guide comes by DM too, unless the reader's quiet hours hold it back.)
    assert in_space(sender) == ["OpenSpace", "PostToCircle"]
