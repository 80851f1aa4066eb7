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
    assert (report.sent, sender.keys) == (3, ["a1", "b1", "a2"])
    await deliver_due_messages(outbox, sender, T0 + timedelta(hours=1))
    assert sender.keys == ["a1", "b1", "a2"]


async def test_retry_after_is_honoured_and_later_posts_of_that_circle_wait(engine):
    outbox = queue(engine, ("a", "a1"), ("a", "a2"), ("b", "b1"))
    sender = RecordingSender([DeliveryFailed("429", retry_after=30)])
    report = await deliver_due_messages(outbox, sender, T0)
    assert (report.retried, sender.keys) == (1, ["b1"])
    await deliver_due_messages(outbox, sender, T0 + timedelta(seconds=29))
    assert sender.keys == ["b1"]
    await deliver_due_messages(outbox, sender, T0 + timedelta(seconds=30))
    assert sender.keys == ["b1", "a1", "a2"]


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
