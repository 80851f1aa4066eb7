"""Crash safety and replicas, end to end: real worker processes, ``kill -9``, a rate-limited platform.

Each test seeds a hundred circles whose week-1 exercise (a post and a DM to
the moderator) comes due at the same wall-clock moment — a synchronised fan-out
of two hundred deliveries, four batches of outcomes — and runs
``tests/processes/worker.py`` replicas against a :class:`FakePlatform` that
allows 150 requests a second (the workers pace themselves to 120 a second, so
the fan-out lasts over a second: long enough to be cut, short enough not to be
waited for). A worker is killed with SIGKILL part-way through; whatever takes
over must deliver everything that is left, and nothing twice: outcomes are recorded in batches of 50, so deliveries the killed worker
had already sent are still ``sending`` in the outbox and get resent, and only
the Discord-style nonce keeps them from reaching the platform twice.

Where nothing is killed, nothing may be sent twice, not even a resend the nonce
would absorb: two workers started at once on one SQLite file (one stands by),
and a worker whose PostgreSQL sessions the server ends mid-delivery.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import zlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import pytest
from dbfixtures import pg_schema, require_postgres  # noqa: F401  (fixtures)
from fakes.platform import FakePlatform
from sqlalchemy import Engine, text

from bot import commands as c
from bot.circle import Actor, Kind, Occurrence, Slot, UserRef
from bot.effects import DELIVERY_TYPES
from bot.engine import create_circle, handle, tick
from bot.timetable import to_local
from kits import builtin_kits
from storage.database import make_engine, upgrade
from storage.outbox import PENDING, SENDING, SENT, Outbox
from storage.repository import Store

WORKER = Path(__file__).parents[1] / "processes" / "worker.py"
KIT = "career"
CIRCLES = 100  # x (one exercise post + one moderator DM) = 200 deliveries: two claims of 100, four flushes of 50
PLATFORM_RATE = 150  # requests a second the fake platform accepts
WORKER_RATE = 120  # what each worker paces itself to: the fan-out takes about 1.7 s
KILL_AFTER = 60  # created on the platform before the kill: in the second batch of 50 outcomes, 140 still to go
# From seeding to the fan-out. Seeding and a worker's start (imports, migrations) take longer than this, so
# the fan-out is due when the first worker's first heartbeat runs: nobody waits for the clock.
LEAD = timedelta(seconds=1)
HEARTBEAT = 1  # seconds: how soon a standby notices the leader is gone
GRACE = timedelta(hours=6)  # as the worker's CircleService

T = TypeVar("T")


# ---------------------------------------------------------------- seeding


def afternoon_zone(moment: datetime) -> str:
    """A fixed-offset zone where ``moment`` is early afternoon, so no DM waits for quiet hours to end."""
    offset = 13 - moment.astimezone(UTC).hour  # hours east of UTC; -10..13 is always a valid Etc zone
    if offset == 0:
        return "Etc/GMT"
    return f"Etc/GMT-{offset}" if offset > 0 else f"Etc/GMT+{-offset}"  # Etc signs are inverted


def seed_fan_out(url: str, circles: int, due_at: datetime) -> set[str]:
    """Store ``circles`` started four-person circles whose week-1 exercise is due at ``due_at``.

    Every circle goes through the engine (create, three joins, start), with the
    commands run a minute before ``due_at``; the meeting slot is chosen, to the
    second, so that the first meeting is exactly the exercise lead after
    ``due_at``. The setup commands' own posts are not queued: the outbox starts
    empty and the fan-out is the workers' whole job.

    Returns:
        The keys of the deliveries the fan-out must make (what ticking each
        circle at ``due_at`` queues), each to arrive exactly once.
    """
    kits = builtin_kits()
    kit = kits[KIT]
    due_at = due_at.astimezone(UTC)
    zone = afternoon_zone(due_at)
    meeting = to_local(due_at + timedelta(hours=kit.timing.exercise_lead_hours), zone)
    slot = Slot(meeting.weekday(), meeting.time())  # seconds included: the fan-out lands to the second
    now = due_at - timedelta(minutes=1)
    engine = make_engine(url)
    try:
        upgrade(engine)
        expected: set[str] = set()
        with Store(engine).transaction() as tx:
            for i in range(circles):
                def person(role: str) -> Actor:
                    return Actor(UserRef("fake", "crash", f"c{i:03d}-{role}"), f"{role} {i}")

                moderator = person("mod")
                command = c.NewCircle(name=f"Crash {i:03d}", kit=KIT, tz=zone, slot=slot, capacity=5)
                circle = create_circle(command, moderator, now, kits, taken_handles=()).circle
                for role in ("ann", "bob", "cat"):
                    circle = handle(circle, c.Join(None), person(role), now, kit).circle
                circle = handle(circle, c.Start(None), moderator, now, kit).circle
                assert circle.plan[0] == Occurrence(Kind.EXERCISE, 1, due_at), circle.plan[:1]
                fan_out = tick(circle, kit, due_at, GRACE).effects
                keys = {e.key for e in fan_out if isinstance(e, DELIVERY_TYPES)}
                assert len(keys) == 2, keys  # the exercise post and the moderator's notes
                expected |= keys
                tx.save(circle, previous_revision=None)
        return expected
    finally:
        engine.dispose()


# ---------------------------------------------------------------- processes and waiting


class Workers:
    """Worker subprocesses with their output in files; all killed on exit, their logs printed on failure."""

    def __init__(self, tmp_path: Path, platform_url: str, lock_id: int):
        self.tmp_path = tmp_path
        self.platform_url = platform_url
        self.lock_id = lock_id
        self.started: dict[str, tuple[subprocess.Popen, Path]] = {}

    def start(self, name: str, db_url: str) -> subprocess.Popen:
        log = self.tmp_path / f"{name}.log"
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # the worker finds its own imports
        with open(log, "wb") as output:
            process = subprocess.Popen(
                [sys.executable, str(WORKER), "--db", db_url, "--platform", self.platform_url,
                 "--rate", str(WORKER_RATE), "--heartbeat", str(HEARTBEAT), "--lock-id", str(self.lock_id)],
                stdout=output, stderr=subprocess.STDOUT, cwd=self.tmp_path, env=env,
            )
        self.started[name] = (process, log)
        return process

    def check_running(self, *names: str) -> None:
        """Fail at once, with its log, if a worker that should be running has exited."""
        for name in names:
            process, _log = self.started[name]
            if process.poll() is not None:
                raise AssertionError(f"worker {name} exited with status {process.returncode}")

    def kill_9(self, name: str) -> None:
        process, _log = self.started[name]
        os.kill(process.pid, signal.SIGKILL)
        assert process.wait(10) == -signal.SIGKILL

    def log_of(self, name: str) -> str:
        return self.started[name][1].read_text(errors="replace")

    def stop(self, *names: str) -> None:
        """SIGTERM, and check each stops cleanly."""
        for name in names:
            self.started[name][0].terminate()
        for name in names:
            assert self.started[name][0].wait(15) == 0, f"{name} did not shut down cleanly"

    def logs(self) -> str:
        parts = []
        for name, (_process, log) in self.started.items():
            content = log.read_text(errors="replace") if log.exists() else "(no output)"
            parts.append(f"----- worker {name} ({log}) -----\n{content[-20_000:]}")
        return "\n".join(parts)

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, kind, error, traceback) -> None:
        for process, _log in self.started.values():
            if process.poll() is None:
                process.kill()
        for process, _log in self.started.values():
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL does not wait for anyone
                pass
        if error is not None:
            print(self.logs())  # pytest shows captured output for a failing test


def wait_until(condition: Callable[[], T], timeout: float, failure: Callable[[], str] | str, interval: float = 0.02) -> T:
    """Poll ``condition`` until it is truthy; fail after ``timeout`` seconds with ``failure``."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"after {timeout} s: {failure() if callable(failure) else failure}")
        time.sleep(interval)


def unfinished(outbox: Outbox) -> int:
    counts = outbox.counts()
    return counts.get(PENDING, 0) + counts.get(SENDING, 0)


def all_sent(outbox: Outbox, expected: set[str]) -> bool:
    counts = outbox.counts()
    return sum(counts.values()) == len(expected) and counts.get(PENDING, 0) + counts.get(SENDING, 0) == 0


def wait_until_delivered(workers: Workers, running: list[str], outbox: Outbox, expected: set[str],
                         platform: FakePlatform, timeout: float = 60, who: str = "the workers") -> None:
    """Wait until every delivery is recorded as sent, failing at once if a ``running`` worker exits."""

    def finished() -> bool:
        workers.check_running(*running)
        return all_sent(outbox, expected)

    wait_until(finished, timeout, lambda: f"{who} did not finish: outbox {outbox.counts()}, "
                                          f"{len(platform.order)} of {len(expected)} created")


def lock_id_for(url: str) -> int:
    """Each test its own advisory lock: the lock is global to the database, not to the schema."""
    return zlib.crc32(url.encode()) & 0x7FFFFFFF


def lock_holder(engine: Engine, lock_id: int) -> str | None:
    """The ``application_name`` of the session holding the scheduler lock, if any."""
    with engine.connect() as connection:
        return connection.execute(
            text(
                "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                " WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0 AND l.objid = :id AND l.objsubid = 1"
                " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            ),
            {"id": lock_id},
        ).scalar()


def assert_delivered_exactly_once(platform: FakePlatform, outbox: Outbox, expected: set[str]) -> None:
    assert platform.duplicates() == {}
    assert len(platform.order) == len(expected)
    assert set(platform.order) == expected, "lost or unexpected deliveries"
    assert set(outbox.keys(SENT)) == expected
    assert outbox.counts() == {SENT: len(expected)}


def resends_absorbed(platform: FakePlatform) -> int:
    """Requests the platform answered with an existing message because it had seen the nonce."""
    return platform.requests - platform.rejected - len(platform.order)


@pytest.fixture
def platform():
    fake = FakePlatform(rate_per_second=PLATFORM_RATE)
    fake.start()
    assert fake.url, "the fake platform did not start"
    yield fake
    fake.stop()


# ---------------------------------------------------------------- tests


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_kill_9_mid_fan_out_then_restart(backend, tmp_path, platform, request):
    url = f"sqlite:///{tmp_path}/circlebot.db" if backend == "sqlite" else request.getfixturevalue("pg_schema")
    expected = seed_fan_out(url, CIRCLES, datetime.now(UTC).replace(microsecond=0) + LEAD)
    engine = make_engine(url)
    outbox = Outbox(engine)
    try:
        with Workers(tmp_path, platform.url, lock_id_for(url)) as workers:
            workers.start("first", url)

            def started() -> bool:
                workers.check_running("first")
                return len(platform.order) >= KILL_AFTER

            wait_until(started, 30, lambda: f"the first worker never got the fan-out going ({len(platform.order)} created)")
            workers.kill_9("first")
            created_before_restart = len(platform.order)
            assert created_before_restart < len(expected), "the fan-out finished before the kill: make it bigger or slower"
            left = unfinished(outbox)
            claimed = outbox.counts().get(SENDING, 0)  # claimed and not finished: what a restart resends
            assert left > 0, outbox.counts()

            workers.start("second", url)

            wait_until_delivered(workers, ["second"], outbox, expected, platform, 60, "the restarted worker")

            assert_delivered_exactly_once(platform, outbox, expected)
            # The killed worker had sent deliveries it never recorded (outcomes go in batches of
            # 50): they were resent and the platform's nonce check turned them away.
            assert resends_absorbed(platform) > 0, "the crash left nothing to resend; the test proved little"
            print(f"{backend}: killed after {created_before_restart} created, {left} unfinished in the outbox ({claimed} claimed); "
                  f"{resends_absorbed(platform)} resends absorbed by the nonce")
    finally:
        engine.dispose()


def test_three_replicas_one_killed(pg_schema, tmp_path, platform):
    require_postgres()
    # Seeding migrates the schema before any replica starts: three replicas running alembic's
    # upgrade on an empty schema at once race to create alembic_version, and one of them dies.
    expected = seed_fan_out(pg_schema, CIRCLES, datetime.now(UTC).replace(microsecond=0) + LEAD)
    lock_id = lock_id_for(pg_schema)
    engine = make_engine(pg_schema)
    outbox = Outbox(engine)
    try:
        with Workers(tmp_path, platform.url, lock_id) as workers:
            # Which replica leads is decided by a race for the advisory lock. Each replica
            # connects with its own application_name, so the lock's holder is read, not
            # guessed: pg_locks gives the backend pid holding our lock id, and
            # pg_stat_activity that backend's application_name.
            names = [f"replica-{n}" for n in range(3)]
            for name in names:
                workers.start(name, f"{pg_schema}&application_name={name}")

            def fan_out_going() -> bool:
                workers.check_running(*names)
                return len(platform.order) >= KILL_AFTER

            wait_until(fan_out_going, 30, lambda: f"no replica got the fan-out going ({len(platform.order)} created)")
            leader = lock_holder(engine, lock_id)
            assert leader in names, f"the lock is held by {leader!r}"
            workers.kill_9(leader)
            killed_at = time.monotonic()
            assert len(platform.order) < len(expected), "the fan-out finished before the kill: make it bigger or slower"
            survivors = [name for name in names if name != leader]

            def taken_over() -> str | None:
                workers.check_running(*survivors)
                holder = lock_holder(engine, lock_id)
                return holder if holder in survivors else None

            new_leader = wait_until(taken_over, 30, lambda: f"no replica took over: outbox {outbox.counts()}, lock "
                                                            f"held by {lock_holder(engine, lock_id)!r}")
            takeover = time.monotonic() - killed_at
            # The leader died with deliveries left and only survivors run: whatever is left, they deliver.
            wait_until_delivered(workers, survivors, outbox, expected, platform, 60, "the new leader")
            assert_delivered_exactly_once(platform, outbox, expected)
            assert resends_absorbed(platform) > 0, "the crash left nothing to resend; the test proved little"

            workers.stop(*survivors)  # the survivors stop cleanly on SIGTERM
            print(f"{leader} killed, {new_leader} took the lock {takeover:.1f} s after the kill; "
                  f"{resends_absorbed(platform)} resends absorbed by the nonce")
    finally:
        engine.dispose()


STANDING_BY = "Another process holds the database"


def test_two_workers_started_at_once_on_one_sqlite_file(tmp_path, platform):
    url = f"sqlite:///{tmp_path}/circlebot.db"
    expected = seed_fan_out(url, CIRCLES, datetime.now(UTC).replace(microsecond=0) + LEAD)
    engine = make_engine(url)
    outbox = Outbox(engine)
    try:
        with Workers(tmp_path, platform.url, lock_id_for(url)) as workers:
            names = ["one", "two"]
            for name in names:
                workers.start(name, url)

            wait_until_delivered(workers, names, outbox, expected, platform, 60, "the fan-out")
            assert_delivered_exactly_once(platform, outbox, expected)
            # Not one message asked for twice: one worker delivered, the other stood by.
            assert resends_absorbed(platform) == 0, f"{resends_absorbed(platform)} messages were sent twice"
            standing_by = [name for name in names if STANDING_BY in workers.log_of(name)]
            assert len(standing_by) == 1, f"standing by: {standing_by}"
            assert workers.log_of(standing_by[0]).count(STANDING_BY) == 1  # said once, not every heartbeat
            workers.stop(*names)
    finally:
        engine.dispose()


def test_postgres_sessions_ended_mid_delivery(pg_schema, tmp_path, platform):
    """The server ends every session of the worker while it records outcomes; it goes on at once."""
    expected = seed_fan_out(pg_schema, CIRCLES, datetime.now(UTC).replace(microsecond=0) + LEAD)
    engine = make_engine(pg_schema)
    outbox = Outbox(engine)
    worker = "dropped-worker"
    sessions = f"FROM pg_stat_activity WHERE application_name = '{worker}'"
    try:
        with Workers(tmp_path, platform.url, lock_id_for(pg_schema)) as workers:
            workers.start(worker, f"{pg_schema}&application_name={worker}")

            def started() -> bool:
                workers.check_running(worker)
                return len(platform.order) >= KILL_AFTER

            wait_until(started, 30, lambda: f"the worker never got the fan-out going ({len(platform.order)} created)")
            with engine.connect() as blocker, engine.connect() as admin:
                # Hold the outbox so the worker is caught in the middle of recording outcomes.
                blocker.execute(text("LOCK TABLE outbox IN EXCLUSIVE MODE"))

                def recording() -> int:
                    waiting = admin.execute(text(f"SELECT count(*) {sessions} AND wait_event_type = 'Lock'"
                                                 " AND query LIKE 'UPDATE outbox SET status=%attempts%'")).scalar()
                    admin.rollback()  # pg_stat_activity stays the same within a transaction
                    return waiting

                wait_until(recording, 10, "the worker never came to record outcomes")
                ended = admin.execute(text(f"SELECT count(pg_terminate_backend(pid)) {sessions}")).scalar()
                blocker.rollback()
            dropped_at = time.monotonic()
            left = len(expected) - len(platform.order)
            assert left > 0, "the fan-out finished before the sessions were ended: make it bigger or slower"

            # At the worker's pace, plus seconds (a busy CI machine): nothing waits out a claim's 5-minute lease.
            within = left / WORKER_RATE + 10
            wait_until_delivered(workers, [worker], outbox, expected, platform, within, "delivery")
            took = time.monotonic() - dropped_at
            assert_delivered_exactly_once(platform, outbox, expected)
            # Outcomes were recorded through the drop, so nothing already sent was sent again.
            assert resends_absorbed(platform) == 0, f"{resends_absorbed(platform)} messages were sent twice"
            assert "the database connection was lost" in workers.log_of(worker)
            workers.stop(worker)
            print(f"{ended} sessions ended with {left} messages to go; all delivered {took:.1f} s later")
    finally:
        engine.dispose()
