"""One Circlebot replica as a standalone process, for crash and multi-replica tests.

    python tests/processes/worker.py --db URL --platform URL [--rate N] [--heartbeat SECONDS] [--lock-id N]

It wires the real pieces together (storage, outbox, service, runner, the live
APScheduler with leader election) and delivers to a
:class:`tests.fakes.platform.FakePlatform` through the paced
:class:`tests.fakes.http_sender.HttpSender`. It runs until killed; SIGTERM or
SIGINT shut it down cleanly (exit status 0). ``kill -9`` is the crash under test.

``--lock-id`` lets each test use its own PostgreSQL advisory lock, so tests
sharing a database (or running at the same time) do not elect each other's
leaders. To tell replicas apart in ``pg_stat_activity``, put
``application_name=...`` in the ``--db`` URL's query.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from datetime import timedelta
from pathlib import Path

# Runnable from a fresh clone: the repository root (bot, storage, ...) and tests/ (fakes).
TESTS = Path(__file__).resolve().parents[1]
ROOT = TESTS.parent
for path in (str(TESTS), str(ROOT)):
    if path not in sys.path:
        sys.path.insert(0, path)

from fakes.http_sender import HttpSender  # noqa: E402

from circlebot.wiring import wire  # noqa: E402
from kits import builtin_kits  # noqa: E402
from scheduler.leader import PostgresLeader, leader_for  # noqa: E402
from scheduler.live import LiveScheduler  # noqa: E402
from scheduler.pacing import Pacer  # noqa: E402
from storage.database import make_engine, upgrade  # noqa: E402

log = logging.getLogger("worker")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="database URL (sqlite:///... or postgresql://...)")
    parser.add_argument("--platform", required=True, help="base URL of the fake chat platform")
    parser.add_argument("--rate", type=float, default=None, help="requests per second (default: unpaced)")
    parser.add_argument("--heartbeat", type=float, default=10.0, help="seconds between leadership checks")
    parser.add_argument("--lock-id", type=int, default=None, help="PostgreSQL advisory lock id (default: the production one)")
    return parser.parse_args(argv)


async def run(args: argparse.Namespace) -> None:
    engine = make_engine(args.db)
    upgrade(engine)
    sender = HttpSender(args.platform, Pacer(args.rate))
    runner = wire(engine, builtin_kits(), timedelta(hours=6)).runner(sender)
    if args.lock_id is not None and engine.dialect.name == "postgresql":
        leader = PostgresLeader(engine, args.lock_id)
    else:
        leader = leader_for(engine)
    live = LiveScheduler(runner, leader, heartbeat=timedelta(seconds=args.heartbeat))

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)

    live.start()
    log.info("worker %d started (%s)", os.getpid(), engine.dialect.name)
    try:
        await stop.wait()
        log.info("worker %d stopping", os.getpid())
    finally:
        await live.shutdown()
        await sender.close()
        engine.dispose()
    log.info("worker %d stopped", os.getpid())


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr,
        format=f"%(asctime)s.%(msecs)03d [{os.getpid()}] %(name)s %(levelname)s %(message)s", datefmt="%H:%M:%S",
    )
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    main()
