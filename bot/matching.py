"""Matching strangers: the people in the pool, grouped into circles of 4-5 that share a weekly hour.

Pure and deterministic: the same pool, history and moment give the same groups,
whatever order the pool came in. Nobody is placed who did not sign up, and every
group has one moderator volunteer, an hour all its members said they can meet,
and no two members who were in a circle together before, unless both said they
would rather meet people they know.

How it works, for each kit and language on its own (sign-up order decides ties):

1. Every hour a person can meet is turned into its next moment in UTC (from
   ``now``), so hours given in different zones are compared as the same instant.
2. Take the moment most still-unplaced people share. Form as many groups there as
   there are moderator volunteers and people for 4 each; spread the people so the
   sizes are 4 or 5 (14 people: 5+5+4, never 6+6+2). A group that cannot reach 4
   without pairing people who met before is not formed.
3. Repeat until no moment has 4 unplaced people who could form a group.

Whoever is left is told why (:class:`Reason`) and stays in the pool.
"""

from __future__ import annotations

import enum
import heapq
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from itertools import groupby
from zoneinfo import ZoneInfo

from bot.circle import UserRef
from bot.errors import CircleError
from bot.i18n import _
from bot.timetable import WEEKDAYS

#: The fewest and most people in a matched circle, the moderator included.
SMALLEST, LARGEST = 4, 5
#: A meeting is an hour; it may start on the hour or the half hour (zones such as Asia/Kolkata are half an hour off).
MEETING, STEP = 60, 30
#: How many windows one person may give: four a day is plenty, and keeps a sign-up short.
MOST_WINDOWS = 28


@dataclass(frozen=True)
class Window:
    """Hours someone can meet each week, in their own zone: ``tue 17-20`` is Tuesday 17:00 to 20:00."""

    weekday: int  # 0 = Monday
    start: int  # minutes after midnight
    end: int

    def __str__(self) -> str:
        def clock(minutes: int) -> str:
            hours, rest = divmod(minutes, 60)
            return f"{hours}" if not rest else f"{hours}:{rest:02d}"

        return f"{WEEKDAYS[self.weekday]} {clock(self.start)}-{clock(self.end)}"


_WINDOW = re.compile(
    r"(?P<day>[a-z]+)\s+(?P<h1>\d{1,2})(?::(?P<m1>00|30))?\s*-\s*(?P<h2>\d{1,2})(?::(?P<m2>00|30))?"
)


def parse_hours(text: str) -> tuple[Window, ...]:
    """``tue 17-20, thu 18:30-21`` -> the windows, sorted.

    Raises:
        CircleError: a piece that is not a weekday and two hours, or a window shorter than a meeting.
    """
    windows = []
    for piece in (p.strip().lower() for p in text.split(",")):
        match = _WINDOW.fullmatch(piece)
        day = match and match["day"][:3]
        if not match or day not in WEEKDAYS:
            raise CircleError(
                _(
                    "I could not read the hours \u201c{piece}\u201d. Give a weekday and hours in your own time zone, "
                    "e.g. {example}.",
                    piece=piece,
                    example="tue 17-20, thu 18:30-21",
                )
            )
        start = int(match["h1"]) * 60 + int(match["m1"] or 0)
        end = int(match["h2"]) * 60 + int(match["m2"] or 0)
        if not 0 <= start < end <= 24 * 60 or end - start < MEETING:
            raise CircleError(
                _("\u201c{piece}\u201d is not a window of at least an hour within one day.", piece=piece)
            )
        windows.append(Window(WEEKDAYS.index(day), start, end))
    if len(windows) > MOST_WINDOWS:
        raise CircleError(_("Give at most {count} windows of hours.", count=MOST_WINDOWS))
    return tuple(sorted(set(windows), key=lambda w: (w.weekday, w.start, w.end)))


def hours_text(windows: Iterable[Window]) -> str:
    """The windows as they are typed: ``tue 17-20, thu 18:30-21``."""
    return ", ".join(str(w) for w in windows)


@dataclass(frozen=True)
class Signup:
    """One person in the pool.

    Attributes:
        hours: when they can meet each week, in ``tz``.
        strangers: they would rather meet new people; otherwise they would rather meet
            people they know, and may be matched again with people they met in a circle before.
        moderate: they volunteer to moderate.
        at: when they signed up (the earlier, the sooner placed when not everyone can be).
    """

    user: UserRef
    name: str
    kit: str
    tz: str
    hours: tuple[Window, ...]
    language: str
    strangers: bool
    moderate: bool
    at: datetime


class Reason(str, enum.Enum):
    """Why someone could not be placed this time."""

    TOO_FEW = "too_few"  # fewer than four people for this kit in this language
    NO_SLOT = "no_slot"  # no hour of theirs that three others in the pool can also meet
    NO_MODERATOR = "no_moderator"  # enough people at their hours, but no one to moderate
    MET_BEFORE = "met_before"  # the others free at their hours were in a circle with them before


REASONS = {
    Reason.TOO_FEW: _("fewer than {n} people have signed up for this kit in your language so far", n=SMALLEST),
    Reason.NO_SLOT: _("no hour you gave is one that {n} others in the pool can also meet", n=SMALLEST - 1),
    Reason.NO_MODERATOR: _("people share your hours, but none of them volunteered to moderate"),
    Reason.MET_BEFORE: _("the others free at your hours were in a circle with you before"),
}


@dataclass(frozen=True)
class Group:
    """A circle to form: ``members[0]`` is its moderator; ``at`` is its first meeting (UTC)."""

    kit: str
    language: str
    at: datetime
    members: tuple[Signup, ...]

    @property
    def moderator(self) -> Signup:
        return self.members[0]

    @property
    def prefer_strangers(self) -> int:
        return sum(s.strangers for s in self.members)


@dataclass(frozen=True)
class Unplaced:
    signup: Signup
    reason: Reason


@dataclass(frozen=True)
class Result:
    groups: tuple[Group, ...]
    unplaced: tuple[Unplaced, ...]


@lru_cache(maxsize=65536)
def next_moment(tz: str, weekday: int, minute: int, now: datetime) -> datetime:
    """The first moment at or after ``now`` that is ``weekday`` ``minute`` in ``tz``, in UTC."""
    zone = ZoneInfo(tz)
    local = now.astimezone(zone)
    day = local.date() + timedelta(days=(weekday - local.weekday()) % 7)
    if datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=zone) < now:
        day += timedelta(days=7)  # today, but earlier than now: next week's
    return datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=zone).astimezone(UTC)


def moments(signup: Signup, now: datetime) -> tuple[datetime, ...]:
    """Every start of a meeting that fits ``signup``'s hours, as its next moment from ``now`` (UTC), sorted."""
    starts = {
        next_moment(signup.tz, w.weekday, minute, now)
        for w in signup.hours
        for minute in range(w.start, w.end - MEETING + 1, STEP)
    }
    return tuple(sorted(starts))


def may_meet(a: Signup, b: Signup, met: Mapping[str, frozenset[str]]) -> bool:
    """Whether ``a`` and ``b`` may be matched: they never shared a circle, or both would rather meet people they know."""
    if not a.strangers and not b.strangers:
        return True
    return b.user.key not in met.get(a.user.key, frozenset()) and a.user.key not in met.get(b.user.key, frozenset())


def match(
    signups: Iterable[Signup],
    met: Mapping[str, frozenset[str]],
    now: datetime,
    largest: Mapping[str, int] | None = None,
) -> Result:
    """Group the pool into circles.

    Args:
        signups: the pool (any order).
        met: for a person's user key, the user keys of everyone they were in a circle with.
        now: the moment of matching (aware); each group's ``at`` is its first meeting after it.
        largest: the most people a circle of a kit may hold (its places, at most :data:`LARGEST`).

    Returns:
        The groups, and everyone who could not be placed, with the reason.
    """
    ordered = sorted(signups, key=lambda s: (s.kit, s.language, s.at, s.user.key))
    groups: list[Group] = []
    unplaced: list[Unplaced] = []
    for (kit, language), people in groupby(ordered, key=lambda s: (s.kit, s.language)):
        size = min(LARGEST, (largest or {}).get(kit, LARGEST))
        formed, left = _match_one(list(people), met, now, size)
        groups += [Group(kit, language, at, members) for at, members in formed]
        unplaced += left
    return Result(tuple(groups), tuple(unplaced))


def _match_one(
    people: list[Signup], met: Mapping[str, frozenset[str]], now: datetime, size: int
) -> tuple[list[tuple[datetime, tuple[Signup, ...]]], list[Unplaced]]:
    """One kit and language: people in sign-up order."""
    if len(people) < SMALLEST or size < SMALLEST:
        return [], [Unplaced(s, Reason.TOO_FEW) for s in people]
    free = [moments(s, now) for s in people]
    at_moment: dict[datetime, list[int]] = {}
    for index, starts in enumerate(free):
        for at in starts:
            at_moment.setdefault(at, []).append(index)
    left = set(range(len(people)))
    heap = [(-len(who), at) for at, who in at_moment.items() if len(who) >= SMALLEST]
    heapq.heapify(heap)
    formed: list[tuple[datetime, tuple[Signup, ...]]] = []
    while heap:
        count, at = heapq.heappop(heap)
        here = [i for i in at_moment[at] if i in left]
        if len(here) < SMALLEST:
            continue
        if len(here) != -count:  # others were placed meanwhile: back in line with its true count
            heapq.heappush(heap, (-len(here), at))
            continue
        for group in _groups_at(here, people, met, size):
            formed.append((at, tuple(people[i] for i in group)))
            left -= set(group)
    return formed, [Unplaced(people[i], _reason(i, people, free, left, at_moment)) for i in sorted(left)]


def _groups_at(
    here: list[int], people: list[Signup], met: Mapping[str, frozenset[str]], size: int
) -> list[list[int]]:
    """As many groups of 4 to ``size`` as ``here`` (indexes of people free at one moment, in sign-up order) allows."""
    volunteers = [i for i in here if people[i].moderate]
    count = min(len(volunteers), len(here) // SMALLEST)
    if not count:
        return []
    taking = min(len(here), size * count)
    # Sizes as even as they can be: 14 in 3 groups is 5, 5, 4.
    sizes = [taking // count + (n < taking % count) for n in range(count)]
    moderators = volunteers[:count]
    # Those who did not volunteer fill places first, so volunteers are left to moderate elsewhere.
    fillers = [i for i in here if not people[i].moderate] + volunteers[count:]
    groups = []
    for moderator, wanted in zip(moderators, sizes):
        group = [moderator]
        while len(group) < wanted:
            # The first who may meet everyone in the group; someone who wants what the moderator
            # wants (strangers, or people they know) before anyone else.
            pick = None
            for i in fillers:
                if all(may_meet(people[i], people[g], met) for g in group):
                    if people[i].strangers == people[moderator].strangers:
                        pick = i
                        break
                    pick = i if pick is None else pick
            if pick is None:
                break
            group.append(pick)
            fillers.remove(pick)
        if len(group) >= SMALLEST:
            groups.append(group)
        else:  # back where they were in line
            fillers = sorted(fillers + group[1:], key=lambda i: (people[i].moderate, i))
    return groups


def _reason(
    index: int, people: list[Signup], free: list[tuple[datetime, ...]], left: set[int], at_moment: dict[datetime, list[int]]
) -> Reason:
    """Why ``people[index]`` is still unplaced."""
    crowded = [[i for i in at_moment[at] if i in left] for at in free[index]]
    crowded = [who for who in crowded if len(who) >= SMALLEST]
    if not crowded:
        return Reason.NO_SLOT
    if not any(people[i].moderate for who in crowded for i in who):
        return Reason.NO_MODERATOR
    return Reason.MET_BEFORE


def met_from(circles: Iterable[Iterable[str]]) -> dict[str, frozenset[str]]:
    """Who met whom, from the people (user keys) of each circle anyone was ever in."""
    met: dict[str, set[str]] = {}
    for people in circles:
        keys = list(people)
        for key in keys:
            met.setdefault(key, set()).update(k for k in keys if k != key)
    return {key: frozenset(others) for key, others in met.items()}

