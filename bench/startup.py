"""Start-up and memory with many circles, without a fan-out: the 100,000-circle goal.

    .venv/bin/python -m bench.startup [--circles 100000] [--week 1] [--db URL] [--no-seed]

Seeds ``--circles`` circles (:mod:`bench.seed`), then, in a fresh process,
does what :func:`bench.run.start_up` does (imports, migrations, kits, the live
scheduler's first steps) and loads the first due page of circles as a tick
would, and prints the seconds and the RSS. Goals: start-up <= 5 s, RSS <= 300 MB.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

from bench import DEFAULT_DB

STARTUP_GOAL_S, RSS_GOAL_MB = 5.0, 300.0


def measure(url: str) -> dict:
    """In this (fresh) process: start up, then load one page of due circles."""
    from bench.run import peak_rss_mb, rss_mb, start_up

    parts = start_up(url, "http://127.0.0.1:9", rate=500.0, concurrency=8)  # the sender is built, never used
    result = dict(parts["result"])
    store, clock = parts["store"], parts["clock"]
    began = time.perf_counter()
    with store.transaction(background=True) as tx:
        loaded = len(tx.load_many(store.due_circle_ids(clock.now(), 50)))
    result.update(page_seconds=time.perf_counter() - began, page=loaded, rss_after_page_mb=rss_mb(),
                  peak_rss_mb=peak_rss_mb())
    if result["tick_process"]:
        parts["ticker"].close()
    parts["engine"].dispose()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.startup", description=__doc__.split("\n\n")[0])
    parser.add_argument("--circles", type=int, default=100_000)
    parser.add_argument("--week", type=int, default=1, help="the seeded circles' week (default 1: a small outbox)")
    parser.add_argument("--db", default=DEFAULT_DB.replace("circlebot-bench", "circlebot-startup"))
    parser.add_argument("--no-seed", action="store_true")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)  # the fresh child process
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(args.db), default=str))
        return 0
    if not args.no_seed:
        subprocess.run([sys.executable, "-m", "bench.seed", "--circles", str(args.circles), "--week", str(args.week),
                        "--db", args.db], check=True)
    child = subprocess.run([sys.executable, "-m", "bench.startup", "--measure", "--db", args.db],
                           check=True, capture_output=True, text=True)
    r = json.loads(child.stdout.strip().splitlines()[-1])
    ok = r["seconds"] <= STARTUP_GOAL_S and r["peak_rss_mb"] + r["tick_process_rss_mb"] <= RSS_GOAL_MB
    circles = "the database's" if args.no_seed else f"{args.circles:,}"
    ticking = f", and {r['tick_process_rss_mb']:.0f} MB for the ticking process" if r["tick_process"] else ""
    print(f"{circles} circles: start-up {r['seconds']:.2f} s (imports {r['import_seconds']:.2f} s), "
          f"RSS {r['rss_mb']:.0f} MB; a first page of {r['page']} due circles loaded in {r['page_seconds']:.2f} s, "
          f"RSS then {r['rss_after_page_mb']:.0f} MB, peak {r['peak_rss_mb']:.0f} MB{ticking}: "
          f"{'MET' if ok else 'NOT MET'} (goals: start-up <= {STARTUP_GOAL_S:g} s, RSS <= {RSS_GOAL_MB:g} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
