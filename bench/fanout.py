"""The synchronized fan-out benchmark: N circles' week-1 posts due at one moment.

    .venv/bin/python -m bench.fanout [--circles 35000] [--rate 1000] [--db URL] [--no-seed]

1. Seeds the database (:mod:`bench.seed`, in a child process) so that every
   circle's week-1 exercise comes due at :data:`bench.DUE`.
2. Starts :class:`FakePlatform` (``tests/fakes/platform.py``) in a child process,
   enforcing ``--rate`` requests a second (429 + Retry-After above it).
3. Start-up: from a bare interpreter, imports the bot, opens and migrates the
   database, and does what the live scheduler does before its first run (takes
   leadership, recovers unfinished deliveries, asks ``Runner.next_wake`` and
   ``Store.due_circle_ids``); reports the time and the RSS.
4. Fan-out: loops ``Runner.run_due(now)`` — the clock starts at the due moment
   and runs in real time — with an :class:`HttpSender` paced by ``Pacer(rate)``,
   re-asking ``Runner.next_wake`` between runs as ``LiveScheduler`` does, until
   nothing is due before the next real step (47 h later). ``tick_due``, the
   sender, ``Outbox.claim`` and ``Outbox.finish`` are timed.

The ratio is delivery wall time / (messages / rate), where delivery is the
fan-out less any time spent only ticking with no delivery in flight: 1.0 means
the platform's rate limit was the only thing that took time. The whole fan-out's
ratio is reported too.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import multiprocessing
import os
import resource
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_RATE = 1000.0
#: Stop once nothing is due within this long after the due moment (the next step is 47 h later).
HORIZON_SECONDS = 3600


def rss_mb() -> float:
    """The current resident set size, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# ---------------------------------------------------------------- the fake platform, in its own process


def _serve_platform(rate: float, connection) -> None:
    """Child process: run FakePlatform until told to stop; answer ``stats`` requests."""
    sys.path.insert(0, str(ROOT / "tests"))
    from fakes.platform import FakePlatform

    platform = FakePlatform(rate_per_second=rate)
    connection.send(platform.start())
    while True:
        command = connection.recv()
        with platform._lock:
            channels = Counter("dm" if m["channel_id"].startswith("dm:") else "post" for m in platform.created.values())
            stats = dict(requests=platform.requests, rejected=platform.rejected, created=len(platform.created),
                         posts=channels["post"], dms=channels["dm"])
        stats["duplicates"] = len(platform.duplicates())
        stats["cpu_seconds"] = cpu_seconds()
        if command == "stop":
            platform.stop()
            connection.send(stats)
            return
        connection.send(stats)


class PlatformProcess:
    """FakePlatform in a child process, so its CPU and the GIL are not the bot's."""

    def __init__(self, rate: float):
        context = multiprocessing.get_context("spawn")
        self._connection, child = context.Pipe()
        self._process = context.Process(target=_serve_platform, args=(rate, child), daemon=True)
        self._process.start()
        self.url = self._connection.recv()

    def stats(self) -> dict:
        self._connection.send("stats")
        return self._connection.recv()

    def stop(self) -> dict:
        self._connection.send("stop")
        stats = self._connection.recv()
        self._process.join(10)
        return stats


# ---------------------------------------------------------------- the benchmark


class BenchClock:
    """The due moment, then real time: the scheduler sees the seconds the fan-out takes."""

    def __init__(self, start):
        self.start = start
        self._origin: float | None = None

    def begin(self) -> None:
        self._origin = time.monotonic()

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
    the rate limit was not being used; the rest of the fan-out is delivery.
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

    async def watched(outgoing):
        activity.change(sending=1)
        try:
            return await deliver(outgoing)
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


def start_up(url: str, platform_url: str, rate: float, channel_gap: float) -> dict:
    """Open the database and load the schedule as the live scheduler does; imports included."""
    begun, cpu = time.perf_counter(), cpu_seconds()
    rss_before = rss_mb()
    from datetime import timedelta

    sys.path.insert(0, str(ROOT / "tests"))
    from fakes.http_sender import HttpSender

    from circlebot.wiring import wire
    from kits import builtin_kits
    from scheduler.leader import leader_for
    from scheduler.live import LiveScheduler
    from scheduler.pacing import Pacer
    from storage.database import make_engine, upgrade

    from bench import DUE

    imported = time.perf_counter()
    engine = make_engine(url)
    upgrade(engine)
    app = wire(engine, builtin_kits(), timedelta(hours=6))
    store, outbox = app.store, app.outbox
    sender = HttpSender(platform_url, Pacer(per_second=rate, per_channel_gap=channel_gap))
    clock = BenchClock(DUE)
    runner = app.runner(sender)
    live = LiveScheduler(runner, leader_for(engine), clock)  # built, not started: the loop below drives it
    # What LiveScheduler._run does before its first run_due, and what it asks after every run.
    if not live.leader.acquire():
        raise SystemExit("another process holds the scheduler lock")
    recovered = outbox.recover(clock.now())
    wake = runner.next_wake()
    due = store.due_circle_ids(clock.now())
    took = time.perf_counter() - begun
    result = dict(
        seconds=took, import_seconds=imported - begun, cpu_seconds=cpu_seconds() - cpu,
        rss_mb=rss_mb(), rss_before_mb=rss_before, recovered=recovered, next_wake=wake, first_due_batch=len(due),
    )
    from sqlalchemy import func, select

    from storage.models import CircleRow

    with engine.connect() as connection:
        result["scheduled_circles"] = connection.execute(
            select(func.count()).select_from(CircleRow).where(CircleRow.next_wake_at.is_not(None))
        ).scalar()
        result["due_at_wake"] = connection.execute(
            select(func.count()).select_from(CircleRow).where(CircleRow.next_wake_at <= wake)
        ).scalar() if wake else 0
    return dict(result=result, engine=engine, store=store, outbox=outbox, service=app.ticker, runner=runner,
                sender=sender, clock=clock, live=live)


async def fan_out(parts: dict, progress_every: float = 10.0) -> dict:
    """Loop run_due from the due moment until nothing is due; time ticking and delivery apart."""
    from datetime import timedelta

    from scheduler.delivery import DeliveryReport

    runner, clock, service, outbox = parts["runner"], parts["clock"], parts["service"], parts["outbox"]
    horizon = clock.start + timedelta(seconds=HORIZON_SECONDS)
    tick = Timed(service, "tick_due")
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
    clock.begin()
    begun, cpu = time.perf_counter(), cpu_seconds()
    shown = begun
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
        for field in ("sent", "retried", "parked", "skipped"):
            setattr(total, field, getattr(total, field) + getattr(report, field))
        if time.perf_counter() - shown >= progress_every:
            shown = time.perf_counter()
            print(f"  {shown - begun:6.1f} s: {ticked:,} circles ticked, {total.sent:,} sent, "
                  f"RSS {rss_mb():.0f} MB", file=sys.stderr, flush=True)
    wall = time.perf_counter() - begun
    cpu_total = cpu_seconds() - cpu
    await parts["sender"].close()
    return dict(
        wall=wall, cpu=cpu_total, runs=runs, ticked=ticked, ticking_only=activity.ticking_only, sent=total.sent, retried=total.retried,
        parked=total.parked, skipped=total.skipped,
        tick=tick.summary(), claim=claim.summary(), finish=finish.summary(), next_wake=wake.summary(),
    )


def run(args) -> dict:
    results: dict = dict(circles=args.circles, rate=args.rate, db=args.db, date=time.strftime("%Y-%m-%d %H:%M"),
                         code=code_version())
    if not args.no_seed:
        began = time.perf_counter()
        subprocess.run([sys.executable, "-m", "bench.seed", "--circles", str(args.circles), "--db", args.db],
                       check=True, cwd=ROOT)
        results["seed_seconds"] = time.perf_counter() - began
    platform = PlatformProcess(args.rate)
    try:
        counter = CountingHandler()
        logging.basicConfig(level=logging.WARNING, handlers=[counter])
        parts = start_up(args.db, platform.url, args.rate, args.channel_gap)
        results["startup"] = parts["result"]
        print(f"start-up {results['startup']['seconds']:.2f} s, RSS {results['startup']['rss_mb']:.0f} MB; "
              f"{results['startup']['due_at_wake']:,} circles due at {results['startup']['next_wake']}",
              file=sys.stderr, flush=True)
        results["load_before"] = os.getloadavg()
        results["fanout"] = asyncio.run(fan_out(parts))
        results["load_after"] = os.getloadavg()
        results["log_records"] = dict(counter.counts)
        results["peak_rss_mb"] = peak_rss_mb()
        results["outbox"] = parts["outbox"].counts()
        parts["engine"].dispose()
    finally:
        results["platform"] = platform.stop()
    return results


def code_version() -> str:
    """The commit measured, with ``-dirty`` when the work tree had changes."""
    try:
        return subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def report(r: dict) -> str:
    s, f, p = r["startup"], r["fanout"], r["platform"]
    messages = f["sent"]
    floor = messages / r["rate"]
    tick_wall = f["tick"]["wall"]
    # Delivery is the fan-out less the time spent only ticking, with nothing in flight: all of
    # the ticking when run_due ticks first and sends after, almost none when it does both at once.
    delivery_wall = f["wall"] - f["ticking_only"]
    delivery_cpu = f["cpu"] - f["tick"]["cpu"]
    ratio = delivery_wall / floor if floor else float("nan")
    whole = f["wall"] / floor if floor else float("nan")
    r["figures"] = figures = dict(
        startup_s=round(s["seconds"], 2), startup_rss_mb=round(s["rss_mb"]), fanout_wall_s=round(f["wall"], 1),
        tick_wall_s=round(tick_wall, 1), ticking_only_s=round(f["ticking_only"], 1),
        delivery_wall_s=round(delivery_wall, 1), floor_s=round(floor, 1), ratio=round(ratio, 3),
        whole_fanout_ratio=round(whole, 3),
        cpu_ms_per_message=round(1000 * delivery_cpu / messages, 3) if messages else None,
        cpu_ms_per_message_with_ticks=round(1000 * f["cpu"] / messages, 3) if messages else None,
        peak_rss_mb=round(r["peak_rss_mb"]), rejected_429=p["rejected"],
    )
    goals = [
        ("ratio <= 1.05", ratio <= 1.05),
        ("start-up <= 5 s", s["seconds"] <= 5),
        ("RSS <= 300 MB", r["peak_rss_mb"] <= 300),
    ]
    lines = [
        f"Circlebot fan-out benchmark, {r['date']}: {r['circles']:,} circles x 5 members, rate {r['rate']:g}/s, {r['db']}",
        f"  code {r['code']}; load average {r['load_before'][0]:.2f} before, {r['load_after'][0]:.2f} after "
        f"(another busy process on the 2 cores skews every figure)",
        f"  seeding (not part of the figures)  {r.get('seed_seconds', float('nan')):8.1f} s",
        f"  start-up                           {s['seconds']:8.2f} s   (imports {s['import_seconds']:.2f} s, "
        f"CPU {s['cpu_seconds']:.2f} s; {s['scheduled_circles']:,} circles scheduled, {s['due_at_wake']:,} due at the first wake)",
        f"  RSS after start-up                 {s['rss_mb']:8.0f} MB",
        f"  fan-out, due moment to last sent   {f['wall']:8.1f} s   ({f['runs']} run_due calls)",
        f"  ticking (tick_due)                 {tick_wall:8.1f} s   ({f['ticked']:,} circles, "
        f"{1000 * tick_wall / max(f['ticked'], 1):.2f} ms/circle, CPU {f['tick']['cpu']:.1f} s; "
        f"{f['ticking_only']:.1f} s of it with nothing being sent)",
        f"  delivery (fan-out less that)       {delivery_wall:8.1f} s   ({messages:,} messages: {p['posts']:,} posts, {p['dms']:,} DMs)",
        f"  rate-limit floor (messages / rate) {floor:8.1f} s",
        f"  ratio delivery / floor             {ratio:8.3f}",
        f"  ratio whole fan-out / floor        {whole:8.3f}",
        f"  CPU per delivered message          {figures['cpu_ms_per_message']:8.3f} ms   "
        f"({figures['cpu_ms_per_message_with_ticks']:.3f} ms counting the ticks)",
        f"  peak RSS                           {r['peak_rss_mb']:8.0f} MB",
        f"  429s from the platform             {p['rejected']:8,}   (retries {f['retried']}, parked {f['parked']}, skipped {f['skipped']}, "
        f"duplicates {p['duplicates']})",
        f"  DB time: claim {f['claim']['wall']:.1f} s in {f['claim']['calls']} calls (longest {f['claim']['longest']:.2f} s), "
        f"finish {f['finish']['wall']:.1f} s in {f['finish']['calls']} calls, next_wake {f['next_wake']['wall']:.1f} s",
        f"  fake platform CPU {p['cpu_seconds']:.1f} s; outbox afterwards {r['outbox']}",
        "  goals: " + ", ".join(f"{name} {'MET' if ok else 'NOT MET'}" for name, ok in goals),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from bench import DEFAULT_CIRCLES, DEFAULT_DB

    parser = argparse.ArgumentParser(prog="python -m bench.fanout", description=__doc__.split("\n\n")[0])
    parser.add_argument("--circles", type=int, default=DEFAULT_CIRCLES, help=f"circles to seed (default {DEFAULT_CIRCLES:,})")
    parser.add_argument("--rate", type=float, default=DEFAULT_RATE, help=f"the platform's rate limit and the pacer's, per second (default {DEFAULT_RATE:g})")
    parser.add_argument("--channel-gap", type=float, default=0.0, help="the pacer's per-channel gap in seconds (default 0)")
    parser.add_argument("--db", default=DEFAULT_DB, help=f"database URL (default {DEFAULT_DB})")
    parser.add_argument("--no-seed", action="store_true", help="use the database as it is (it must be freshly seeded)")
    parser.add_argument("--json", help="also write every figure to this file")
    args = parser.parse_args(argv)
    results = run(args)
    print(report(results))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
