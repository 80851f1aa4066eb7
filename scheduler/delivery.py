"""Deliver queued posts and DMs through an adapter, each exactly once, in order per circle.

A delivery is marked sent only after the platform accepted it. A temporary
failure is retried with backoff (or after the platform's Retry-After); one
that keeps failing, or fails permanently, is parked and logged rather than
retried forever. While one of a circle's deliveries waits, its later ones wait
too, so a post never overtakes the channel it belongs in.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from bot.effects import Delivery
from storage.outbox import Outbox

log = logging.getLogger(__name__)

BACKOFF = (timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10), timedelta(minutes=30), timedelta(hours=2))
MAX_ATTEMPTS = len(BACKOFF) + 1


class DeliveryFailed(Exception):
    """The platform did not accept a delivery.

    Args:
        reason: what went wrong, for the log (never a token).
        retry_after: seconds the platform asked us to wait (HTTP 429).
        permanent: retrying cannot help (403, 404, unknown channel).
    """

    def __init__(self, reason: str, *, retry_after: float | None = None, permanent: bool = False):
        super().__init__(reason)
        self.retry_after = retry_after
        self.permanent = permanent


class Sender(Protocol):
    """What an adapter provides to the outbox: carry out one delivery or raise DeliveryFailed."""

    async def deliver(self, effect: Delivery) -> None: ...


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    parked: int = 0
    skipped: int = 0


async def deliver_due_messages(
    outbox: Outbox, sender: Sender, now: datetime, grace: timedelta = timedelta(hours=6), limit: int = 500
) -> DeliveryReport:
    """Send every delivery that is due at ``now``.

    One never tried that has waited longer than ``grace`` (the process was
    down) is recorded as skipped instead: members get no burst of stale posts.
    """
    report = DeliveryReport()
    waiting: dict[str, datetime] = {}
    for queued in outbox.due(now, limit):
        if queued.attempts == 0 and now - queued.not_before > grace:
            outbox.skip(queued.id, f"not sent: {now - queued.not_before} late")
            report.skipped += 1
            log.warning("delivery %s skipped: due %s, too late to send", queued.effect.key, queued.not_before)
            continue
        if queued.circle_id in waiting:
            outbox.retry_later(queued.id, queued.attempts, waiting[queued.circle_id], "waiting for an earlier delivery")
            continue
        try:
            await sender.deliver(queued.effect)
        except DeliveryFailed as failure:
            attempts = queued.attempts + 1
            if failure.permanent or attempts >= MAX_ATTEMPTS:
                outbox.park(queued.id, attempts, str(failure))
                report.parked += 1
                log.error("delivery %s parked after %d attempts: %s", queued.effect.key, attempts, failure)
            else:
                delay = timedelta(seconds=failure.retry_after) if failure.retry_after else BACKOFF[attempts - 1]
                waiting[queued.circle_id] = now + delay
                outbox.retry_later(queued.id, attempts, now + delay, str(failure))
                report.retried += 1
                log.warning("delivery %s failed (%s); retrying in %s", queued.effect.key, failure, delay)
        else:
            outbox.mark_sent(queued.id, now)
            report.sent += 1
    return report
