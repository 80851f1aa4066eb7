"""Seed a benchmark database: N circles of 5 members, all due for one week's exercise at the same moment.

One circle is built by the real engine (``create_circle``, four ``handle(Join)``,
``handle(Start)``), and for a mature seed (``--week 8``) run through weeks 1 to
7 as a live one would be: every timetable step ticked at its moment, most
members checking in and recording that they attended, one member drifting (so
digests and nudges happen). Its JSON and the deliveries it queued are then
copied for each of the N circles under that circle's own id, name and members:
every circle's next step, week ``week``'s exercise, comes due at :data:`DUE`,
the synchronized fan-out :mod:`bench.fanout` measures. The deliveries are stored
as sent, so the outbox holds the rows (keys, lanes, recipients) a live database
would have by then; their payloads are left empty ("{}"): nothing reads a sent
row's payload in a fan-out, and the posts' texts would make the file 5 GB.

A few circles (:func:`forming_count`) are left forming, with only their
moderator, for the ``join`` commands the benchmark sends during the fan-out.

    .venv/bin/python -m bench.seed [--circles 35000] [--week 8] [--db URL]

The database's circlebot tables are dropped and recreated (a SQLite file is
deleted first). For PostgreSQL use a dedicated schema, e.g.
``postgresql://postgres@127.0.0.1:5432/test?options=-csearch_path%3Dcirclebot_bench``;
the schema named in ``search_path`` is created if it does not exist.
"""

from __future__ import annotations

import argparse
import re
import time
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

from sqlalchemy import Engine, insert, text

from bench import DEFAULT_CIRCLES, DEFAULT_DB, DUE, schema_of
from bot import commands as c
from bot import engine as core
from bot.circle import Actor, Circle, Slot, UserRef
from bot.effects import DELIVERY_TYPES, Delivery, DirectMessage
from bot.errors import CircleError
from bot.forming import circle_id
from bot.stats import week_figures
from kits import builtin_kits
from storage.codec import dump_circle, dump_delivery
from storage.database import make_engine, normalise_url, upgrade
from storage.models import CircleRow, CircleWeekRow, InvolvementRow, MembershipRow, OutboxRow, WorkspaceCountRow
from storage.outbox import SENT, lane_of
from storage.repository import circle_columns, workspace_counts

MEMBERS = 5
KIT = "career"
ZONE = "Europe/London"
SLOT = Slot(weekday=1, at=clock_time(17, 0))  # Tuesdays 17:00 London
PLATFORM, WORKSPACE = "discord", "bench-guild"
#: When week-1 circles are formed, joined and started (a Tuesday morning); a week-N circle, N - 1 weeks earlier.
STARTED = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
GRACE = timedelta(hours=6)
CHUNK = 2000
#: Placeholders in the template circle, replaced by each copy's own (none is a substring of another).
TEMPLATE_NAME, TEMPLATE_USER = "Zqxtemplate", "zqxuser-"


def handle(number: int) -> str:
    """What people call circle ``number``: ``#circle-<number>``."""
    return f"circle-{number}"


def person(number: int, member_no: int) -> Actor:
    """Member ``member_no`` of circle ``number`` (0 is its moderator)."""
    return Actor(UserRef(PLATFORM, WORKSPACE, f"u{number}-{member_no}"), f"Person {number}.{member_no}")


def forming_count(circles: int) -> int:
    """How many forming circles are seeded beside the running ones, for ``join`` commands."""
    return max(50, circles // 100)


def _template_actor(member_no: int) -> Actor:
    return Actor(UserRef(PLATFORM, WORKSPACE, f"{TEMPLATE_USER}{member_no}"), f"{TEMPLATE_NAME} person {member_no}")


def _members_act(circle: Circle, kit, week: int, now: datetime) -> tuple[Circle, list]:
    """After week ``week``'s exercise: members say they attended the last meeting and check in.

    Member 4 drifts: checks in only on odd weeks, and never records attendance.
    """
    effects = []
    for member_no in range(MEMBERS):
        actor = _template_actor(member_no)
        drifting = member_no == MEMBERS - 1
        wanted = [] if drifting else [c.Attended(None)]
        if not drifting or week % 2:
            answers = tuple(f"week {week}, answer {n}: a few honest lines about how it went" for n in range(1, 4))
            wanted.append(c.CheckInCommand(None, answers))
        for command in wanted:
            try:
                decision = core.handle(circle, command, actor, now, kit)
            except CircleError:
                continue  # e.g. no meeting held yet in week 1
            circle, effects = decision.circle, effects + list(decision.effects)
    return circle, effects


def template(week: int) -> tuple[Circle, list[Delivery]]:
    """One circle whose next step is week ``week``'s exercise at :data:`DUE`, with the weeks before lived."""
    kits = builtin_kits()
    kit = kits[KIT]
    started = STARTED - timedelta(weeks=week - 1)
    moderator = _template_actor(0)
    command = c.NewCircle(name=TEMPLATE_NAME, kit=KIT, tz=ZONE, slot=SLOT, capacity=MEMBERS)
    decision = core.create_circle(command, moderator, started, kits, taken_handles=())
    circle, effects = decision.circle, list(decision.effects)
    for member_no in range(1, MEMBERS):
        decision = core.handle(circle, c.Join(None), _template_actor(member_no), started, kit)
        circle, effects = decision.circle, effects + list(decision.effects)
    decision = core.handle(circle, c.Start(None), moderator, started, kit)
    circle, effects = decision.circle, effects + list(decision.effects)
    while circle.next_wake is not None and circle.next_wake < DUE:
        moment, week_before = circle.next_wake, circle.week
        decision = core.tick(circle, kit, moment, GRACE)
        circle, effects = decision.circle, effects + list(decision.effects)
        if circle.week != week_before:
            circle, done = _members_act(circle, kit, circle.week, moment + timedelta(hours=1))
            effects += done
    first = circle.plan[0] if circle.plan else None
    if circle.next_wake != DUE or first is None or first.key != f"exercise:{week}":
        raise SystemExit(f"template circle: first step {first} is not week {week}'s exercise at {DUE}")
    return circle, [e for e in effects if isinstance(e, DELIVERY_TYPES)]


def forming_template() -> Circle:
    """A circle with only its moderator, open for people to join."""
    command = c.NewCircle(name=TEMPLATE_NAME, kit=KIT, tz=ZONE, slot=SLOT, capacity=MEMBERS)
    return core.create_circle(command, _template_actor(0), STARTED, builtin_kits(), taken_handles=()).circle


class Copier:
    """Copies a template's text for circle ``number``: its id, handle, name and members' ids and names."""

    def __init__(self, template: Circle):
        self.template = template
        words = (template.id, template.handle, TEMPLATE_NAME, TEMPLATE_USER)
        self.pattern = re.compile("|".join(re.escape(word) for word in words))

    def __call__(self, text: str, number: int) -> str:
        names = {
            self.template.id: circle_id(PLATFORM, WORKSPACE, handle(number)), self.template.handle: handle(number),
            TEMPLATE_NAME: f"Circle {number}", TEMPLATE_USER: f"u{number}-",
        }
        return self.pattern.sub(lambda match: names[match.group(0)], text)


def circle_rows(circle: Circle, deliveries: list[Delivery], numbers: range, copy: Copier):
    """The rows of every copy of ``circle``: circle, memberships, (already sent) outbox, weekly figures."""
    data = dump_circle(circle)
    base = dict(circle_columns(circle), updated_at=STARTED)
    weeks = [vars(f) for f in week_figures(circle)]
    history = []
    for effect in deliveries:
        kind, _payload = dump_delivery(effect)
        direct = isinstance(effect, DirectMessage)
        history.append(dict(
            key=effect.key, circle_id=effect.circle_id, kind=kind, payload="{}", status=SENT,
            recipient=effect.to.key if direct else None, lane=lane_of(effect), attempts=1,
            not_before=(effect.not_before if direct else None) or STARTED, created_at=STARTED,
            sent_at=STARTED, last_error=None,
        ))
    members = [m.user.key for m in circle.members]
    for number in numbers:
        row = dict(base, id=copy(circle.id, number), handle=handle(number), name=f"Circle {number}", data=copy(data, number))
        memberships = [dict(circle_id=row["id"], user_key=copy(key, number)) for key in members]
        week_rows = [dict(w, circle_id=row["id"], platform=PLATFORM, workspace=WORKSPACE) for w in weeks]
        outbox = [
            {**h, "key": copy(h["key"], number), "circle_id": row["id"],
             "recipient": h["recipient"] and copy(h["recipient"], number), "lane": copy(h["lane"], number)}
            for h in history
        ]
        yield row, memberships, outbox, week_rows


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
        schema = schema_of(url)
        with engine.begin() as connection:
            if not schema:
                raise SystemExit("name a schema of the benchmark's own in the URL: ...?options=-csearch_path%3D<schema>")
            # The whole schema: every table any migration made goes, whatever the migrations become.
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    upgrade(engine)
    return engine


def finish(engine: Engine, totals: Mapping[str, int]) -> None:
    """Store the workspace's running counts, gather the planner's statistics and let go of the engine."""
    with engine.begin() as connection:
        connection.execute(insert(WorkspaceCountRow.__table__), [
            dict(platform=PLATFORM, workspace=WORKSPACE, figure=figure, count=count) for figure, count in totals.items()
        ])
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        # A live database has statistics; give the planner the same (autovacuum would, soon after a load).
        connection.execute(text("ANALYZE"))
    engine.dispose()


def seed(url: str, circles: int, week: int = 8) -> dict:
    started = time.perf_counter()
    engine = reset(url)
    counts = {"circles": 0, "memberships": 0, "outbox": 0, "circle_weeks": 0}
    tables = (CircleRow, MembershipRow, OutboxRow, CircleWeekRow)
    batch: tuple[list, ...] = tuple([] for _ in tables)

    def flush() -> None:
        with engine.begin() as connection:
            for table, values in zip(tables, batch):
                if values:
                    connection.execute(insert(table.__table__), values)
            if batch[1]:  # every member is a person their circle holds something about
                connection.execute(insert(InvolvementRow.__table__), batch[1])
        for name, values in zip(counts, batch):
            counts[name] += len(values)
            values.clear()

    running, deliveries = template(week)
    forming = forming_template()
    copies = (
        circle_rows(running, deliveries, range(circles), Copier(running)),
        circle_rows(forming, [], range(circles, circles + forming_count(circles)), Copier(forming)),
    )
    for rows in copies:
        for circle_row, *others in rows:
            batch[0].append(circle_row)
            for values, more in zip(batch[1:], others):
                values.extend(more)
            if len(batch[0]) >= CHUNK:
                flush()
    flush()
    totals = Counter()  # the workspace's running counts: every copy adds what its template does
    for template_circle, copies in ((running, circles), (forming, forming_count(circles))):
        for figure, count in workspace_counts(template_circle).items():
            totals[figure] += count * copies
    finish(engine, totals)
    return {**counts, "week": week, "json_bytes": len(dump_circle(running)), "seconds": time.perf_counter() - started}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.seed", description=__doc__.split("\n\n")[0])
    parser.add_argument("--circles", type=int, default=DEFAULT_CIRCLES, help=f"how many circles (default {DEFAULT_CIRCLES:,})")
    parser.add_argument("--week", type=int, default=8, help="the week whose exercise comes due (default 8: mature circles)")
    parser.add_argument("--db", default=DEFAULT_DB, help=f"database URL (default {DEFAULT_DB})")
    args = parser.parse_args(argv)
    result = seed(args.db, args.circles, args.week)
    print(
        f"seeded {result['circles']:,} circles ({forming_count(args.circles)} forming), {result['memberships']:,} memberships, "
        f"{result['outbox']:,} sent deliveries in {result['seconds']:.1f} s; week {args.week} due at {DUE.isoformat()}, "
        f"{result['json_bytes']:,} bytes of JSON a circle"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
