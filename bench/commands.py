"""How long each command takes with N circles in one workspace: p50 and p99, per command.

    .venv/bin/python -m bench.commands [--circles 35000] [--samples 200] [--db URL] [--no-seed] [--json out.json]

1. Seeds the database (:mod:`bench.seed`): N mature circles of 5 people, seven
   weeks lived (check-ins, attendance, digests and their history in the
   outbox), and a few forming circles to join.
2. Ticks the circles the samples use past week 8's meeting (its check-in open,
   attendance can be marked), so members' commands do real work rather than
   being refused. Those steps are long past, so they are recorded as skipped.
3. Times ``CircleService.run`` for every command a person types, each sample in
   a different circle and as a different person, in a random order of commands;
   then reports p50, p99 and the slowest, and how many samples were refused.
4. Baseline, in the same run: reading every circle of the workspace once, which
   ``list``, ``stats``, ``export`` and ``forget-me`` used to do. Each command's
   p99 is reported as a share of it.

Goal: every command within 100 ms at p99 with 35,000 circles.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import math
import os
import random
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from sqlmodel import col, select

from bench import DEFAULT_CIRCLES, DEFAULT_DB
from bench.seed import GRACE, PLATFORM, WORKSPACE, ZONE, forming_count, handle, person, seed
from bot.circle import Actor, UserRef
from bot.effects import Reply
from bot.i18n import render
from bot.inputs import Request, Typed
from circlebot.service import CommandService
from circlebot.ticker import Ticker
from kits import builtin_kits
from storage.codec import load_circle
from storage.database import make_engine
from storage.models import CircleRow
from storage.repository import Store

#: When the commands are typed: the day after week 8's meeting (Tue 8 Dec), its check-in open.
NOW = datetime(2026, 12, 9, 9, 0, tzinfo=UTC)
#: Everyone's zone is known, so no command adds the one-time question about it.
ADMIN = Actor(UserRef(PLATFORM, WORKSPACE, "bench-admin"), "Admin", ZONE, is_admin=True)


def member(circle: int, number: int = 1) -> Actor:
    return replace(person(circle, number), tz=ZONE)


def stranger(sample: int) -> Actor:
    return Actor(UserRef(PLATFORM, WORKSPACE, f"newcomer-{sample}"), f"Newcomer {sample}", ZONE)


@dataclass(frozen=True)
class Command:
    """One command to time: its text and who types it, given a circle of its own and a sample number."""

    name: str
    typed: Callable[[int, int], tuple[Actor, str]]


COMMANDS = (
    Command("info", lambda circle, n: (member(circle), "info")),
    Command("info #other", lambda circle, n: (member(circle), f"info #{handle((circle + 1) % 1000)}")),
    Command("next", lambda circle, n: (member(circle), "next")),
    Command("checkin", lambda circle, n: (member(circle), "checkin I hope to grow | To learn | Call my sister")),
    Command("commit", lambda circle, n: (member(circle), "commit Finish the draft by Monday")),
    Command("journal", lambda circle, n: (member(circle), "journal")),
    Command("rsvp", lambda circle, n: (member(circle), "rsvp no")),
    Command("attended", lambda circle, n: (member(circle, 0), "attended")),
    Command("struggling", lambda circle, n: (member(circle), "struggling a hard week")),
    Command("away", lambda circle, n: (member(circle), "away 2027-01-10")),
    Command("share", lambda circle, n: (member(circle), "share A story about asking for help")),
    Command("progress", lambda circle, n: (member(circle), "progress")),
    Command("support open", lambda circle, n: (member(circle), "support open")),
    Command("join", lambda circle, n: (stranger(n), f"join #{handle(circle)}")),
    Command("leave", lambda circle, n: (member(circle), "leave")),
    Command("remove", lambda circle, n: (member(circle, 0), f"remove u{circle}-2")),
    Command("new", lambda circle, n: (stranger(n), f'new "Bench {n}" career Europe/London tue 17:00')),
    Command("list", lambda circle, n: (member(circle), "list")),
    Command("stats", lambda circle, n: (ADMIN, "stats")),
    Command("export", lambda circle, n: (member(circle), "export")),
    Command("forget-me", lambda circle, n: (member(circle), "forget-me")),
    Command("forget-me confirm", lambda circle, n: (member(circle, 3), "forget-me confirm")),
)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def refused(responses) -> bool:
    """An error reply (some commands, such as ``remove``, answer the person with nothing at all)."""
    return any(isinstance(r, Reply) and r.message.title and render(r.message.title) == "Sorry" for r in responses)


def read_whole_workspace(store: Store) -> float:
    """Seconds to decode every circle of the workspace: what list, stats, export and forget-me used to do."""
    started = time.perf_counter()
    with store.transaction() as tx:
        rows = tx.session.exec(select(CircleRow.data).where(CircleRow.platform == PLATFORM, CircleRow.workspace == WORKSPACE))
        for data in rows:
            load_circle(data)
    return time.perf_counter() - started


def measure(url: str, circles: int, samples: int, rng: random.Random) -> dict:
    engine = make_engine(url)
    store = Store(engine)
    commands, kits = CommandService(store, builtin_kits()), builtin_kits()
    requests, run_id = itertools.count(), uuid.uuid4().hex[:8]  # a database seeded earlier has seen earlier runs' ids

    def run(actor: Actor, text: str) -> list:
        return commands.handle(Request(actor, Typed(text), f"bench-commands-{run_id}-{next(requests)}"), NOW)

    running = [command for command in COMMANDS if command.name != "join"]
    chosen = rng.sample(range(circles), samples * len(running))
    pools = {command.name: chosen[i * samples:(i + 1) * samples] for i, command in enumerate(running)}
    pools["join"] = rng.sample(range(circles, circles + forming_count(circles)), samples)
    started = time.perf_counter()
    with store.transaction() as tx:
        ids = list(tx.session.exec(select(CircleRow.id).where(col(CircleRow.handle).in_([handle(n) for n in chosen]))))
    ticker = Ticker(store, kits, GRACE)
    for page in range(0, len(ids), 200):
        ticker.tick_many(ids[page:page + 200], NOW)
    ticked = time.perf_counter() - started
    for warm in range(3):  # imports, statement caches, connection pool
        run(member(chosen[warm]), "/circle info")
    timings: dict[str, list[float]] = {command.name: [] for command in COMMANDS}
    cpu: dict[str, list[float]] = {command.name: [] for command in COMMANDS}  # what the machine's load skews less
    refusals = {command.name: 0 for command in COMMANDS}
    order = [(command, n) for command in COMMANDS for n in range(samples)]
    rng.shuffle(order)
    for command, n in order:
        actor, text = command.typed(pools[command.name][n], n)
        began, cpu_began = time.perf_counter(), time.thread_time()
        responses = run(actor, f"/circle {text}")
        timings[command.name].append(time.perf_counter() - began)
        cpu[command.name].append(time.thread_time() - cpu_began)
        refusals[command.name] += refused(responses)
    baseline = [read_whole_workspace(store) for _ in range(3)]
    engine.dispose()
    return dict(
        ticked_seconds=ticked,
        baseline_seconds=statistics.median(baseline),
        commands={
            name: dict(p50=statistics.median(values), p99=percentile(values, 0.99), max=max(values), refused=refusals[name],
                       cpu_p50=statistics.median(cpu[name]), cpu_p99=percentile(cpu[name], 0.99))
            for name, values in timings.items()
        },
    )


def report(result: dict, args) -> str:
    baseline = result["baseline_seconds"]
    lines = [
        f"{args.circles:,} circles in one workspace, {args.samples} samples per command; load {os.getloadavg()[0]:.2f}",
        f"baseline (decode every circle of the workspace): {baseline * 1000:,.0f} ms",
        "",
        "| command | p50 | p99 | slowest | CPU p50 / p99 | p99 / baseline | refused |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, figures in result["commands"].items():
        lines.append(
            f"| `{name}` | {figures['p50'] * 1000:.1f} ms | {figures['p99'] * 1000:.1f} ms | {figures['max'] * 1000:.1f} ms "
            f"| {figures['cpu_p50'] * 1000:.1f} / {figures['cpu_p99'] * 1000:.1f} ms "
            f"| {figures['p99'] / baseline:.4f} | {figures['refused']} |"
        )
    slowest = max(result["commands"].items(), key=lambda item: item[1]["p99"])
    goal = "met" if slowest[1]["p99"] <= 0.1 else "NOT met"
    lines.append(f"\nslowest p99: `{slowest[0]}` {slowest[1]['p99'] * 1000:.1f} ms; goal (p99 <= 100 ms) {goal}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.commands", description=__doc__.split("\n\n")[0])
    parser.add_argument("--circles", type=int, default=DEFAULT_CIRCLES, help=f"how many circles (default {DEFAULT_CIRCLES:,})")
    parser.add_argument("--samples", type=int, default=200, help="samples per command (default 200)")
    parser.add_argument("--db", default=DEFAULT_DB, help=f"database URL (default {DEFAULT_DB})")
    parser.add_argument("--no-seed", action="store_true", help="use the database as it is (seeded by an earlier run)")
    parser.add_argument("--seed", type=int, default=8, help="random seed for the choice of circles (default 8)")
    parser.add_argument("--json", help="also write every figure to this file")
    args = parser.parse_args(argv)
    if args.samples * len(COMMANDS) > args.circles or args.samples > forming_count(args.circles):
        parser.error(f"--samples {args.samples} needs more circles (each sample uses its own)")
    logging.basicConfig(level=logging.WARNING)
    # The set-up ticks steps days late on purpose (they are recorded as skipped); that is not news.
    logging.getLogger("circlebot.ticker").setLevel(logging.ERROR)
    if not args.no_seed:
        seeded = seed(args.db, args.circles)
        print(f"seeded {seeded['circles']:,} circles in {seeded['seconds']:.1f} s")
    result = measure(args.db, args.circles, args.samples, random.Random(args.seed))
    print(f"ticked the {args.samples * (len(COMMANDS) - 1):,} running circles used past week 8's meeting in {result['ticked_seconds']:.1f} s")
    print(report(result, args))
    if args.json:
        with open(args.json, "w") as file:
            json.dump(result, file, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
