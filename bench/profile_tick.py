"""Profile one tick of many circles: where ``tick_due`` spends its time.

    .venv/bin/python -m bench.profile_tick [--circles 3000] [--db URL] [--top 25] [--no-profile]

Seeds ``--circles`` mature circles (:mod:`bench.seed`), then ticks them all at
the due moment with ``Ticker.tick_due``, once under cProfile (unless
``--no-profile``), and prints ms per circle, the collector's passes and the
functions that took the most time. The database is seeded again before each
measured tick, since a tick uses the week up.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from bench import DUE
from bench.seed import seed
from scheduler.live import settle_collector

DEFAULT_PROFILE_DB = f"sqlite:///{Path(tempfile.gettempdir()) / 'circlebot-profile.db'}"


def tick_all(url: str, profile: cProfile.Profile | None) -> dict:
    from circlebot.wiring import wire
    from kits import builtin_kits
    from storage.database import make_engine

    engine = make_engine(url)
    ticker = wire(engine, builtin_kits(), timedelta(hours=6)).ticker
    collections = sum(s["collections"] for s in gc.get_stats())
    began, cpu = time.perf_counter(), time.process_time()
    if profile:
        profile.enable()
    ticked = ticker.tick_due(DUE)
    if profile:
        profile.disable()
    took, cpu = time.perf_counter() - began, time.process_time() - cpu
    engine.dispose()
    return dict(ticked=ticked, seconds=took, cpu=cpu, gc=sum(s["collections"] for s in gc.get_stats()) - collections)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_tick", description=__doc__.split("\n\n")[0])
    parser.add_argument("--circles", type=int, default=3000)
    parser.add_argument("--week", type=int, default=8)
    parser.add_argument("--db", default=DEFAULT_PROFILE_DB)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--no-profile", action="store_true", help="time the tick only")
    parser.add_argument("--gc", choices=("on", "freeze", "tuned", "off"), default="on",
                        help="the cyclic collector: as it is, frozen after seeding, settled as the live scheduler does, or off")
    args = parser.parse_args(argv)
    seed(args.db, args.circles, args.week)
    if args.gc == "freeze":
        gc.freeze()
    elif args.gc == "tuned":
        settle_collector()
    elif args.gc == "off":
        gc.disable()
    profile = None if args.no_profile else cProfile.Profile()
    result = tick_all(args.db, profile)
    print(f"ticked {result['ticked']:,} circles in {result['seconds']:.2f} s: "
          f"{1000 * result['seconds'] / max(result['ticked'], 1):.2f} ms a circle, "
          f"CPU {1000 * result['cpu'] / max(result['ticked'], 1):.2f} ms"
          f"{' (under cProfile)' if profile else ''}; {result['gc']} collector passes")
    if profile:
        stats = pstats.Stats(profile).strip_dirs().sort_stats("tottime")
        stats.print_stats(args.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
