"""Database faults during delivery: nothing silently stalls, nothing already sent is sent again."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from dbfixtures import PG_URL, database_url, engine, pg_schema  # noqa: F401  (fixtures)
from fakes.sender import RecordingSender
from prometheus_client import REGISTRY
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from test_delivery import T0, queue
from test_storage import make_circle, post

from circlebot.wiring import wire
from kits import builtin_kits
from scheduler.delivery import deliver_due_messages
from scheduler.leader import leader_for
from scheduler.live import LiveScheduler
from scheduler.runner import Runner
from storage.database import make_engine, upgrade
from storage.outbox import Outbox
from storage.repository import Store


class OutboxThatFailsToRecord(Outbox):
    """Recording outcomes fails ``times`` times, as on a full disk: not a dropped connection."""

    def __init__(self, engine, times: int = 1):
        super().__init__(engine)
        self.times = times

    def finish(self, outcomes, now):
        if self.times:
            self.times -= 1
            raise OperationalError("UPDATE outbox ...", {}, Exception("disk I/O error"))
        super().finish(outcomes, now)


def runner_for(engine, outbox: Outbox, sender: RecordingSender) -> Runner:
    return Runner(wire(engine, builtin_kits(), timedelta(hours=6)).ticker, outbox, sender)


def test_outcomes_are_recorded_through_a_dropped_connection(pg_schema):
    """The server ends the session as outcomes are written: they are written again on a fresh one."""
    engine = make_engine(pg_schema)
    upgrade(engine)
    outbox = queue(engine, ("a", "a1"), ("b", "b1"), ("a", "a2"))
    dropped: list[int] = []

    def drop_the_connection(connection, cursor, statement, parameters, context, executemany):
        if executemany and statement.startswith("UPDATE outbox") and not dropped:
            dropped.append(cursor.connection.info.backend_pid)
            with psycopg.connect(PG_URL, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (dropped[0],))

    event.listen(engine, "before_cursor_execute", drop_the_connection)
    lost_before = REGISTRY.get_sample_value("circlebot_database_connections_lost_total") or 0.0
    try:
        sender = RecordingSender()
        report = asyncio.run(deliver_due_messages(outbox, sender, T0))
        assert dropped, "the test never dropped the connection"
        assert (REGISTRY.get_sample_value("circlebot_database_connections_lost_total") or 0.0) - lost_before == 1
        assert report.sent == 3
        assert outbox.counts() == {"sent": 3}
        asyncio.run(deliver_due_messages(outbox, sender, T0 + timedelta(minutes=10)))
        assert sorted(sender.keys) == ["a1", "a2", "b1"] and sender.resent == []
    finally:
        event.remove(engine, "before_cursor_execute", drop_the_connection)
        engine.dispose()


async def test_a_failed_pass_is_raised_and_its_claims_are_due_again_at_once(engine):
    queue(engine, ("a", "a1"), ("b", "b1"), ("a", "a2"))
    outbox = OutboxThatFailsToRecord(engine)
    sender = RecordingSender()
    runner = runner_for(engine, outbox, sender)
    with pytest.raises(OperationalError):
        await runner.run_due(T0)
    # Sent, but not recorded: due again now, not when the 5-minute claim runs out, and
    # resent as such (an earlier attempt may have reached the platform).
    assert outbox.next_due() == T0
    assert outbox.counts() == {"sending": 3}
    await runner.run_due(T0)
    assert outbox.counts() == {"sent": 3}
    assert sorted(sender.resent) == ["a1", "a2", "b1"]


async def test_the_live_scheduler_logs_a_failed_run_and_delivers_within_seconds(engine, caplog):
    store = Store(engine)
    with store.transaction() as tx:
        tx.save(make_circle("a"), previous_revision=None)
        tx.enqueue([post("a1", "a")], datetime.now(UTC))
    outbox = OutboxThatFailsToRecord(engine)
    sender = RecordingSender()
    live = LiveScheduler(runner_for(engine, outbox, sender), leader_for(engine), heartbeat=timedelta(minutes=10))
    caplog.set_level(logging.WARNING)
    failed_runs = ("circlebot_scheduler_runs_total", {"outcome": "failed"})
    failed_before = REGISTRY.get_sample_value(*failed_runs) or 0.0
    live.start()
    try:
        for _ in range(100):  # the first run fails; the next is in a second, not at the next heartbeat
            if outbox.counts() == {"sent": 1}:
                break
            await asyncio.sleep(0.05)
    finally:
        await live.shutdown()
    assert outbox.counts() == {"sent": 1}
    assert any(r.levelno == logging.ERROR and "scheduler run failed" in r.getMessage() for r in caplog.records)
    assert (REGISTRY.get_sample_value(*failed_runs) or 0.0) - failed_before == 1


class SlowPlatform(RecordingSender):
    """Holds every delivery until ``answer`` is set, as a platform slower than the queue."""

    def __init__(self):
        super().__init__()
        self.answer = asyncio.Event()
        self.waiting = 0

    async def deliver(self, outgoing):
        self.waiting += 1
        await self.answer.wait()
        return await super().deliver(outgoing)


async def test_a_pass_claims_no_more_than_it_can_send_soon(engine):
    """What a killed process leaves claimed and unsent is bounded: lanes in flight plus a batch or two."""
    outbox = queue(engine, *[(f"c{n:04}", f"c{n:04}/0") for n in range(1000)])
    platform = SlowPlatform()
    delivering = asyncio.ensure_future(deliver_due_messages(outbox, platform, T0, concurrency=8))
    try:
        for _ in range(100):
            if platform.waiting == 8:
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.3)  # time to claim more, if it would
        assert 8 < outbox.counts()["sending"] <= 8 + 100 + 100  # in flight, waiting to start (low water), one batch
    finally:
        platform.answer.set()
        await delivering
    assert outbox.counts() == {"sent": 1000}
