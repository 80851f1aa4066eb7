"""APScheduler on the wall clock: wake when the next step is due, on the leading process only.

Two jobs, both carrying no state of their own:

* ``wake`` — a date job armed for the earliest moment anything is due (a
  circle's next step or a delivery's retry), re-armed after every run, and a
  second after a run that failed;
* ``heartbeat`` — every few seconds: claim or confirm leadership, and run
  whatever is due, so a missed wake or a new leader catches up.

A process that cannot lead (another one holds the database) stands by: it
says so once, in the log and through ``notify``, delivers nothing, and takes
over when the other one stops.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from circlebot import metrics
from scheduler.clock import Clock, SystemClock
from scheduler.leader import Leader
from scheduler.runner import Runner

log = logging.getLogger(__name__)

#: How soon a failed run is tried again (its unfinished deliveries are already due again).
RETRY_FAILED_RUN = timedelta(seconds=1)


def settle_collector() -> None:
    """Keep the cyclic garbage collector out of the hot path, once start-up is done.

    What start-up loaded lives on: frozen, the collector no longer walks it on
    every pass. Circles hold no cycles, so their garbage goes by reference
    counting; the collector's young passes come 30 times more rarely than by
    default (in a tick of 2,000 mature circles: 1,012 passes cut to 1, 7 % of its CPU).
    """
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)


class LiveScheduler:
    def __init__(
        self,
        runner: Runner,
        leader: Leader,
        clock: Clock | None = None,
        heartbeat: timedelta = timedelta(seconds=10),
        notify: Callable[[str], None] | None = None,
    ):
        self.runner = runner
        self.leader = leader
        self.clock = clock or SystemClock()
        self.heartbeat = heartbeat
        self.notify = notify or (lambda _message: None)
        self.leading = False
        self.standing_by = False
        #: When (event loop time) the last run ended well, leading or standing by: ``/healthz`` asks.
        self.last_ok: float | None = None
        self._term = 0  # the leader's term this process last recovered in
        self._failed = False  # the last run failed
        self._one_at_a_time = asyncio.Lock()  # the wake and heartbeat jobs must not overlap
        self._runs: set[asyncio.Task] = set()
        self._stopping = False
        self.scheduler = AsyncIOScheduler(
            timezone=UTC, job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None}
        )

    def start(self) -> None:
        """Start; needs a running asyncio loop."""
        settle_collector()
        self.scheduler.add_job(
            self._wake, IntervalTrigger(seconds=self.heartbeat.total_seconds()), id="heartbeat",
            next_run_time=datetime.now(UTC),
        )
        self.scheduler.start()

    async def shutdown(self, last_run: bool = False) -> None:
        """Stop: let a running pass record its outcomes, then give up leadership.

        With ``last_run``, a leader first runs once more, so what the last commands
        queued goes out before it lets go.
        """
        self._stopping = True  # runs that start from now on return at once
        await asyncio.gather(*self._runs, return_exceptions=True)
        self.scheduler.shutdown(wait=False)  # (it would cancel runs still in flight)
        try:
            if last_run and self.leading:
                await self.runner.run_due(self.clock.now())
        finally:
            self.leader.release()

    def poke(self) -> None:
        """Run now (after a command queued deliveries), if this replica leads."""
        self._arm(None)

    def _arm(self, moment: datetime | None) -> None:
        trigger = DateTrigger(moment) if moment is not None else None
        self.scheduler.add_job(self._wake, trigger, id="wake", replace_existing=True)

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
        try:
            if not await asyncio.to_thread(self.leader.acquire):
                self._stand_by()
                self._ran("standby")
                return
            self.leading = True
            if self.standing_by:
                self.standing_by = False
                self.notify("The other process has stopped: this one delivers the messages now.")
            if self._term != self.leader.term:
                # Whatever a previous leader had claimed but not finished is ours now.
                recovered = await asyncio.to_thread(self.runner.outbox.recover, self.clock.now())
                log.info("leading the scheduler; %d unfinished deliveries recovered", recovered)
                self._term = self.leader.term
            await self.runner.run_due(self.clock.now(), leading=self.leader.acquire)
            moment = self.runner.next_wake()
            self._failed = False
            self._ran("ran")
        except Exception:  # one bad run must not stop the clock
            # Once at once (the failed pass's deliveries are due again), then at the heartbeat.
            retry = not self._failed
            self._failed = True
            metrics.scheduler_ran("failed")
            log.exception("scheduler run failed; trying again %s",
                          f"in {RETRY_FAILED_RUN.total_seconds():g} s" if retry else "at the next heartbeat")
            moment = self.clock.now() + RETRY_FAILED_RUN if retry else None
        if moment is not None:
            self._arm(max(moment, self.clock.now()))

    @property
    def running(self) -> bool:
        """A run is in flight (a big fan-out may take a while)."""
        return bool(self._runs)

    def _ran(self, outcome: str) -> None:
        self.last_ok = asyncio.get_running_loop().time()
        metrics.scheduler_ran(outcome)

    def _stand_by(self) -> None:
        self.leading = False
        if not self.standing_by:  # said once, not every heartbeat
            self.standing_by = True
            message = (f"Another process holds {self.leader.holds}: it delivers the messages, "
                       "and this one delivers nothing until that one stops.")
            log.warning(message)
            self.notify(message)
