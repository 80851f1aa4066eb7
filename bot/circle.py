"""The domain: a circle, its members and what they write, as frozen values.

Platform ids stay opaque: a person is a :class:`UserRef` of (platform,
workspace, id) and the core never looks inside it beyond equality.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time

from bot.state import State

#: Fewer people than this cannot start a circle; 4 or 5 is what works best.
MIN_MEMBERS_TO_START = 2


@dataclass(frozen=True)
class UserRef:
    """A person on one platform, in one workspace (Slack team, Discord guild)."""

    platform: str
    workspace: str
    id: str

    @property
    def key(self) -> str:
        return f"{self.platform}:{self.workspace}:{self.id}"


@dataclass(frozen=True)
class Actor:
    """Who issued a command, as the adapter knows them.

    Attributes:
        user: the person.
        name: their display name.
        tz: their IANA time zone, when the platform tells it.
        is_admin: a workspace admin may run moderator commands in any circle.
    """

    user: UserRef
    name: str
    tz: str | None = None
    is_admin: bool = False


class Role(str, enum.Enum):
    MODERATOR = "moderator"
    MEMBER = "member"


@dataclass(frozen=True)
class Member:
    user: UserRef
    name: str
    role: Role
    joined_at: datetime
    tz: str | None = None
    away_until: date | None = None

    def away_on(self, day: date) -> bool:
        """Away (no DMs) through ``away_until``, inclusive."""
        return self.away_until is not None and day <= self.away_until


@dataclass(frozen=True)
class Slot:
    """The weekly meeting slot: a weekday (0 = Monday) and a local time."""

    weekday: int
    at: time


class Kind(str, enum.Enum):
    """What a timetable occurrence does when its time comes."""

    EXERCISE = "exercise"
    REMINDER = "reminder"
    CHECKIN = "checkin"
    GRADUATION = "graduation"
    TUNE_UP = "tune_up"
    RESUME = "resume"


@dataclass(frozen=True)
class Occurrence:
    """One timed step of a circle's run, e.g. week 3's exercise.

    ``number`` is the week for weekly steps, the tune-up's ordinal for
    tune-ups, and 0 for one-off steps.
    """

    kind: Kind
    number: int
    at: datetime

    @property
    def key(self) -> str:
        return f"{self.kind.value}:{self.number}"


@dataclass(frozen=True)
class CheckIn:
    week: int
    user: UserRef
    answers: tuple[str, ...]
    at: datetime


@dataclass(frozen=True)
class Commitment:
    """What a member means to do before the meeting after ``week``."""

    week: int
    user: UserRef
    text: str
    at: datetime


class Rsvp(str, enum.Enum):
    GOING = "going"
    NOT_GOING = "not_going"
    ATTENDED = "attended"


@dataclass(frozen=True)
class Attendance:
    """A member's answer about one week's meeting."""

    week: int
    user: UserRef
    rsvp: Rsvp
    at: datetime


@dataclass(frozen=True)
class RedFlag:
    """A member said they are struggling; only the moderator is told."""

    week: int
    user: UserRef
    at: datetime
    note: str = ""


@dataclass(frozen=True)
class Nudge:
    """One gentle DM to a drifting member, so the next one waits (never a stream)."""

    week: int
    user: UserRef


@dataclass(frozen=True)
class Anchor:
    """The meeting date of one week; the weeks after it follow at the kit's cadence."""

    week: int
    on: date


@dataclass(frozen=True)
class Circle:
    """One circle: who is in it, where it stands, and what happens next.

    Attributes:
        plan: occurrences still to come, in time order (empty unless running).
        done: keys of occurrences already fired or skipped, so none fires twice.
        anchor: the meeting date the plan is laid out from.
        revision: bumped on every change; storage uses it to detect races.
    """

    id: str
    platform: str
    workspace: str
    name: str
    kit_id: str
    tz: str
    slot: Slot
    created_at: datetime
    capacity: int = 5
    state: State = State.FORMING
    week: int = 0
    members: tuple[Member, ...] = ()
    checkins: tuple[CheckIn, ...] = ()
    commitments: tuple[Commitment, ...] = ()
    attendance: tuple[Attendance, ...] = ()
    red_flags: tuple[RedFlag, ...] = ()
    nudges: tuple[Nudge, ...] = ()
    plan: tuple[Occurrence, ...] = ()
    done: frozenset[str] = field(default_factory=frozenset)
    anchor: Anchor | None = None
    paused_from: State | None = None
    paused_at: datetime | None = None
    revision: int = 0

    @property
    def moderator(self) -> Member | None:
        return next((m for m in self.members if m.role is Role.MODERATOR), None)

    def member(self, user: UserRef) -> Member | None:
        return next((m for m in self.members if m.user == user), None)

    @property
    def is_full(self) -> bool:
        return len(self.members) >= self.capacity

    @property
    def next_wake(self) -> datetime | None:
        return self.plan[0].at if self.plan else None

    def checkin(self, week: int, user: UserRef) -> CheckIn | None:
        return next((c for c in self.checkins if c.week == week and c.user == user), None)

    def commitment(self, week: int, user: UserRef) -> Commitment | None:
        return next((c for c in self.commitments if c.week == week and c.user == user), None)

    def rsvp(self, week: int, user: UserRef) -> Rsvp | None:
        return next((a.rsvp for a in self.attendance if a.week == week and a.user == user), None)

    def with_member(self, member: Member) -> Circle:
        """Add ``member``, or replace the member with the same user in place."""
        if self.member(member.user) is None:
            return replace(self, members=(*self.members, member))
        return replace(self, members=tuple(member if m.user == member.user else m for m in self.members))

    def without_member(self, user: UserRef) -> Circle:
        return replace(self, members=tuple(m for m in self.members if m.user != user))
