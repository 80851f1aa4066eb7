"""APScheduler on the wall clock: wake when the next step is due, on the leading replica only.

Two jobs, both carrying no state of their own:

* ``wake`` — a date job armed for the earliest moment anything is due (a
  circle's next step or a delivery's retry), re-armed after every run;
* ``heartbeat`` — every few seconds: claim or confirm leadership, and run
  whatever is due, so a missed wake or a new leader catches up.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from scheduler.clock import Clock, SystemClock
from scheduler.leader import PostgresLeader, SingleProcessLeader
from scheduler.runner import Runner

log = logging.getLogger(__name__)


class LiveScheduler:
    def __init__(
        self,
        runner: Runner,
        leader: SingleProcessLeader | PostgresLeader,
        clock: Clock | None = None,
        heartbeat: timedelta = timedelta(seconds=10),
    ):
        self.runner = runner
        self.leader = leader
        self.clock = clock or SystemClock()
        self.heartbeat = heartbeat
        self.leading = False
        self._one_at_a_time = asyncio.Lock()  # the wake and heartbeat jobs must not overlap
        self._runs: set[asyncio.Task] = set()
        self._stopping = False
        self.scheduler = AsyncIOScheduler(
            timezone=UTC, job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None}
        )

    def start(self) -> None:
        """Start; needs a running asyncio loop."""
        # Start-up is done and what it loaded lives on: the cyclic collector need not walk it again on
        # every pass (in a fan-out those ran through thousands of loaded circles).
        gc.freeze()
        self.scheduler.add_job(
            self._wake, IntervalTrigger(seconds=self.heartbeat.total_seconds()), id="heartbeat",
            next_run_time=datetime.now(UTC),
        )
        self.scheduler.start()

    async def shutdown(self) -> None:
        """Stop: let a running pass record its outcomes, then give up leadership."""
        self._stopping = True  # runs that start from now on return at once
        await asyncio.gather(*self._runs, return_exceptions=True)
        self.scheduler.shutdown(wait=False)  # (it would cancel runs still in flight)
        self.leader.release()

    def poke(self) -> None:
        """Run now (after a command queued deliveries), if this replica leads."""
        self.scheduler.add_job(self._wake, id="wake", replace_existing=True)

    async def _wake(self) -> None:
        if self._stopping:
            return
        task = asyncio.current_task()
        self._runs.add(task)
        try:
            async with self._one_at_a_time:
                if not self._stopping:
                    await self._run()
        finally:
            self._runs.discard(task)

    async def _run(self) -> None:
        if not await asyncio.to_thread(self.leader.acquire):
            self.leading = False
            return
        try:
            if not self.leading:
                # Whatever the previous leader had claimed but not finished is ours now.
                recovered = await asyncio.to_thread(self.runner.outbox.recover, self.clock.now())
                log.info("leading the scheduler; %d unfinished deliveries recovered", recovered)
                self.leading = True
            await self.runner.run_due(self.clock.now())
        except Exception:  # one bad run must not stop the clock; the next beat retries
            log.exception("scheduler run failed")
        moment = self.runner.next_wake()
        if moment is not None:
            self.scheduler.add_job(self._wake, DateTrigger(max(moment, self.clock.now())), id="wake", replace_existing=True)
