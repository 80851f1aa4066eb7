"""Shared fixtures for tests of the core (``bot/``) and the kits (``kits/``).

Everything here is pure: fixed aware datetimes, no sleeps, no network, no
database. The clock is whatever a test passes in.

Fixtures:
    kits: the built-in kits, keyed by id.
    t0: a fixed moment, Tuesday 2026-12-01 09:00 UTC.
    grace: how late a tick may be and still send (see ``bot.engine.tick``).
    actor: ``actor(name, tz=None, admin=False)`` makes an ``Actor``.
    moderator / members: the people of the standard circle.
    new_circle: a forming circle with the moderator and some members.
    started_circle: a started circle, by default four people on the career kit.
    run_until: ticks a circle along its timetable, collecting every decision.
    rendered: a ``Message`` or ``Text`` as one English string.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

import pytest

from bot import commands as c
from bot import engine
from bot.circle import Actor, Circle, Slot, UserRef
from bot.effects import DELIVERY_TYPES, DirectMessage, Effect, Message, PostToCircle
from bot.i18n import Text, render
from kits import builtin_kits
from kits.schema import Kit

PLATFORM = "console"
WORKSPACE = "local"
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # a Tuesday, in GMT (London = UTC)
TUESDAY_1700 = Slot(weekday=1, at=time(17, 0))
LONDON = "Europe/London"
GRACE = timedelta(minutes=15)
MODERATOR_NAME = "maya"
MEMBER_NAMES = ("ben", "cleo", "dev", "eli", "fay", "gus", "hal")


def make_actor(name: str, tz: str | None = None, admin: bool = False) -> Actor:
    return Actor(UserRef(PLATFORM, WORKSPACE, name), name, tz, admin)



@pytest.fixture(autouse=True)
def logging_as_it_was():
    """``circlebot`` commands set up logging for a whole process: a test that runs one leaves it as it found it."""
    from circlebot.logs import CHATTY, QUIET

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {name: logging.getLogger(name).level for name in CHATTY + QUIET}
    yield
    root.handlers[:], root.level = handlers, level
    for name, was in levels.items():
        logging.getLogger(name).setLevel(was)

@pytest.fixture(scope="session")
def kits() -> dict[str, Kit]:
    return builtin_kits()


@pytest.fixture
def t0() -> datetime:
    return T0


@pytest.fixture
def grace() -> timedelta:
    return GRACE


@pytest.fixture
def actor() -> Callable[..., Actor]:
    """``actor(name, tz=None, admin=False)``: a person on the console platform."""
    return make_actor


@pytest.fixture
def moderator() -> Actor:
    """The person who forms the standard circle and moderates it."""
    return make_actor(MODERATOR_NAME)


@pytest.fixture
def members() -> list[Actor]:
    """The people who join the standard circle, in joining order (use as many as needed)."""
    return [make_actor(name) for name in MEMBER_NAMES]


@pytest.fixture
def new_circle(kits, moderator, members, t0) -> Callable[..., Circle]:
    """``new_circle(kit="career", joined=3, ...)``: a forming circle.

    ``kit`` is a built-in kit id or a ``Kit`` (e.g. a variant made in a test).
    The moderator creates it and the first ``joined`` of ``members`` join, all at
    ``now`` (default ``t0``). Every step goes through the engine.
    """

    def make(
        kit: str | Kit = "career",
        *,
        joined: int = 3,
        tz: str = LONDON,
        slot: Slot = TUESDAY_1700,
        capacity: int = 5,
        name: str = "Tuesday crew",
        now: datetime | None = None,
    ) -> Circle:
        now = now or t0
        kit = kit if isinstance(kit, Kit) else kits[kit]
        command = c.NewCircle(name=name, kit=kit.id, tz=tz, slot=slot, capacity=capacity)
        circle = engine.create_circle(command, moderator, now, {**kits, kit.id: kit}, taken_handles=()).circle
        for person in members[:joined]:
            circle = engine.handle(circle, c.Join(None), person, now, kit).circle
        return circle

    return make


@pytest.fixture
def started_circle(new_circle, kits, moderator, t0) -> Callable[..., Circle]:
    """``started_circle(kit="career", ...)``: a four-person circle the moderator has started.

    Takes the same keyword arguments as ``new_circle``.
    """

    def make(kit: str | Kit = "career", *, now: datetime | None = None, **options) -> Circle:
        now = now or t0
        kit = kit if isinstance(kit, Kit) else kits[kit]
        circle = new_circle(kit, now=now, **options)
        return engine.handle(circle, c.Start(None), moderator, now, kit).circle

    return make


@dataclass
class Run:
    """What happened while a circle was ticked along: every tick's decision, in order."""

    circle: Circle
    decisions: list[engine.Decision] = field(default_factory=list)
    ticks: list[datetime] = field(default_factory=list)

    @property
    def effects(self) -> list[Effect]:
        return [e for d in self.decisions for e in d.effects]

    @property
    def deliveries(self) -> list[Effect]:
        return [e for e in self.effects if isinstance(e, DELIVERY_TYPES)]

    @property
    def posts(self) -> list[PostToCircle]:
        return [e for e in self.effects if isinstance(e, PostToCircle)]

    @property
    def dms(self) -> list[DirectMessage]:
        return [e for e in self.effects if isinstance(e, DirectMessage)]

    @property
    def skipped(self) -> list[str]:
        return [k for d in self.decisions for k in d.skipped]


@pytest.fixture
def run_until() -> Callable[..., Run]:
    """``run_until(circle, kit, until, step=None, grace=GRACE)``: tick ``circle`` up to ``until``.

    With ``step=None`` the fake scheduler wakes exactly at each ``circle.next_wake``.
    With a ``step`` it polls like a coarse clock: it wakes at the first multiple
    of ``step`` (counted from the first wake) at or after ``next_wake``, so ticks
    can be up to ``step`` late and may carry several due occurrences at once;
    ``grace`` then defaults to ``step``. Stops when nothing is planned at or
    before ``until``.
    """

    def run(
        circle: Circle,
        kit: Kit,
        until: datetime,
        step: timedelta | None = None,
        *,
        grace: timedelta | None = None,
    ) -> Run:
        grace = grace if grace is not None else max(GRACE, step or timedelta(0))
        result = Run(circle)
        origin = circle.next_wake
        for _ in range(10_000):
            wake = circle.next_wake
            if wake is None or wake > until:
                break
            if step is None:
                now = wake
            else:
                periods = -(-(wake - origin) // step)  # ceiling division
                now = min(origin + periods * step, until)
            decision = engine.tick(circle, kit, now, grace)
            # Occurrences leave the plan; care reminders move their event's ``planned`` on.
            assert decision.circle != circle, "a due tick must consume what was due"
            result.decisions.append(decision)
            result.ticks.append(now)
            circle = decision.circle
        else:  # pragma: no cover - a runaway timetable is a bug
            raise AssertionError("run_until did not settle")
        result.circle = circle
        return result

    return run


def render_message(message: Message | Text | str) -> str:
    """A message's title and lines (or a single text) as one English string."""
    if isinstance(message, Message):
        parts = ([message.title] if message.title else []) + list(message.lines)
        return "\n".join(render(p) for p in parts)
    return render(message)


@pytest.fixture
def rendered() -> Callable[[Message | Text | str], str]:
    """``rendered(message_or_text)``: English text for assertions on what people read."""
    return render_message
