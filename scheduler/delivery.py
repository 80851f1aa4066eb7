"""Deliver queued posts and DMs through an adapter, each exactly once, in order per circle.

Each pass claims the due deliveries, sends each circle's in order (many
circles at once), and records the outcomes in batches. A delivery is marked
sent only after the platform accepted it. A temporary failure is retried with
backoff (or after the platform's Retry-After); one that keeps failing, or fails
permanently, is parked and logged rather than retried forever. When a failure
leaves it unknown whether the platform carried the delivery out (a timeout, a
5xx, an unreadable answer, an error nobody foresaw), the retry is a resend: the
row stays ``sending`` until then, as if the process had died mid-send. While one of a
lane's deliveries waits (a lane is a circle's space, or one member's DMs), its
later ones wait too, so a post never overtakes the channel it belongs in. One never tried that is more than ``grace`` late
(the process was down) is recorded as skipped: no burst of stale posts.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from adapters.contract import Adapter, DeliveryFailed, Outgoing, Receipt  # noqa: F401 (DeliveryFailed: re-exported)
from bot.effects import DirectMessage, OpenSpace
from circlebot import metrics
from circlebot.logs import about, delivering
from storage.outbox import PARKED, PENDING, SENDING, SENT, SKIPPED, Outbox, Outcome, Queued, referred_key

log = logging.getLogger(__name__)

BACKOFF = (timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10), timedelta(minutes=30), timedelta(hours=2))
MAX_ATTEMPTS = len(BACKOFF) + 1
#: Outcomes are written in batches of this size, bounding what a crash can leave unrecorded.
FLUSH_EVERY = 50


#: What delivers: an adapter, or several behind an :class:`~adapters.contract.AdapterRouter`.
Sender = Adapter


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    parked: int = 0
    skipped: int = 0


@dataclass
class _Pass:
    """One claimed batch on its way out.

    Attributes:
        spaces: the circles' spaces by circle id, including those made in this pass.
        receipts: earlier posts' receipts by outbox key, including those sent in this pass.
    """

    outbox: Outbox
    sender: Sender
    now: datetime
    grace: timedelta
    report: DeliveryReport
    outcomes: list[Outcome]
    spaces: dict[str, Receipt]
    receipts: dict[str, Receipt]

    async def flush(self, force: bool = False) -> None:
        if self.outcomes and (force or len(self.outcomes) >= FLUSH_EVERY):
            batch, self.outcomes[:] = list(self.outcomes), []
            try:
                await asyncio.to_thread(self.outbox.finish, batch, self.now)
            except Exception:
                self.outcomes[:0] = batch  # the pass's last flush tries them again
                raise

    def record(
        self, queued: Queued, status: str, attempts: int, not_before: datetime, error: str | None = None,
        receipt: Receipt | None = None, dms_refused: bool = False,
    ) -> None:
        space_of = queued.circle_id if receipt and isinstance(queued.effect, OpenSpace) else None
        # A DM that went out, or was refused, says whether its recipient's DMs are open.
        said = isinstance(queued.effect, DirectMessage) and (status == SENT or dms_refused)
        self.outcomes.append(Outcome(queued.id, status, attempts, not_before, error, receipt, space_of, queued.platform,
                                     queued.effect.to.key if said else None, dms_refused))
        if receipt:
            self.receipts[queued.effect.key] = receipt
            if space_of:
                self.spaces[space_of] = receipt

    def outgoing(self, queued: Queued) -> Outgoing:
        referred = referred_key(queued.effect)
        earlier = self.receipts.get(referred) if referred else None
        return queued.outgoing(self.now, self.spaces.get(queued.circle_id), earlier)

    async def lane(self, items: list[Queued]) -> None:
        """One lane's deliveries, strictly in order."""
        hold_until: datetime | None = None
        for queued in items:
            if hold_until is not None:
                # A claim left by a dead process stays a resend while it waits: it may have gone out.
                status = SENDING if queued.resend else PENDING
                self.record(queued, status, queued.attempts, hold_until, "waiting for an earlier delivery")
                continue
            if queued.attempts == 0 and not queued.resend and self.now - queued.not_before > self.grace:
                self.record(queued, SKIPPED, 0, queued.not_before, f"not sent: {self.now - queued.not_before} late")
                self.report.skipped += 1
                metrics.delivery("late", queued.platform)
                log.warning("delivery %s skipped: due %s, too late to send", queued.effect.key, queued.not_before,
                            **about(queued.circle_id, queued.effect.key))
                continue
            try:
                with delivering(queued.circle_id, queued.effect.key):
                    receipt = await self.sender.deliver(self.outgoing(queued))
            except DeliveryFailed as failure:
                hold_until = self.failed(queued, failure)
            except Exception as error:  # an answer nobody foresaw fails this delivery, not the whole pass
                unforeseen = DeliveryFailed(f"unexpected {type(error).__name__}", uncertain=True)
                hold_until = self.failed(queued, unforeseen, error)
            else:
                self.record(queued, SENT, queued.attempts + 1, queued.not_before, receipt=receipt)
                self.report.sent += 1
                metrics.delivery("sent", queued.platform)
            await self.flush()

    def failed(self, queued: Queued, failure: DeliveryFailed, error: Exception | None = None) -> datetime | None:
        """Record a failed attempt: parked for good, or due again after the platform's wait or the backoff.

        Args:
            error: what the adapter raised, when it was not a ``DeliveryFailed`` (its traceback is logged).
        """
        attempts = queued.attempts + 1
        context = about(queued.circle_id, queued.effect.key)
        if failure.permanent or attempts >= MAX_ATTEMPTS:
            self.record(queued, PARKED, attempts, queued.not_before, str(failure), dms_refused=failure.dms_refused)
            self.report.parked += 1
            metrics.delivery("parked", queued.platform)
            log.error("delivery %s parked after %d attempts: %s", queued.effect.key, attempts, failure,
                      exc_info=error, **context)
            return None
        delay = timedelta(seconds=failure.retry_after) if failure.retry_after else BACKOFF[attempts - 1]
        # An earlier attempt that may have gone out (this one's, or one before it) makes the retry a resend.
        maybe_out = failure.uncertain or queued.resend
        self.record(queued, SENDING if maybe_out else PENDING, attempts, self.now + delay, str(failure))
        self.report.retried += 1
        metrics.delivery("failed", queued.platform)
        log.warning("delivery %s failed (%s); retrying in %s%s", queued.effect.key, failure, delay,
                    " as a resend: it may have gone out" if maybe_out else "", exc_info=error, **context)
        return self.now + delay


async def deliver_due_messages(
    outbox: Outbox,
    sender: Sender,
    now: datetime,
    grace: timedelta = timedelta(hours=6),
    *,
    batch: int = 100,
    concurrency: int = 256,  # lanes in flight: 1,000 requests a second that take 200 ms each need 200
    low_water: int = 100,
    queueing: asyncio.Future | None = None,
    pause: float = 0.25,
    leading: Callable[[], bool] | None = None,
) -> DeliveryReport:
    """Send everything due at ``now``, up to ``concurrency`` lanes at a time, until nothing is left.

    Claims are pipelined: the next batch is claimed while the last one is still
    being sent (once fewer than ``low_water`` claimed lanes wait to start), so
    the pacer never idles while the database works. Until ``queueing`` is done
    (circles are still being ticked and queueing posts) it keeps claiming: when
    a claim comes back short, again after ``pause`` seconds or when queueing ends.

    Claims are small (``batch``, default what a paced platform takes in a second
    or two), so a process that dies leaves little claimed and unsent. ``leading``
    is asked before each claim (in a worker thread): a process that lost the lead
    claims nothing more, and only finishes what it holds.

    Raises:
        Exception: a pass failed (its outcomes could not be recorded); claiming
            stops, the passes in flight finish, and the first failure is raised.
    """
    report = DeliveryReport()
    gate = asyncio.Semaphore(concurrency)
    passes: set[asyncio.Task] = set()
    waiting = 0  # claimed lanes not yet started

    async def send(claimed: list[Queued]) -> None:
        lanes: dict[str, list[Queued]] = defaultdict(list)
        for queued in claimed:
            lanes[queued.lane].append(queued)
        spaces, receipts = await asyncio.to_thread(outbox.context, claimed)
        work = _Pass(outbox, sender, now, grace, report, [], spaces, receipts)

        async def one_lane(items: list[Queued]) -> None:
            nonlocal waiting
            async with gate:
                waiting -= 1
                await work.lane(items)

        try:
            # Every lane runs to its end even if one fails, so the last flush records them all.
            results = await asyncio.gather(*(one_lane(items) for items in lanes.values()), return_exceptions=True)
        finally:
            await work.flush(force=True)
        for error in results:
            if isinstance(error, BaseException):
                raise error

    def ended(task: asyncio.Task) -> None:
        passes.discard(task)
        if not task.cancelled() and task.exception() is not None:
            failures.append(task.exception())

    failures: list[BaseException] = []  # a pass that failed stops the claiming; the caller hears of it
    try:
        while not failures:
            if waiting >= low_water:
                await asyncio.sleep(0.02)
                continue
            if leading is not None and not await asyncio.to_thread(leading):
                log.warning("this process lost the lead: it claims no more deliveries")
                break
            # Read before claiming: if nothing more was coming then, an empty claim means done.
            coming = queueing is not None and not queueing.done()
            # Likewise for a pass in flight: one that ends during the claim may free a lane it held.
            in_flight = bool(passes)
            claimed = await asyncio.to_thread(outbox.claim, now, batch)
            if claimed:
                waiting += len({queued.lane for queued in claimed})  # counted now: the pass starts later
                task = asyncio.ensure_future(send(claimed))
                passes.add(task)
                task.add_done_callback(ended)
            if len(claimed) == batch:
                continue
            if coming:
                await asyncio.wait({queueing}, timeout=pause)
            elif passes:
                # What is left waits behind lanes in flight; claim again when one finishes.
                await asyncio.wait(set(passes), return_when=asyncio.FIRST_COMPLETED)
            elif not claimed and not in_flight:
                break
    finally:
        if passes:
            await asyncio.gather(*passes, return_exceptions=True)
    if failures:
        raise failures[0]
    return report
