"""How long matching a pool of sign-ups into circles takes (bot/matching.py).

    .venv/bin/python -m bench.matching [--signups 10000] [--runs 3] [--seed 7]

The pool is made up, reproducibly from ``--seed``: people in eight time zones
from Los Angeles to Tokyo, two or three evening windows each in their own zone,
two kits, three languages, one in five volunteering to moderate, one in three
preferring people they know, and a history in which everyone already met four
others of the pool. Reports each run's seconds, the median, how many circles
were formed and how many people stay in the pool (by reason), and the load
average. Goal: 10,000 sign-ups in under 5 s.

``--store N`` also times ``/circle match`` through the command service on a
fresh SQLite file holding N of those sign-ups: the algorithm, and storing every
new circle with its members, its space, its posts and DMs, in one transaction.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import random
import statistics
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from bot.circle import Actor, UserRef
from bot.inputs import Request, Typed
from bot.matching import Signup, Window, match, met_from

ZONES = ("America/Los_Angeles", "America/New_York", "America/Sao_Paulo", "Europe/London", "Europe/Berlin",
         "Asia/Kolkata", "Asia/Singapore", "Asia/Tokyo")
NOW = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)


def pool(size: int, seed: int) -> tuple[list[Signup], dict[str, frozenset[str]]]:
    """``size`` made-up sign-ups and who met whom before."""
    rnd = random.Random(seed)
    people = []
    for n in range(size):
        windows = {
            Window(day, start * 60, (start + rnd.choice((2, 3))) * 60)
            for day, start in ((rnd.randrange(7), rnd.randrange(17, 21)) for _ in range(rnd.choice((2, 3))))
        }
        people.append(Signup(
            UserRef("slack", "T1", f"U{n}"), f"person {n}", rnd.choice(("career", "starter")), rnd.choice(ZONES),
            tuple(sorted(windows, key=lambda w: (w.weekday, w.start))), rnd.choice(("en", "en", "es", "de")),
            rnd.random() > 1 / 3, rnd.random() < 0.2, NOW - timedelta(minutes=rnd.randrange(100_000)),
        ))
    keys = [p.user.key for p in people]
    circles = [rnd.sample(keys, 5) for _ in range(size // 5)]
    return people, met_from(circles)


def through_storage(size: int, seed: int) -> None:
    """``/circle match`` as a workspace admin types it, over ``size`` sign-ups stored in a fresh SQLite file."""
    from sqlmodel import Session

    from circlebot.wiring import wire
    from kits import builtin_kits
    from storage.database import make_engine, upgrade
    from storage.models import SignupRow

    people, _ = pool(size, seed)
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{folder}/match.db")
        upgrade(engine)
        app = wire(engine, builtin_kits(), timedelta(hours=6))
        with Session(engine) as session, session.begin():
            session.add_all(SignupRow(
                user_key=p.user.key, platform=p.user.platform, workspace=p.user.workspace, user_id=p.user.id,
                name=p.name, kit=p.kit, tz=p.tz, hours=", ".join(map(str, p.hours)), language=p.language,
                strangers=p.strangers, moderate=p.moderate, signed_up_at=p.at,
            ) for p in people)
        admin = Actor(UserRef("slack", "T1", "UADMIN"), "admin", "UTC", is_admin=True)
        load = os.getloadavg()[0]
        started = time.perf_counter()
        app.commands.handle(Request(admin, Typed("/circle match"), "bench-match"), NOW)
        print(f"/circle match through storage, {size} sign-ups: {time.perf_counter() - started:.1f} s "
              f"(load average {load:.2f} before, {os.getloadavg()[0]:.2f} after)")
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--signups", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--store", type=int, default=0, help="also time /circle match through storage with N sign-ups")
    options = parser.parse_args()
    people, met = pool(options.signups, options.seed)
    print(f"{options.signups} sign-ups, {os.cpu_count()} CPUs, load average before: {os.getloadavg()[0]:.2f}")
    times, result = [], None
    for run in range(options.runs):
        started = time.perf_counter()
        result = match(people, met, NOW + timedelta(seconds=run))  # a new moment: nothing cached from the last run
        times.append(time.perf_counter() - started)
        print(f"run {run + 1}: {times[-1]:.2f} s")
    assert result is not None
    placed = sum(len(g.members) for g in result.groups)
    sizes = Counter(len(g.members) for g in result.groups)
    reasons = Counter(u.reason.value for u in result.unplaced)
    print(f"median {statistics.median(times):.2f} s (range {min(times):.2f}-{max(times):.2f}); "
          f"load average after: {os.getloadavg()[0]:.2f}")
    print(f"{len(result.groups)} circles ({dict(sorted(sizes.items()))}), {placed} placed, "
          f"{len(result.unplaced)} stay in the pool: {dict(sorted(reasons.items()))}")
    if options.store:
        through_storage(options.store, options.seed)


if __name__ == "__main__":
    main()
