"""The outbox delivery loop: exactly once, in order, retries, Retry-After, parking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dbfixtures import database_url, engine, pg_schema  # noqa: F401  (fixtures)
from fakes.sender import RecordingSender
from test_storage import make_circle, post

from scheduler.delivery import BACKOFF, MAX_ATTEMPTS, DeliveryFailed, deliver_due_messages
from storage.outbox import Outbox
from storage.repository import Store

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def queue(engine, *keys_by_circle: tuple[str, str]) -> Outbox:
    store = Store(engine)
    with store.transaction() as tx:
        for circle_id in sorted({c for c, _ in keys_by_circle}):
            tx.save(make_circle(circle_id), previous_revision=None)
        tx.enqueue([post(key, circle_id) for circle_id, key in keys_by_circle], T0)
    return Outbox(engine)


async def test_each_delivery_is_sent_once_in_order(engine):
    outbox = queue(engine, ("a", "a1"), ("b", "b1"), ("a", "a2"))
    sender = RecordingSender()
    report = await deliver_due_messages(outbox, sender, T0)
    assert report.sent == 3
    assert sorted(sender.keys) == ["a1", "a2", "b1"]
    assert sender.keys.index("a1") < sender.keys.index("a2")
    await deliver_due_messages(outbox, sender, T0 + timedelta(hours=1))
    assert len(sender.keys) == 3
    assert outbox.counts() == {"sent": 3}


async def test_retry_after_is_honoured_and_later_posts_of_that_circle_wait(engine):
    outbox = queue(engine, ("a", "a1"), ("a", "a2"), ("b", "b1"))
    sender = RecordingSender([DeliveryFailed("429", retry_after=30)])
    report = await deliver_due_messages(outbox, sender, T0)
    assert (report.retried, sender.keys) == (1, ["b1"])
    await deliver_due_messages(outbox, sender, T0 + timedelta(seconds=29))
    assert sender.keys == ["b1"]
    await deliver_due_messages(outbox, sender, T0 + timedelta(seconds=30))
    assert sender.keys == ["b1", "a1", "a2"]
    assert sender.resent == []


async def test_backoff_then_parked_after_max_attempts(engine):
    outbox = queue(engine, ("a", "a1"))
    sender = RecordingSender([DeliveryFailed("timeout")] * MAX_ATTEMPTS)
    now = T0
    for attempt in range(MAX_ATTEMPTS - 1):
        report = await deliver_due_messages(outbox, sender, now)
        assert report.retried == 1
        assert outbox.next_due() == now + BACKOFF[attempt]
        now += BACKOFF[attempt]
    report = await deliver_due_messages(outbox, sender, now)
    assert report.parked == 1
    assert outbox.counts() == {"parked": 1}
    assert sender.keys == []


async def test_permanent_failure_is_parked_at_once_and_does_not_block_the_circle(engine):
    outbox = queue(engine, ("a", "a1"), ("a", "a2"))
    sender = RecordingSender([DeliveryFailed("channel_not_found", permanent=True)])
    report = await deliver_due_messages(outbox, sender, T0)
    assert (report.parked, report.sent, sender.keys) == (1, 1, ["a2"])


async def test_a_delivery_queued_before_a_long_outage_is_skipped_not_sent_late(engine):
    outbox = queue(engine, ("a", "a1"))
    sender = RecordingSender()
    report = await deliver_due_messages(outbox, sender, T0 + timedelta(hours=7), grace=timedelta(hours=6))
    assert (report.skipped, sender.keys) == (1, [])
    assert outbox.counts() == {"skipped": 1}


async def test_a_claim_left_by_a_dead_process_is_resent_as_such(engine):
    outbox = queue(engine, ("a", "a1"), ("a", "a2"))
    outbox.claim(T0, 1)  # a process claimed a1, then died before recording anything
    sender = RecordingSender()
    await deliver_due_messages(outbox, sender, T0)
    assert sender.keys == []  # a1 is still claimed, and a2 must not overtake it
    assert outbox.recover(T0) == 1
    await deliver_due_messages(outbox, sender, T0)
    assert (sender.keys, sender.resent) == (["a1", "a2"], ["a1"])


async def test_many_circles_in_one_pass_each_in_order(engine):
    pairs = [(f"c{n:03}", f"c{n:03}/{i}") for n in range(60) for i in range(3)]
    outbox = queue(engine, *pairs)
    sender = RecordingSender()
    report = await deliver_due_messages(outbox, sender, T0, concurrency=8)
    assert report.sent == 180
    for n in range(60):
        assert [k for k in sender.keys if k.startswith(f"c{n:03}/")] == [f"c{n:03}/{i}" for i in range(3)]


async def test_a_lane_held_for_a_retry_does_not_keep_waking_the_scheduler(engine):
    outbox = queue(engine, ("a", "a1"))
    sender = RecordingSender([DeliveryFailed("timeout")])
    await deliver_due_messages(outbox, sender, T0)  # a1 will be retried in 30 s
    store = Store(engine)
    with store.transaction() as tx:
        tx.enqueue([post("a2", "a")], T0 + timedelta(seconds=5))  # queued behind it, due at once
    assert outbox.next_due() == T0 + timedelta(seconds=30)  # not 5 s: a2 cannot go before a1
    report = await deliver_due_messages(outbox, sender, T0 + timedelta(seconds=5))
    assert (report.sent, sender.keys) == (0, [])
    await deliver_due_messages(outbox, sender, T0 + timedelta(seconds=30))
    assert sender.keys == ["a1", "a2"]


async def test_the_operator_sees_parked_deliveries(engine, database_url, monkeypatch, capsys):
    from circlebot.cli import main

    outbox = queue(engine, ("a", "a1"), ("b", "b1"))
    await deliver_due_messages(outbox, RecordingSender([DeliveryFailed("channel_not_found", permanent=True)]), T0)
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert main(["db", "outbox"]) == 0
    out = capsys.readouterr().out
    assert "parked     1" in out and "sent       1" in out and "parked: a1" in out


def test_a_claim_reads_only_waiting_rows_however_long_the_history(tmp_path):
    """With statistics gathered over sent rows, SQLite must still serve a claim from the waiting rows' index.

    Bound parameters (``status IN (?, ?)``) cannot match a partial index's condition: SQLite then walked
    every row of the outbox by id, 4 s a claim with 5 million sent rows.
    """
    from sqlalchemy import event, text

    from storage.database import make_engine, upgrade

    engine = make_engine(f"sqlite:///{tmp_path}/history.db")
    upgrade(engine)
    outbox = queue(engine, ("a", "a1"))
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO outbox (key, circle_id, lane, kind, payload, status, attempts, not_before, created_at, platform, locale, reader_tz) "
            "SELECT 'old-' || value, 'a', 'a', 'post_to_circle', '{}', 'sent', 1, :t, :t, 'slack', 'en', 'UTC' "
            "FROM json_each(:ids)"), dict(t=T0 - timedelta(days=7), ids=str(list(range(2000)))))
        connection.execute(text("ANALYZE"))
    plans = []

    @event.listens_for(engine, "before_cursor_execute")
    def explain(connection, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and "FROM outbox" in statement:
            plans.append(cursor.connection.execute(f"EXPLAIN QUERY PLAN {statement}", parameters).fetchall())

    assert [q.effect.key for q in outbox.claim(T0, 100)] == ["a1"]
    steps = [" ".join(step[-1] for step in plan) for plan in plans]
    # Each read is an index search that only waiting rows answer: never a walk of the sent history, nor of
    # every waiting row (in a fan-out, tens of thousands wait behind the rate limit).
    assert steps and all(s.startswith("SEARCH") and ("ix_outbox_waiting" in s or "status=?" in s) for s in steps), steps
    # What holds a lane back (waiting, not due yet) is read as a range of its own.
    assert any("not_before>?" in s for s in steps), steps
