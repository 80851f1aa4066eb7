"""Every benchmark in one command, with a summary of the goals: ``python -m bench [--quick]``.

    .venv/bin/python -m bench                      # the whole set (about 30 minutes on a quiet 2-core machine)
    .venv/bin/python -m bench --quick              # a short version (3,000 circles, fewer requests: a few minutes)
    .venv/bin/python -m bench --db postgres        # commands, start-up and fan-out on PostgreSQL (repeat --db for both)
    .venv/bin/python -m bench --only fanout --only commands --json out.json
    .venv/bin/python -m bench --only directory --db sqlite --db postgres

Each part runs in processes of its own (as the modules do alone), in this order:

1. **commands**: every ``/circle`` command's latency with N circles in one
   workspace (:mod:`bench.commands`); goal: every p99 <= 100 ms.
2. **start-up**: a fresh process's start-up and RSS on that same database
   (:mod:`bench.startup`); goals: <= 5 s, <= 300 MB (the ticking process's RSS too).
3. **fan-out**: N mature circles' weekly posts due at once, at 500 messages a
   second (:mod:`bench.fanout`); goals: whole fan-out <= 1.05 x its floor, and
   the commands typed meanwhile <= 100 ms at p99.
4. **directory**: ``/circle list`` with each filter and deep pages, N open
   circles in one workspace (:mod:`bench.directory`); goal: every p99 <= 100 ms.
5. **acknowledgement**: ``/circle info`` through Slack's HTTP path
   (:mod:`bench.slack_http`) and Discord's interactions
   (:mod:`bench.discord_interactions`), 50 at once, against a bare framework
   app in the same run; goal: p99 ratio <= 1.2.

It ends with a table of every goal, MET or NOT MET, and the machine's load.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import DEFAULT_CIRCLES
from bench.fanout import COMMAND_P99_GOAL_MS, DATABASES, RATIO_GOAL_500, code_version, tick_process_flags
from bench.startup import RSS_GOAL_MB, STARTUP_GOAL_S

ROOT = Path(__file__).resolve().parent.parent
PARTS = ("commands", "startup", "fanout", "directory", "slack", "discord")
ACK_RATIO_GOAL = 1.2
#: (circles, command samples, fan-out runs, chat requests, chat rounds): the whole set, and --quick.
SIZES = {False: (DEFAULT_CIRCLES, 200, 3, 1000, 3), True: (3000, 20, 1, 300, 1)}


def load() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def run_module(module: str, *args: str, capture: bool = False) -> str:
    """``python -m module args`` from the repository root; its output is shown (or returned, with ``capture``)."""
    print(f"$ python -m {module} {' '.join(args)}   (load average {load()})", flush=True)
    done = subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, check=True, text=True,
                          stdout=subprocess.PIPE if capture else None)
    return done.stdout if capture else ""


def with_json(module: str, *args: str) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        run_module(module, *args, "--json", out.name)
        return json.loads(Path(out.name).read_text())


def verdict(ok: bool) -> str:
    return "MET" if ok else "NOT MET"


def commands_and_startup(url: str, label: str, circles: int, samples: int, parts: set[str], rows: list) -> None:
    """Seed ``url`` once; time every command on it, then a fresh process's start-up on it."""
    if "commands" in parts:
        result = with_json("bench.commands", "--db", url, "--circles", str(circles), "--samples", str(samples))
        slowest, figures = max(result["commands"].items(), key=lambda item: item[1]["p99"])
        rows.append((f"every command p99 <= {COMMAND_P99_GOAL_MS:g} ms, {circles:,} circles ({label})",
                     f"slowest `{slowest}` {1000 * figures['p99']:.1f} ms (list {1000 * result['commands']['list']['p99']:.1f}, "
                     f"stats {1000 * result['commands']['stats']['p99']:.1f})", verdict(figures["p99"] <= COMMAND_P99_GOAL_MS / 1000)))
    if "startup" in parts:
        if "commands" not in parts:
            run_module("bench.seed", "--circles", str(circles), "--db", url)
        out = run_module("bench.startup", "--measure", "--db", url, capture=True)
        r = json.loads(out.strip().splitlines()[-1])
        rss = r["peak_rss_mb"] + r["tick_process_rss_mb"]
        rows.append((f"start-up <= {STARTUP_GOAL_S:g} s, RSS <= {RSS_GOAL_MB:g} MB, {circles:,} circles ({label})",
                     f"{r['seconds']:.2f} s, {r['peak_rss_mb']:.0f} MB"
                     + (f" + {r['tick_process_rss_mb']:.0f} MB ticking process" if r["tick_process"] else ""),
                     verdict(r["seconds"] <= STARTUP_GOAL_S and rss <= RSS_GOAL_MB)))


def fanout(url: str, label: str, circles: int, runs: int, tick_process: bool | None, rows: list) -> None:
    result = with_json("bench.fanout", "--db", url, "--circles", str(circles), "--runs", str(runs), "--rate", "500",
                       *tick_process_flags(tick_process))
    (combination,) = result["results"]
    ratios = sorted(r["figures"]["ratio"] for r in combination["runs"])
    median = ratios[len(ratios) // 2]
    rows.append((f"whole fan-out <= {RATIO_GOAL_500:g} x floor, 500/s, {circles:,} circles ({label})",
                 f"{median:.2f} (runs: {', '.join(f'{x:.2f}' for x in ratios)})", verdict(median <= RATIO_GOAL_500)))
    worst = {}
    for run in combination["runs"]:
        for kind, c in run["figures"]["commands"].items():
            if kind != "waiting for a thread" and c["p99_ms"] is not None:
                worst[kind] = max(worst.get(kind, 0.0), c["p99_ms"])
    if worst:
        kind = max(worst, key=worst.get)
        rows.append((f"command p99 <= {COMMAND_P99_GOAL_MS:g} ms during the fan-out ({label})",
                     f"worst `{kind}` {worst[kind]:.0f} ms ({', '.join(f'{k} {v:.0f}' for k, v in worst.items())})",
                     verdict(worst[kind] <= COMMAND_P99_GOAL_MS)))


def directory(db: str, label: str, circles: int, samples: int, rows: list) -> None:
    result = with_json("bench.directory", "--db", db, "--circles", str(circles), "--samples", str(samples))["searches"]
    slowest, figures = max(result.items(), key=lambda item: item[1]["p99"])
    rows.append((f"every `list` search p99 <= {COMMAND_P99_GOAL_MS:g} ms, {circles:,} open circles ({label})",
                 f"slowest {slowest} {1000 * figures['p99']:.1f} ms (plain list {1000 * result['list']['p99']:.1f})",
                 verdict(figures["p99"] <= COMMAND_P99_GOAL_MS / 1000)))


def acknowledgement(module: str, label: str, requests: int, rounds: int, rows: list) -> None:
    result = with_json(module, "--requests", str(requests), "--rounds", str(rounds), "--concurrency", "50")
    ratios = ", ".join(f"{r['p99_ratio']:.2f}" for r in result["rounds"])
    p50 = [f"{r['circlebot']['p50_ms']:.0f}/{r['bare']['p50_ms']:.0f}" for r in result["rounds"]]
    rows.append((f"{label} acknowledgement p99 <= {ACK_RATIO_GOAL:g} x bare, 50 at once",
                 f"p99 ratio {result['p99_ratio']:.2f} (rounds {ratios}), p50 ratio {result['p50_ratio']:.2f} "
                 f"(ms ours/bare {', '.join(p50)})", verdict(result["p99_ratio"] <= ACK_RATIO_GOAL)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short version: 3,000 circles, one run, fewer requests")
    parser.add_argument("--db", action="append", choices=sorted(DATABASES),
                        help="the database of the commands, start-up and fan-out parts (default sqlite; repeat for both)")
    parser.add_argument("--only", action="append", choices=PARTS, help="run only this part (repeat for more)")
    parser.add_argument("--circles", type=int, help="override the number of circles")
    parser.add_argument("--tick-process", action=argparse.BooleanOptionalAction, default=None,
                        help="the fan-out ticks in a process of its own or not (default: as `circlebot run` decides)")
    parser.add_argument("--json", help="also write the summary to this file")
    args = parser.parse_args(argv)
    circles, samples, runs, requests, rounds = SIZES[args.quick]
    circles = args.circles or circles
    parts = set(args.only or PARTS)
    began = time.perf_counter()
    print(f"Circlebot benchmarks{' (quick)' if args.quick else ''}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
          f"code {code_version()}, {os.cpu_count()} CPUs, load average {load()}", flush=True)
    rows: list[tuple[str, str, str]] = []
    loads = [os.getloadavg()[0]]
    for db in args.db or ["sqlite"]:
        label = "SQLite" if db == "sqlite" else "PostgreSQL"
        if parts & {"commands", "startup"}:
            url = DATABASES[db].replace("circlebot-bench", "circlebot-commands").replace("circlebot_bench", "circlebot_commands")
            commands_and_startup(url, label, circles, samples, parts, rows)
            loads.append(os.getloadavg()[0])
        if "fanout" in parts:
            fanout(DATABASES[db], label, circles, runs, args.tick_process, rows)
            loads.append(os.getloadavg()[0])
        if "directory" in parts:
            directory(db, label, circles, samples, rows)
            loads.append(os.getloadavg()[0])
    if "slack" in parts:
        acknowledgement("bench.slack_http", "Slack HTTP", requests, rounds, rows)
        loads.append(os.getloadavg()[0])
    if "discord" in parts:
        acknowledgement("bench.discord_interactions", "Discord interactions", requests, rounds, rows)
        loads.append(os.getloadavg()[0])
    width = max(len(goal) for goal, _, _ in rows) if rows else 0
    print(f"\nSummary ({(time.perf_counter() - began) / 60:.0f} min; load average {min(loads):.1f}-{max(loads):.1f} "
          f"on {os.cpu_count()} CPUs, code {code_version()}):")
    for goal, measured, ok in rows:
        print(f"  {ok:<8} {goal:<{width}}  {measured}")
    if args.json:
        Path(args.json).write_text(json.dumps(dict(code=code_version(), quick=args.quick, loads=loads,
                                                   goals=[dict(goal=g, measured=m, verdict=v) for g, m, v in rows]), indent=1))
    return 0 if all(ok == "MET" for _, _, ok in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
