"""Seed a benchmark database: N circles of 5 members, all due for week 1 at the same moment.

Every circle is formed, joined and started by the real engine (``create_circle``,
``handle(Join)``, ``handle(Start)``), exactly as the service would, so its plan,
revision and JSON are real. Only the writing is done in bulk: the circle rows,
their memberships, and the deliveries those commands queued (recorded as already
sent, as they would be by the time week 1 comes due) go in with executemany.

All circles use the same kit, slot and time zone and are started at the same
moment, so every circle's first step, week 1's exercise, comes due at
:data:`DUE` — the synchronized fan-out :mod:`bench.fanout` measures.

    .venv/bin/python -m bench.seed [--circles 35000] [--db URL]

The database's circlebot tables are dropped and recreated (a SQLite file is
deleted first). For PostgreSQL use a dedicated schema, e.g.
``postgresql://postgres@127.0.0.1:5432/test?options=-csearch_path%3Dcirclebot_bench``;
the schema named in ``search_path`` is created if it does not exist.
"""

from __future__ import annotations

import argparse
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from datetime import time as clock_time
from pathlib import Path
from urllib.parse import unquote

from sqlalchemy import Engine, insert, text

from bench import DEFAULT_CIRCLES, DEFAULT_DB, DUE
from bot import commands as c
from bot import engine as core
from bot.circle import Actor, Circle, Slot, UserRef
from bot.effects import DELIVERY_TYPES, Delivery, DirectMessage
from kits import builtin_kits
from storage.codec import dump_delivery
from storage.database import make_engine, normalise_url, upgrade
from storage.models import CircleRow, InvolvementRow, MembershipRow, OutboxRow
from storage.repository import circle_columns
from storage.outbox import SENT, lane_of

MEMBERS = 5
KIT = "career"
ZONE = "Europe/London"
SLOT = Slot(weekday=1, at=clock_time(17, 0))  # Tuesdays 17:00 London
PLATFORM, WORKSPACE = "discord", "bench-guild"
#: When every circle is formed, joined and started (a Tuesday morning).
STARTED = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
CHUNK = 2000


def person(circle_no: int, member_no: int) -> Actor:
    return Actor(UserRef(PLATFORM, WORKSPACE, f"u{circle_no}-{member_no}"), f"Person {circle_no}.{member_no}")


def build_circle(number: int, kits) -> tuple[Circle, list[Delivery]]:
    """One circle, formed by its moderator, joined by four people and started, all via the engine."""
    kit = kits[KIT]
    moderator = person(number, 0)
    command = c.NewCircle(name=f"Circle {number}", kit=KIT, tz=ZONE, slot=SLOT, capacity=MEMBERS)
    decision = core.create_circle(command, moderator, STARTED, kits, taken_handles=())
    circle, effects = decision.circle, list(decision.effects)
    for member_no in range(1, MEMBERS):
        decision = core.handle(circle, c.Join(None), person(number, member_no), STARTED, kit)
        circle, effects = decision.circle, effects + list(decision.effects)
    decision = core.handle(circle, c.Start(None), moderator, STARTED, kit)
    circle, effects = decision.circle, effects + list(decision.effects)
    if circle.next_wake != DUE or circle.plan[0].key != "exercise:1":
        raise SystemExit(f"circle {circle.id}: first step {circle.plan[0]} is not week 1's exercise at {DUE}")
    return circle, [e for e in effects if isinstance(e, DELIVERY_TYPES)]


def rows(circles: int) -> Iterator[tuple[dict, list[dict], list[dict]]]:
    """Per circle: its circle row, membership rows and (already sent) outbox rows."""
    kits = builtin_kits()
    for number in range(circles):
        circle, deliveries = build_circle(number, kits)
        circle_row = dict(circle_columns(circle), id=circle.id, updated_at=STARTED)
        members = [dict(circle_id=circle.id, user_key=m.user.key) for m in circle.members]
        outbox = []
        for effect in deliveries:
            kind, payload = dump_delivery(effect)
            direct = isinstance(effect, DirectMessage)
            outbox.append(dict(
                key=effect.key, circle_id=effect.circle_id, kind=kind, payload=payload, status=SENT,
                recipient=effect.to.key if direct else None, lane=lane_of(effect), attempts=1,
                not_before=(effect.not_before if direct else None) or STARTED, created_at=STARTED,
                sent_at=STARTED, last_error=None,
            ))
        yield circle_row, members, outbox


def reset(url: str) -> Engine:
    """An empty, migrated database at ``url``."""
    url = normalise_url(url)
    if url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///"):])
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        engine = make_engine(url)
    else:
        engine = make_engine(url)
        schema = re.search(r"search_path(?:=|%3D)([A-Za-z_][A-Za-z0-9_]*)", unquote(url))
        with engine.begin() as connection:
            if schema:
                connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema.group(1)}"'))
            connection.execute(text("DROP TABLE IF EXISTS involvements, circle_weeks, workspace_weeks, memberships, outbox, circles, alembic_version CASCADE"))
    upgrade(engine)
    return engine


def seed(url: str, circles: int) -> dict:
    started = time.perf_counter()
    engine = reset(url)
    counts = {"circles": 0, "memberships": 0, "outbox": 0}
    batch: tuple[list, list, list] = ([], [], [])

    def flush() -> None:
        with engine.begin() as connection:
            for table, values in zip((CircleRow, MembershipRow, OutboxRow), batch):
                if values:
                    connection.execute(insert(table.__table__), values)
            if batch[1]:  # every member is a person their circle holds something about
                connection.execute(insert(InvolvementRow.__table__), batch[1])
        for name, values in zip(counts, batch):
            counts[name] += len(values)
            values.clear()

    for circle_row, members, outbox in rows(circles):
        batch[0].append(circle_row)
        batch[1].extend(members)
        batch[2].extend(outbox)
        if len(batch[0]) >= CHUNK:
            flush()
    flush()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        # A live database has statistics; give the planner the same (autovacuum would, soon after a load).
        connection.execute(text("ANALYZE"))
    engine.dispose()
    return {**counts, "seconds": time.perf_counter() - started}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.seed", description=__doc__.split("\n\n")[0])
    parser.add_argument("--circles", type=int, default=DEFAULT_CIRCLES, help=f"how many circles (default {DEFAULT_CIRCLES:,})")
    parser.add_argument("--db", default=DEFAULT_DB, help=f"database URL (default {DEFAULT_DB})")
    args = parser.parse_args(argv)
    result = seed(args.db, args.circles)
    print(
        f"seeded {result['circles']:,} circles, {result['memberships']:,} memberships, "
        f"{result['outbox']:,} sent deliveries in {result['seconds']:.1f} s; week 1 due at {DUE.isoformat()}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
