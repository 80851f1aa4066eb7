"""People typing commands while a fan-out runs: how long each waits for its answer.

:class:`CommandLoad` starts commands at a steady rate, each in a worker thread
as an adapter runs them, without waiting for the one before (people do not
queue politely), and times each from the moment it is typed to its answer. It
cycles through three commands, as members of the seeded circles:

* ``join #<forming circle>``: a new person joins one of the circles still forming (a write);
* ``info #<circle>``: a member reads their running circle (a read);
* ``checkin #<circle> a | b | c``: a member checks in for week 8 (a write to a circle the fan-out ticks).
"""

from __future__ import annotations

import asyncio
import itertools
import random
import statistics
import time
from collections import defaultdict

from bench.seed import MEMBERS, PLATFORM, WORKSPACE, forming_count, handle
from bot.circle import Actor, UserRef
from bot.effects import Reply
from bot.inputs import Request, Typed
from bot.i18n import render

KINDS = ("join", "info", "checkin")


def percentile(values: list[float], share: float) -> float:
    """The value below which ``share`` of ``values`` lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))] if ordered else float("nan")


class CommandLoad:
    """Commands at ``per_second`` against ``circles`` seeded circles, through ``service``.

    Args:
        service: the command service (``handle(request, now)``).
        circles: how many running circles were seeded (forming ones follow them).
        per_second: commands started a second.
        now: the scheduler's clock (the circles' time).
    """

    def __init__(self, service, circles: int, per_second: float, now, seed: int = 14):
        self.service = service  # the command service
        self._ids = itertools.count()
        self.circles = circles
        self.interval = 1.0 / per_second if per_second else float("inf")
        self.now = now
        self.random = random.Random(seed)
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.cpu: dict[str, list[float]] = defaultdict(list)  # each command's own CPU seconds (its thread's)
        self.errors: dict[str, int] = defaultdict(int)
        self.queued: list[float] = []  # seconds from typed until a worker thread took the command
        self.joined = 0
        self._tasks: set[asyncio.Task] = set()

    def _next(self, number: int) -> tuple[str, Actor, str]:
        kind = KINDS[number % len(KINDS)]
        if kind == "join":
            # Four people fill each forming circle (it holds five), then the next one.
            forming = self.circles + (self.joined // (MEMBERS - 1)) % forming_count(self.circles)
            user = UserRef(PLATFORM, WORKSPACE, f"joiner-{self.joined}")
            self.joined += 1
            return kind, Actor(user, f"Joiner {self.joined}"), f"join #{handle(forming)}"
        circle = self.random.randrange(self.circles)
        member = self.random.randrange(1, MEMBERS)
        actor = Actor(UserRef(PLATFORM, WORKSPACE, f"u{circle}-{member}"), f"Person {circle}.{member}")
        if kind == "info":
            return kind, actor, f"info #{handle(circle)}"
        return kind, actor, f"checkin #{handle(circle)} on track | one thing learned | next step"

    async def _one(self, kind: str, actor: Actor, text: str) -> None:
        typed = time.perf_counter()
        started = cpu = 0.0

        def command():
            nonlocal started, cpu
            started, cpu_began = time.perf_counter(), time.thread_time()
            try:
                return self.service.handle(Request(actor, Typed(text), f"bench-{next(self._ids)}"), self.now())
            finally:
                cpu = time.thread_time() - cpu_began

        responses = await asyncio.get_running_loop().run_in_executor(self.service.threads, command)  # as ahandle does
        self.latencies[kind].append(time.perf_counter() - typed)
        self.cpu[kind].append(cpu)
        self.queued.append(started - typed)
        if any(isinstance(r, Reply) and r.message.title is not None and render(r.message.title, "en") == "Sorry"
               for r in responses):
            self.errors[kind] += 1

    async def run(self, until: asyncio.Future) -> None:
        """Start commands until ``until`` is done, then wait for those still running."""
        number, next_at = 0, time.perf_counter()
        while not until.done():
            task = asyncio.ensure_future(self._one(*self._next(number)))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            number += 1
            next_at += self.interval
            await asyncio.wait({until}, timeout=max(0.0, next_at - time.perf_counter()))
        if self._tasks:
            await asyncio.gather(*self._tasks)

    def summary(self) -> dict:
        """Per command: count, errors, p50, p99 and max latency in ms; and how long commands waited for a thread."""
        result = {"waiting for a thread": dict(
            count=len(self.queued), errors=0, p50_ms=round(1000 * statistics.median(self.queued), 1) if self.queued else None,
            p99_ms=round(1000 * percentile(self.queued, 0.99), 1) if self.queued else None,
            max_ms=round(1000 * max(self.queued), 1) if self.queued else None)}
        for kind in KINDS:
            values = self.latencies.get(kind, [])
            result[kind] = dict(
                count=len(values), errors=self.errors.get(kind, 0),
                p50_ms=round(1000 * statistics.median(values), 1) if values else None,
                p99_ms=round(1000 * percentile(values, 0.99), 1) if values else None,
                max_ms=round(1000 * max(values), 1) if values else None,
                cpu_p50_ms=round(1000 * statistics.median(self.cpu[kind]), 1) if values else None,
                cpu_p99_ms=round(1000 * percentile(self.cpu[kind], 0.99), 1) if values else None,
            )
        return result
