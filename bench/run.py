"""One fan-out run in a fresh process: start-up, then the fan-out with commands typed meanwhile.

    .venv/bin/python -m bench.run --db URL --circles N --rate R [--latency 0.1,0.2] --json out.json

:mod:`bench.fanout` runs this once per run (the database freshly seeded), so
that every run's start-up is measured from a bare interpreter, imports
included. It writes every figure to ``--json``.

1. The fake platform (``tests/fakes/platform.py``) runs in a child process, so
   its CPU and the GIL are not the bot's; it enforces ``--rate`` with one second
   of burst (429 + Retry-After above it), answers after ``--latency``, and
   notes when it created its first and last message.
2. Start-up: imports the bot, opens and migrates the database, and does what
   the live scheduler does before its first run (takes leadership, recovers
   unfinished deliveries, asks ``Runner.next_wake`` and ``Store.due_circle_ids``).
3. Fan-out: loops ``Runner.run_due(now)`` (the clock starts at the due moment
   and runs in real time) with an ``HttpSender`` paced by ``Pacer(rate)``, until
   nothing is due before the next real step. Meanwhile :class:`CommandLoad`
   types commands, until the pass that ticked the circles ends (with their
   messages sent). The fan-out's wall time runs from the first tick to the last
   message the platform created.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import multiprocessing
import os
import resource
import sys
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: Stop once nothing is due within this long after the due moment (the next step is a day later).
HORIZON_SECONDS = 3600


def rss_mb(pid: int | str = "self", field: str = "VmRSS") -> float:
    """A process's resident set size (``VmHWM``: its peak), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# ---------------------------------------------------------------- the fake platform, in its own process


def _serve_platform(rate: float, latency: tuple[float, float] | None, connection) -> None:
    """Child process: run FakePlatform until told to stop; answer ``stats`` requests."""
    sys.path.insert(0, str(ROOT / "tests"))
    from fakes.platform import FakePlatform

    platform = FakePlatform(rate_per_second=rate, latency=latency)
    connection.send(platform.start())
    while True:
        command = connection.recv()
        with platform._lock:
            channels = Counter("dm" if m["channel_id"].startswith("dm:") else "post" for m in platform.created.values())
            stats = dict(requests=platform.requests, rejected=platform.rejected, created=len(platform.created),
                         posts=channels["post"], dms=channels["dm"], first_at=platform.first_at,
                         last_at=platform.last_at, burst=rate * platform.BURST_SECONDS)
        stats["duplicates"] = len(platform.duplicates())
        stats["cpu_seconds"] = cpu_seconds()
        if command == "stop":
            platform.stop()
            connection.send(stats)
            return
        connection.send(stats)


class PlatformProcess:
    """FakePlatform in a child process, so its CPU and the GIL are not the bot's."""

    def __init__(self, rate: float, latency: tuple[float, float] | None):
        context = multiprocessing.get_context("spawn")
        self._connection, child = context.Pipe()
        self._process = context.Process(target=_serve_platform, args=(rate, latency, child), daemon=True)
        self._process.start()
        self.url = self._connection.recv()

    def stop(self) -> dict:
        self._connection.send("stop")
        stats = self._connection.recv()
        self._process.join(10)
        return stats


# ---------------------------------------------------------------- instruments


class BenchClock:
    """The due moment, then real time: the scheduler sees the seconds the fan-out takes."""

    def __init__(self, start):
        self.start = start
        self._origin: float | None = None

    def begin(self) -> float:
        self._origin = time.monotonic()
        return self._origin

    def now(self):
        from datetime import timedelta

        elapsed = 0.0 if self._origin is None else time.monotonic() - self._origin
        return self.start + timedelta(seconds=elapsed)


class Timed:
    """Wraps a callable on an instance: call count, wall and CPU seconds (of the calling thread) inside it."""

    def __init__(self, owner, name: str):
        self.inner = getattr(owner, name)
        self.calls = 0
        self.wall = 0.0
        self.cpu = 0.0
        self.longest = 0.0
        setattr(owner, name, self)

    def __call__(self, *args, **kwargs):
        wall, cpu = time.perf_counter(), time.thread_time()
        try:
            return self.inner(*args, **kwargs)
        finally:
            took = time.perf_counter() - wall
            self.calls += 1
            self.wall += took
            self.cpu += time.thread_time() - cpu
            self.longest = max(self.longest, took)

    def summary(self) -> dict:
        return dict(calls=self.calls, wall=round(self.wall, 3), cpu=round(self.cpu, 3), longest=round(self.longest, 3))


class Activity:
    """Seconds during which circles were being ticked and no delivery was in flight.

    Ticking (in a worker thread) and sending (on the event loop, pacer waits
    included) report when they start and stop. Time spent only ticking is time
    the rate limit was not being used.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._ticking = 0
        self._sending = 0
        self._since = time.perf_counter()
        self.ticking_only = 0.0

    def change(self, ticking: int = 0, sending: int = 0) -> None:
        with self._lock:
            now = time.perf_counter()
            if self._ticking and not self._sending:
                self.ticking_only += now - self._since
            self._since = now
            self._ticking += ticking
            self._sending += sending


def watch_sender(sender, activity: Activity) -> None:
    """Report each ``sender.deliver`` call, from its pacer wait to its answer, to ``activity``."""
    deliver = sender.deliver

    async def watched(*args, **kwargs):
        activity.change(sending=1)
        try:
            return await deliver(*args, **kwargs)
        finally:
            activity.change(sending=-1)

    sender.deliver = watched


class CountingHandler(logging.Handler):
    """Counts log records by level and prints only the first few of each."""

    def __init__(self, show: int = 3):
        super().__init__(logging.WARNING)
        self.counts: Counter[str] = Counter()
        self.show = show

    def emit(self, record: logging.LogRecord) -> None:
        self.counts[record.levelname] += 1
        if self.counts[record.levelname] <= self.show:
            print(f"  [{record.levelname} {record.name}] {record.getMessage()}", file=sys.stderr)


# ---------------------------------------------------------------- the run


def start_up(url: str, platform_url: str, rate: float, concurrency: int, tick_process: bool | None = None) -> dict:
    """Open the database and load the schedule as the live scheduler does; imports included."""
    begun, cpu = time.perf_counter(), cpu_seconds()
    rss_before = rss_mb()
    from datetime import timedelta

    sys.path.insert(0, str(ROOT / "tests"))
    from fakes.http_sender import HttpSender

    from circlebot.tick_process import TickProcess, wanted
    from circlebot.wiring import wire
    from kits import builtin_kits
    from scheduler.leader import leader_for
    from scheduler.live import LiveScheduler, settle_collector
    from scheduler.pacing import Pacer
    from storage.database import make_engine, upgrade

    from bench import DUE

    imported = time.perf_counter()
    engine = make_engine(url)
    upgrade(engine)
    app = wire(engine, builtin_kits(), timedelta(hours=6))
    store, outbox = app.store, app.outbox
    sender = HttpSender(platform_url, Pacer(per_second=rate), connections=concurrency)
    clock = BenchClock(DUE)
    tick_process = wanted(tick_process, engine.url)  # as `circlebot run` decides
    ticker = TickProcess(app.ticker, engine.url) if tick_process else app.ticker
    runner = app.runner(sender, ticker)
    live = LiveScheduler(runner, leader_for(engine), clock)  # built, not started: the loop below drives it
    # What LiveScheduler._run does before its first run_due, and what it asks after every run.
    if not live.leader.acquire():
        raise SystemExit("another process holds the scheduler lock")
    settle_collector()  # as LiveScheduler.start does
    recovered = outbox.recover(clock.now())
    wake = runner.next_wake()
    due = store.due_circle_ids(clock.now())
    if tick_process:
        ticker.start(wait=True)  # counted in the start-up: the bot can tick now
    took = time.perf_counter() - begun
    result = dict(
        seconds=took, import_seconds=imported - begun, cpu_seconds=cpu_seconds() - cpu,
        rss_mb=rss_mb(), rss_before_mb=rss_before, recovered=recovered, next_wake=wake, first_due_batch=len(due),
        tick_process=tick_process, tick_process_rss_mb=rss_mb(ticker.pid) if tick_process else 0.0,
    )
    return dict(result=result, engine=engine, store=store, outbox=outbox, ticker=ticker, commands=app.commands, runner=runner,
                sender=sender, clock=clock, live=live)


async def fan_out(parts: dict, circles: int, commands_per_second: float, progress_every: float = 10.0) -> dict:
    """Loop run_due from the due moment until nothing is due, while people type commands."""
    from datetime import timedelta

    from bench.people import CommandLoad
    from scheduler.delivery import DeliveryReport

    runner, clock, ticker, outbox = parts["runner"], parts["clock"], parts["ticker"], parts["outbox"]
    horizon = clock.start + timedelta(seconds=HORIZON_SECONDS)
    tick = Timed(ticker, "tick_due")
    claim = Timed(outbox, "claim")
    finish = Timed(outbox, "finish")
    wake = Timed(runner, "next_wake")
    original_tick = tick.inner
    ticked = 0
    activity = Activity()
    watch_sender(parts["sender"], activity)

    def counting_tick(now):
        nonlocal ticked
        activity.change(ticking=1)
        try:
            n = original_tick(now)
        finally:
            activity.change(ticking=-1)
        ticked += n
        return n

    tick.inner = counting_tick
    total = DeliveryReport()
    runs = 0
    collections_before = sum(s["collections"] for s in gc.get_stats())
    began = clock.begin()
    cpu = cpu_seconds() + getattr(ticker, "cpu_seconds", 0.0)  # the ticking process's too
    shown = time.perf_counter()
    done = asyncio.get_running_loop().create_future()
    load = CommandLoad(parts["commands"], circles, commands_per_second, clock.now)
    typing = asyncio.ensure_future(load.run(done)) if commands_per_second else None
    try:
        while True:
            moment = runner.next_wake()
            if moment is None or moment > horizon:
                break
            now = clock.now()
            if moment > now:  # a retry after Retry-After or backoff: wait for it, as the wake job would
                await asyncio.sleep(min((moment - now).total_seconds(), 1.0))
                continue
            report = await runner.run_due(now)
            runs += 1
            if ticked and not done.done():
                # The pass that ticked every due circle ends once their messages are out: so does the typing,
                # or its own deliveries (not part of the fan-out) would keep the loop busy.
                done.set_result(None)
            for field in ("sent", "retried", "parked", "skipped"):
                setattr(total, field, getattr(total, field) + getattr(report, field))
            if time.perf_counter() - shown >= progress_every:
                shown = time.perf_counter()
                print(f"  {time.monotonic() - began:6.1f} s: {ticked:,} circles ticked, {total.sent:,} sent, "
                      f"RSS {rss_mb():.0f} MB", file=sys.stderr, flush=True)
    finally:
        if not done.done():
            done.set_result(None)
        if typing is not None:
            await typing
    ended = time.monotonic()
    cpu_total = cpu_seconds() + getattr(ticker, "cpu_seconds", 0.0) - cpu
    await parts["sender"].close()
    return dict(
        began=began, ended=ended, cpu=cpu_total, runs=runs, ticked=ticked, ticking_only=activity.ticking_only,
        sent=total.sent, retried=total.retried, parked=total.parked, skipped=total.skipped,
        tick=tick.summary(), claim=claim.summary(), finish=finish.summary(), next_wake=wake.summary(),
        gc_collections=sum(s["collections"] for s in gc.get_stats()) - collections_before,
        commands=load.summary(),
    )


def run(args) -> dict:
    latency = tuple(float(x) for x in args.latency.split(",")) if args.latency else None
    results: dict = dict(circles=args.circles, rate=args.rate, latency=latency, db=args.db)
    platform = PlatformProcess(args.rate, latency)
    try:
        counter = CountingHandler()
        logging.basicConfig(level=logging.WARNING, handlers=[counter])
        parts = start_up(args.db, platform.url, args.rate, args.concurrency, args.tick_process)
        results["startup"] = parts["result"]
        print(f"  start-up {results['startup']['seconds']:.2f} s, RSS {results['startup']['rss_mb']:.0f} MB; "
              f"next wake {results['startup']['next_wake']}", file=sys.stderr, flush=True)
        if args.profile:  # the event loop's thread: delivery, pacing, HTTP (ticks and claims run in others)
            import cProfile
            import pstats

            profile = cProfile.Profile()
            results["fanout"] = profile.runcall(asyncio.run, fan_out(parts, args.circles, args.commands))
            pstats.Stats(profile, stream=sys.stderr).strip_dirs().sort_stats("tottime").print_stats(30)
        else:
            results["fanout"] = asyncio.run(fan_out(parts, args.circles, args.commands))
        results["log_records"] = dict(counter.counts)
        results["peak_rss_mb"] = peak_rss_mb()
        if results["startup"]["tick_process"]:
            results["tick_process_peak_rss_mb"] = rss_mb(parts["ticker"].pid, "VmHWM")
            parts["ticker"].close()
        results["outbox"] = parts["outbox"].counts()
        parts["engine"].dispose()
    finally:
        results["platform"] = platform.stop()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--circles", type=int, required=True, help="running circles seeded (forming ones follow)")
    parser.add_argument("--rate", type=float, required=True, help="the platform's rate limit and the pacer's, per second")
    parser.add_argument("--latency", default="", help="the platform's answer latency: low,high seconds (default none)")
    parser.add_argument("--commands", type=float, default=5.0, help="commands typed a second during the fan-out")
    parser.add_argument("--concurrency", type=int, default=256, help="the sender's connections")
    parser.add_argument("--tick-process", action=argparse.BooleanOptionalAction, default=None,
                        help="tick in a process of its own or not (default: as `circlebot run` decides, CIRCLEBOT_TICK_PROCESS)")
    parser.add_argument("--profile", action="store_true", help="cProfile the event loop's thread; print to stderr")
    parser.add_argument("--json", required=True, help="where to write the figures")
    args = parser.parse_args(argv)
    Path(args.json).write_text(json.dumps(run(args), default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
