"""At most one process delivers from a database, and a claim is atomic, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from dbfixtures import database_url, engine, pg_schema  # noqa: F401  (fixtures)
from fakes.sender import RecordingSender
from sqlalchemy import event
from test_delivery import T0, queue
from test_storage import make_circle, post

from circlebot.wiring import wire
from kits import builtin_kits
from scheduler.leader import FileLockLeader, SingleProcessLeader, leader_for
from scheduler.live import LiveScheduler
from storage.database import make_engine, upgrade
from storage.outbox import Outbox
from storage.repository import Store


def test_two_claims_at_once_never_take_the_same_delivery(engine, database_url):
    """A second claim runs while the first sits between its read and its write."""
    outbox = queue(engine, *[(f"c{n}", f"c{n}/0") for n in range(10)])
    other_engine = make_engine(database_url)
    other = Outbox(other_engine)
    second: list = []
    threads: list[threading.Thread] = []

    def claim_in_between(connection, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("UPDATE OUTBOX") and not threads:
            threads.append(threading.Thread(target=lambda: second.extend(other.claim(T0, 10))))
            threads[0].start()
            # Unclaimed rows are taken at once; a claim that must wait for ours waits past this.
            threads[0].join(1.0)

    event.listen(engine, "before_cursor_execute", claim_in_between)
    try:
        first = outbox.claim(T0, 10)
        threads[0].join(30)
    finally:
        event.remove(engine, "before_cursor_execute", claim_in_between)
        other_engine.dispose()
    taken_first = {q.effect.key for q in first}
    taken_second = {q.effect.key for q in second}
    assert taken_first.isdisjoint(taken_second), "two claims took the same deliveries"
    assert len(taken_first | taken_second) == 10  # and between them, every one


def test_one_process_holds_a_sqlite_file(tmp_path):
    engines = [make_engine(f"sqlite:///{tmp_path}/{name}") for name in ("circlebot.db", "circlebot.db", "other.db")]
    first, second, other = (leader_for(e) for e in engines)
    memory = make_engine("sqlite://")
    try:
        assert isinstance(first, FileLockLeader) and first.path == tmp_path / "circlebot.db.lock"
        # flock belongs to an open file, so two leaders in one process exclude each other as two processes do.
        assert (first.acquire(), second.acquire()) == (True, False)
        assert first.acquire() is True  # still leading on the next beat
        assert "circlebot.db.lock" in second.holds
        first.release()
        assert (second.acquire(), first.acquire()) == (True, False)
        assert other.acquire() is True  # another file, another lock
        assert isinstance(leader_for(memory), SingleProcessLeader)  # in memory: one process only
    finally:
        for leader in (first, second, other):
            leader.release()
        for e in (*engines, memory):
            e.dispose()


async def test_a_second_scheduler_on_the_same_file_stands_by_and_says_so(tmp_path, caplog):
    url = f"sqlite:///{tmp_path}/circlebot.db"
    engines = [make_engine(url), make_engine(url)]
    upgrade(engines[0])
    with Store(engines[0]).transaction() as tx:
        for circle_id in ("a", "b"):
            tx.save(make_circle(circle_id), previous_revision=None)
        tx.enqueue([post("a1", "a"), post("b1", "b")], datetime.now(UTC))
    outbox = Outbox(engines[0])
    senders = [RecordingSender(), RecordingSender()]
    notices: list[list[str]] = [[], []]
    schedulers = [
        LiveScheduler(wire(e, builtin_kits(), timedelta(hours=6)).runner(sender), leader_for(e),
                      heartbeat=timedelta(seconds=0.2), notify=said.append)
        for e, sender, said in zip(engines, senders, notices)
    ]
    caplog.set_level(logging.WARNING, "scheduler.live")
    try:
        assert schedulers[0].leader.acquire()  # the first process is running
        schedulers[1].start()
        for _ in range(200):  # a loaded machine may take a while for the first beat
            if notices[1]:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # two beats or more: it must say so once, not every beat
        assert senders[1].keys == []
        assert len(notices[1]) == 1 and "Another process holds the database" in notices[1][0]
        assert [r.getMessage() for r in caplog.records] == notices[1]

        schedulers[0].leader.release()  # the first process stops: the second takes over
        for _ in range(200):  # sent, and recorded (outcomes are written just after)
            if len(senders[1].keys) == 2 and outbox.counts() == {"sent": 2}:
                break
            await asyncio.sleep(0.05)
        assert sorted(senders[1].keys) == ["a1", "b1"]
        assert notices[1][1:] == ["The other process has stopped: this one delivers the messages now."]
        assert outbox.counts() == {"sent": 2}
    finally:
        await schedulers[1].shutdown()
        for e in engines:
            e.dispose()


class SlowStdin:
    """Piped console input, one line a second: time for the live scheduler's first beat."""

    def __init__(self, *lines: str):
        self.lines = iter(lines)

    def isatty(self) -> bool:
        return False

    def readline(self) -> str:
        time.sleep(1.0)
        return next(self.lines, "")


def test_a_console_beside_a_running_bot_delivers_nothing_and_says_why(tmp_path, monkeypatch, capsys):
    from circlebot.cli import main

    url = f"sqlite:///{tmp_path}/circlebot.db"
    engine = make_engine(url)
    upgrade(engine)
    running_bot = leader_for(engine)
    assert running_bot.acquire()
    try:
        monkeypatch.setattr(sys, "stdin", SlowStdin('/circle new "Crew" starter UTC tue 17:00\n', "/quit\n"))
        assert main(["console", "--live", "--db", url]) == 0
        out = capsys.readouterr().out
        assert out.count("Another process holds the database") == 1
        assert "You moderate" in out  # the command itself works; its posts are left to the bot
        assert Outbox(engine).counts() == {"pending": 3}  # the space, the welcome post, the guide by DM

        with pytest.raises(SystemExit, match="Another process holds the database .* use --live beside it"):
            main(["console", "--db", url])  # a simulated clock would send the bot's messages at its own time
    finally:
        running_bot.release()
        engine.dispose()
