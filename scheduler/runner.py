"""One step of the scheduler: tick the circles that are due, then deliver what is queued.

The live scheduler (APScheduler) and the console's simulated clock both drive
time through :meth:`Runner.run_due`, so a console session exercises the same
path as Slack and Discord.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from circlebot.ticker import Ticker
from scheduler.delivery import DeliveryReport, Sender, deliver_due_messages
from storage.outbox import Outbox

log = logging.getLogger(__name__)


class Runner:
    """Drives one process's scheduler; only the process that leads (see ``scheduler.leader``) runs it."""

    def __init__(self, ticker: Ticker, outbox: Outbox, sender: Sender):
        self.ticker = ticker
        self.outbox = outbox
        self.sender = sender
        self._claims_left = False  # a failed pass left claims that could not be released yet

    async def run_due(self, now: datetime, leading: Callable[[], bool] | None = None) -> DeliveryReport:
        """Tick every due circle and deliver every due message, at the same time.

        Ticking runs in a worker thread while delivery claims and sends what the
        ticks have queued so far: in a synchronized fan-out the first posts go
        out at once, and the rate limit, not the database, sets the pace.
        ``leading`` is asked before each claim: see :func:`deliver_due_messages`.

        Raises:
            Exception: a delivery pass failed (e.g. the database went away). What
                it had claimed and not finished is due again at once, not after
                the claim's lease, so the next run (the caller's retry) sends it.
        """
        await self._release_claims(now)
        ticking = asyncio.ensure_future(asyncio.to_thread(self.ticker.tick_due, now))
        try:
            return await deliver_due_messages(
                self.outbox, self.sender, now, self.ticker.grace, queueing=ticking, leading=leading
            )
        except Exception:
            self._claims_left = True
            try:
                await self._release_claims(now)
            except Exception as error:  # the database is still away: the next run releases them
                log.warning("could not release a failed pass's claims yet: %s", error.__class__.__name__)
            raise
        finally:
            await ticking

    async def _release_claims(self, now: datetime) -> None:
        if self._claims_left:
            # No pass is in flight between runs, so every claim still open is one nobody will finish.
            released = await asyncio.to_thread(self.outbox.recover, now)
            self._claims_left = False
            log.warning("a delivery pass failed; the %d deliveries it left unfinished are due again", released)

    def next_wake(self) -> datetime | None:
        """The next moment anything is due: a circle's step or a delivery's retry."""
        moments = [m for m in (self.ticker.store.next_wake(), self.outbox.next_due()) if m is not None]
        return min(moments, default=None)

    async def advance(self, clock, until: datetime) -> None:
        """Move a simulated clock to ``until``, running each due moment on the way, in order."""
        previous = None
        while (moment := self.next_wake()) is not None and moment <= until and moment != previous:
            # A moment that stays due after running (a circle whose kit is gone) must not spin.
            previous = moment
            clock.set(moment)
            await self.run_due(clock.now())
        clock.set(until)
        await self.run_due(clock.now())
