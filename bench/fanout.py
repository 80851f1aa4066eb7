"""The synchronized fan-out benchmark: N mature circles' weekly posts due at one moment.

    .venv/bin/python -m bench.fanout [--circles 35000] [--rate 500 --rate 1000] [--db sqlite --db postgres]
                                     [--latency 0 --latency 0.1,0.2] [--runs 3] [--commands 5]

For each combination of database, rate and platform latency, and ``--runs``
times each:

1. seeds the database (:mod:`bench.seed`: circles at week ``--week``, with their
   history; a SQLite file is seeded once and copied for each run);
2. runs :mod:`bench.run` in a fresh process: start-up from a bare interpreter,
   then the fan-out, with people typing commands meanwhile.

The verdict is the **whole fan-out** (first tick to the last message the
platform created) over its **floor**: the least time the platform's rate limit
allows for the messages it received, after its burst allowance. Each
combination reports the median and range of its runs, the command latencies
during the fan-out, and the machine's load.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from bench import DEFAULT_CIRCLES, DEFAULT_DB, DEFAULT_PG, schema_of
from storage.database import normalise_url

ROOT = Path(__file__).resolve().parent.parent
#: The goals: whole fan-out / floor at up to 500 messages a second, and above; command p99 during it.
RATIO_GOAL_500, RATIO_GOAL_1000, COMMAND_P99_GOAL_MS = 1.05, 1.1, 100.0
DATABASES = {"sqlite": DEFAULT_DB, "postgres": DEFAULT_PG}


def ratio_goal(rate: float) -> float:
    return RATIO_GOAL_500 if rate <= 500 else RATIO_GOAL_1000


def code_version() -> str:
    """The commit measured, with ``-dirty`` when the work tree had changes."""
    try:
        return subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


class Seeder:
    """A freshly seeded database for each run, seeded once: a SQLite file is copied, and a PostgreSQL
    database is made from a template (seeding 35,000 mature circles there takes minutes; a copy, seconds).

    For PostgreSQL the URL names a schema of the benchmark's own in ``search_path``; the runs use two
    databases beside the URL's own, named after that schema: ``<schema>_pristine``, seeded once, and
    ``<schema>_run``, made from it before each run. A server that does not let this user create
    databases is seeded again for each run, in the URL's own database.
    """

    def __init__(self, circles: int, week: int):
        self.circles, self.week = circles, week
        self.files: dict[str, Path] = {}  # SQLite URL -> its pristine copy
        self.databases: dict[str, tuple[str, str]] = {}  # PostgreSQL URL -> its pristine and run databases
        self.seconds = 0.0

    def _seed(self, url: str) -> None:
        subprocess.run([sys.executable, "-m", "bench.seed", "--circles", str(self.circles), "--week", str(self.week),
                        "--db", url], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)

    def fresh(self, url: str) -> str:
        """Make a freshly seeded database for one run (``seconds``: how long that took); returns the URL to run against."""
        began = time.perf_counter()
        try:
            return self._fresh_file(url) if url.startswith("sqlite:///") else self._fresh_database(url)
        finally:
            self.seconds = time.perf_counter() - began

    def _fresh_file(self, url: str) -> str:
        path = Path(url[len("sqlite:///"):])
        if url not in self.files:
            self._seed(url)
            self.files[url] = path.with_suffix(".pristine")
            shutil.copyfile(path, self.files[url])
        for suffix in ("-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(self.files[url], path)
        return url

    def _fresh_database(self, url: str) -> str:
        schema = schema_of(url)
        if schema is None:
            raise SystemExit("name a schema of the benchmark's own in the URL: ...?options=-csearch_path%3D<schema>")
        pristine, run = f"{schema}_pristine", f"{schema}_run"
        try:
            if url not in self.databases:
                self._admin(url, f'DROP DATABASE IF EXISTS "{pristine}" WITH (FORCE)', f'CREATE DATABASE "{pristine}"')
                self.databases[url] = (pristine, run)
                self._seed(on_database(url, pristine))
            # FILE_COPY copies the files at a checkpoint; the default (WAL_LOG) writes every block to the WAL.
            self._admin(url, f'DROP DATABASE IF EXISTS "{run}" WITH (FORCE)',
                        f'CREATE DATABASE "{run}" TEMPLATE "{pristine}" STRATEGY FILE_COPY')
        except DBAPIError as error:
            print(f"  (cannot make databases on this server: {error.orig.__class__.__name__}; seeding the URL's own)",
                  flush=True)
            self.databases.pop(url, None)
            self._seed(url)
            return url
        return on_database(url, run)

    @staticmethod
    def _admin(url: str, *statements: str) -> None:
        engine = create_engine(normalise_url(url), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                for statement in statements:
                    connection.execute(text(statement))
        finally:
            engine.dispose()

    def clean_up(self) -> None:
        for path in self.files.values():
            path.unlink(missing_ok=True)
        for url, names in self.databases.items():
            self._admin(url, *(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)' for name in names))


def on_database(url: str, database: str) -> str:
    """``url`` with its database replaced, its options (the schema in ``search_path``) kept."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{database}"))


def tick_process_flags(setting: bool | None) -> list[str]:
    """``bench.run``'s flag for ``--tick-process``: none when unset, so it decides as `circlebot run` does."""
    return {True: ["--tick-process"], False: ["--no-tick-process"]}.get(setting, [])


def one_run(url: str, rate: float, latency: str, args) -> dict:
    """One run of :mod:`bench.run` in a fresh process; its figures, with the load around it."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        load_before = os.getloadavg()
        subprocess.run([sys.executable, "-m", "bench.run", "--db", url, "--circles", str(args.circles),
                        "--rate", str(rate), "--latency", latency, "--commands", str(args.commands),
                        "--concurrency", str(args.concurrency), "--json", out.name,
                        *tick_process_flags(args.tick_process)],
                       check=True, cwd=ROOT)
        result = json.loads(Path(out.name).read_text())
    result["load_before"], result["load_after"] = load_before, os.getloadavg()
    result["figures"] = figures(result)
    return result


def figures(r: dict) -> dict:
    """The run's headline figures, from what the platform received."""
    f, p, s = r["fanout"], r["platform"], r["startup"]
    messages = p["created"]
    floor = max(0.0, messages - p["burst"]) / r["rate"]
    whole = (p["last_at"] - f["began"]) if p["last_at"] else float("nan")
    return dict(
        messages=messages, floor_s=floor, whole_s=whole, ratio=whole / floor if floor else float("nan"),
        ticking_s=f["tick"]["wall"], ticked=f["ticked"], ticking_only_s=f["ticking_only"],
        cpu_ms_per_message=1000 * f["cpu"] / messages if messages else float("nan"),
        startup_s=s["seconds"], startup_rss_mb=s["rss_mb"], peak_rss_mb=r["peak_rss_mb"],
        rejected=p["rejected"], duplicates=p["duplicates"], retried=f["retried"], parked=f["parked"],
        skipped=f["skipped"], gc_collections=f["gc_collections"],
        commands={kind: c for kind, c in f["commands"].items()},
    )


def run_line(r: dict) -> str:
    g = r["figures"]
    commands = ", ".join(f"{kind} p50 {c['p50_ms']} / p99 {c['p99_ms']} ms"
                         + (f" (CPU {c['cpu_p50_ms']} / {c['cpu_p99_ms']} ms)" if c.get("cpu_p50_ms") is not None else "")
                         + (f" ({c['errors']} errors)" if c["errors"] else "")
                         for kind, c in g["commands"].items() if c["count"])
    return (f"    whole fan-out {g['whole_s']:.1f} s / floor {g['floor_s']:.1f} s = {g['ratio']:.3f}; "
            f"{g['messages']:,} messages, ticking {g['ticking_s']:.1f} s ({1000 * g['ticking_s'] / max(g['ticked'], 1):.2f} ms/circle), "
            f"CPU {g['cpu_ms_per_message']:.2f} ms/message, 429s {g['rejected']}, retries {g['retried']}, "
            f"duplicates {g['duplicates']}; start-up {g['startup_s']:.2f} s, RSS {g['startup_rss_mb']:.0f} MB "
            f"(peak {g['peak_rss_mb']:.0f} MB); ticks in {'a process of their own' if r['startup']['tick_process'] else 'a thread'}; "
            f"load {r['load_before'][0]:.1f} -> {r['load_after'][0]:.1f}\n"
            f"    commands during it: {commands}")


def spread(values: list[float], digits: int = 3) -> str:
    """Median and range: ``1.02 (1.01-1.05)``."""
    if not values:
        return "-"
    fmt = f"{{:.{digits}f}}"
    median = fmt.format(statistics.median(values))
    return median if len(values) == 1 else f"{median} ({fmt.format(min(values))}-{fmt.format(max(values))})"


def summary(label: str, rate: float, runs: list[dict]) -> list[str]:
    ratios = [r["figures"]["ratio"] for r in runs]
    goal = ratio_goal(rate)
    ok = statistics.median(ratios) <= goal
    lines = [f"  {label}: whole fan-out / floor {spread(ratios)} over {len(runs)} run(s): "
             f"{'MET' if ok else 'NOT MET'} (goal <= {goal})"]
    lines.append(f"      fan-out {spread([r['figures']['whole_s'] for r in runs], 1)} s, floor "
                 f"{spread([r['figures']['floor_s'] for r in runs], 1)} s, CPU "
                 f"{spread([r['figures']['cpu_ms_per_message'] for r in runs], 2)} ms/message, start-up "
                 f"{spread([r['figures']['startup_s'] for r in runs], 2)} s, peak RSS "
                 f"{spread([r['figures']['peak_rss_mb'] for r in runs], 0)} MB")
    worst = 0.0
    parts = []
    for kind in runs[0]["figures"]["commands"]:
        p99 = [r["figures"]["commands"][kind]["p99_ms"] for r in runs if r["figures"]["commands"][kind]["p99_ms"] is not None]
        p50 = [r["figures"]["commands"][kind]["p50_ms"] for r in runs if r["figures"]["commands"][kind]["p50_ms"] is not None]
        if p99:
            worst = max(worst, statistics.median(p99))
            parts.append(f"{kind} p50 {spread(p50, 0)} ms, p99 {spread(p99, 0)} ms")
    if parts:
        lines.append(f"      commands during the fan-out: {'; '.join(parts)}: "
                     f"{'MET' if worst <= COMMAND_P99_GOAL_MS else 'NOT MET'} (goal p99 <= {COMMAND_P99_GOAL_MS:g} ms)")
    loads = [x for r in runs for x in (r["load_before"][0], r["load_after"][0])]
    lines.append(f"      load average {min(loads):.1f}-{max(loads):.1f} on {os.cpu_count()} CPUs")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fanout", description=__doc__.split("\n\n")[0])
    parser.add_argument("--circles", type=int, default=DEFAULT_CIRCLES, help=f"running circles to seed (default {DEFAULT_CIRCLES:,})")
    parser.add_argument("--week", type=int, default=8, help="the week whose exercise comes due (default 8: mature circles)")
    parser.add_argument("--rate", type=float, action="append", help="the platform's rate limit and the pacer's, per second (default 500; repeat for more)")
    parser.add_argument("--db", action="append", help="sqlite, postgres or a database URL (default sqlite; repeat for more)")
    parser.add_argument("--latency", action="append", help="the platform's answer latency: 0, or low,high seconds such as 0.1,0.2 (default 0; repeat for more)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each combination (default 3)")
    parser.add_argument("--commands", type=float, default=5.0, help="commands typed a second during the fan-out (default 5)")
    parser.add_argument("--concurrency", type=int, default=256, help="the sender's connections (default 256, as many as lanes in flight)")
    parser.add_argument("--tick-process", action=argparse.BooleanOptionalAction, default=None,
                        help="tick in a process of its own or not (default: as `circlebot run` decides, CIRCLEBOT_TICK_PROCESS)")
    parser.add_argument("--json", help="also write every figure to this file")
    args = parser.parse_args(argv)
    databases = [DATABASES.get(db, db) for db in args.db or ["sqlite"]]
    rates, latencies = args.rate or [500.0], [x if x != "0" else "" for x in args.latency or ["0"]]
    seeder = Seeder(args.circles, args.week)
    print(f"Circlebot fan-out benchmark, {time.strftime('%Y-%m-%d %H:%M')}, code {code_version()}: "
          f"{args.circles:,} circles x 5 members at week {args.week}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}", flush=True)
    results, lines = [], []
    try:
        for url in databases:
            for rate in rates:
                for latency in latencies:
                    label = (f"{'SQLite' if url.startswith('sqlite') else 'PostgreSQL'}, {rate:g}/s, "
                             f"{'latency ' + latency.replace(',', '-') + ' s' if latency else 'no latency'}")
                    runs = []
                    for number in range(args.runs):
                        run_url = seeder.fresh(url)
                        print(f"  {label}, run {number + 1} (database ready in {seeder.seconds:.0f} s)", flush=True)
                        runs.append(one_run(run_url, rate, latency, args))
                        print(run_line(runs[-1]), flush=True)
                    results.append(dict(label=label, db=url, rate=rate, latency=latency, runs=runs))
                    lines += summary(label, rate, runs)
    finally:
        seeder.clean_up()
    print("Summary (median (range) of the runs):")
    print("\n".join(lines))
    if args.json:
        Path(args.json).write_text(json.dumps(dict(code=code_version(), cpus=os.cpu_count(), results=results), indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
