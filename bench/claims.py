"""Claims and outcomes alone: the CPU a delivery costs the sending process before and after the platform.

    .venv/bin/python -m bench.claims [--deliveries 30000] [--db URL] [--profile]

Queues ``--deliveries`` pending deliveries (the payloads of a mature circle's
own history, two to a lane) in a fresh database beside ``--history`` sent ones,
gathers the planner's statistics (a live database has them), then claims them
100 at a time, as a delivery pass does, and records each batch as sent
(``Outbox.finish``). Prints the CPU per delivery; ``--profile`` adds where it went.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert, text

from bench import DUE
from bench.seed import reset, template
from storage.codec import dump_delivery
from storage.models import OutboxRow
from storage.outbox import SENT, Outbox, Outcome

DEFAULT_CLAIMS_DB = f"sqlite:///{Path(tempfile.gettempdir()) / 'circlebot-claims.db'}"


def queue(url: str, deliveries: int, sent: int) -> Outbox:
    engine = reset(url)
    _circle, history = template(8)
    old = [dict(key=f"old/{number}", circle_id=f"h{number // 88}", lane=f"h{number // 88}", kind="PostToCircle",
                payload="{}", status=SENT, attempts=1, not_before=DUE, created_at=DUE, platform="slack")
           for number in range(sent)]
    rows = []
    for number in range(deliveries):
        kind, payload = dump_delivery(history[number % len(history)])
        rows.append(dict(key=f"bench/{number}", circle_id=f"c{number // 2}", lane=f"c{number // 2}", kind=kind,
                         payload=payload, status="pending", attempts=0, not_before=DUE, created_at=DUE, platform="slack"))
    with engine.begin() as connection:
        connection.execute(insert(OutboxRow.__table__), old + rows)
        connection.execute(text("ANALYZE"))
    return Outbox(engine)


def claim_all(outbox: Outbox, batch: int = 100) -> int:
    claimed = 0
    while got := outbox.claim(DUE + timedelta(seconds=1), batch):
        claimed += len(got)
        outbox.finish([Outcome(queued.id, SENT, 1, queued.not_before) for queued in got], DUE)
    return claimed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.claims", description=__doc__.split("\n\n")[0])
    parser.add_argument("--deliveries", type=int, default=30_000)
    parser.add_argument("--history", type=int, default=200_000, help="sent deliveries beside them")
    parser.add_argument("--db", default=DEFAULT_CLAIMS_DB, help="SQLite file or PostgreSQL URL with a schema of its own")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    outbox = queue(args.db, args.deliveries, args.history)
    profile = cProfile.Profile() if args.profile else None
    began, cpu = time.perf_counter(), time.process_time()
    claimed = profile.runcall(claim_all, outbox) if profile else claim_all(outbox)
    wall, cpu = time.perf_counter() - began, time.process_time() - cpu
    print(f"claimed and finished {claimed:,} deliveries in {wall:.2f} s: CPU {1000 * cpu / claimed:.3f} ms a delivery")
    if profile:
        pstats.Stats(profile, stream=sys.stdout).sort_stats("tottime").print_stats(20)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
