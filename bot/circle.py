"""The domain: a circle, its members and what they write, as frozen values.

Platform ids stay opaque: a person is a :class:`UserRef` of (platform,
workspace, id) and the core never looks inside it beyond equality.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time

from bot.state import State

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
        tz: their IANA time zone, when the platform tells it (or they set their own).
        is_admin: a workspace admin may run moderator commands in any circle.
        locale: their language (``en``, ``es``, ...), when the platform tells it (or they set their own).
        dms_refused: the platform refused a direct message to them (they closed their DMs) since they were last told.
    """

    user: UserRef
    name: str
    tz: str | None = None
    is_admin: bool = False
    locale: str | None = None
    dms_refused: bool = False


class Role(str, enum.Enum):
    MODERATOR = "moderator"
    COMODERATOR = "comoderator"  # a member who may run the moderator's commands too
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
class Removal:
    """The moderator removed a member; they may not join this circle again."""

    user: UserRef
    at: datetime


@dataclass(frozen=True)
class Nudge:
    """One gentle DM to a drifting member, so the next one waits (never a stream)."""

    week: int
    user: UserRef


class StoryStatus(str, enum.Enum):
    """Where a story is on its way out of the circle: the author confirms, then the moderator approves."""

    DRAFT = "draft"
    PENDING = "pending"
    POSTED = "posted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class Story:
    """A member's story offered to the workspace's community space.

    Attributes:
        number: the story's number in its circle, used by ``share confirm <number>`` etc.
        named: the post names the author; otherwise it is anonymous.
    """

    number: int
    user: UserRef
    text: str
    named: bool
    status: StoryStatus
    at: datetime


class Consent(str, enum.Enum):
    """Where a member's consent to care after a life event stands."""

    PROPOSED = "proposed"  # a peer suggested it; the member has not answered
    GIVEN = "given"
    DECLINED = "declined"
    REVOKED = "revoked"


class Reach(str, enum.Enum):
    """How the member cared for likes to be reached."""

    MESSAGE = "message"
    CALL = "call"


@dataclass(frozen=True)
class SharedDate:
    """A date the member shared (a birthday, a holiday); a helper is reminded the day before."""

    on: date
    label: str


@dataclass(frozen=True)
class CareReminder:
    """One private reminder to a helper about a life event, planned or done.

    Attributes:
        step: which one: ``day<N>`` of the cadence, or ``date:<YYYY-MM-DD>`` for a shared date.
        sent: false when it came due too late to send; the cadence moved on without it.
    """

    step: str
    helper: UserRef
    at: datetime
    sent: bool = True


@dataclass(frozen=True)
class LifeEvent:
    """Care for one member after a loss, an illness or a hard stretch, on the member's terms.

    Attributes:
        id: the event's number in its circle.
        user: the person cared for.
        opened_at: when support opened (the member opened it or said yes); reminder days count from it.
        proposed_by: the peer who suggested it; ``None`` when the member opened it.
        consent: the member's answer; revocable at any time.
        consent_at: when the member last answered (opened, said yes or no, or ended it).
        everyone_knows: every member may know and help; otherwise only ``known_by``.
        not_now: reminders are paused; the cadence keeps its dates.
        helpers: peers who offered to help, in the order they take turns.
        reminders: reminders done (sent or skipped), oldest first.
        planned: the next reminder, or ``None`` when none can be planned now.
        told_circle: the member asked for the circle's space to be told.
    """

    id: int
    user: UserRef
    opened_at: datetime
    proposed_by: UserRef | None = None
    consent: Consent = Consent.GIVEN
    consent_at: datetime | None = None
    everyone_knows: bool = False
    known_by: tuple[UserRef, ...] = ()
    reach: Reach = Reach.MESSAGE
    not_now: bool = False
    dates: tuple[SharedDate, ...] = ()
    helpers: tuple[UserRef, ...] = ()
    reminders: tuple[CareReminder, ...] = ()
    planned: CareReminder | None = None
    told_circle: bool = False

    @property
    def is_open(self) -> bool:
        """Waiting for the member's answer, or consented to and not ended."""
        return self.consent in (Consent.PROPOSED, Consent.GIVEN)

    def may_know(self, user: UserRef) -> bool:
        """Whether the member allowed ``user`` to know (the member always knows)."""
        return user == self.user or self.everyone_knows or user in self.known_by


@dataclass(frozen=True)
class Waiting:
    """Someone in line for a seat in a full circle (bot/waitlist.py); the line is in the order they came."""

    user: UserRef
    name: str
    at: datetime
    tz: str | None = None


@dataclass(frozen=True)
class SeatOffer:
    """A freed seat held for the first in line until ``until``; nobody else may take it meanwhile."""

    user: UserRef
    name: str
    until: datetime
    tz: str | None = None


@dataclass(frozen=True)
class Anchor:
    """The meeting date of one week; the weeks after it follow at the kit's cadence."""

    week: int
    on: date


@dataclass(frozen=True)
class Held:
    """A week's meeting that was held, when it met: calendars keep past meetings where they were."""

    week: int
    at: datetime


@dataclass(frozen=True)
class Circle:
    """One circle: who is in it, where it stands, and what happens next.

    Attributes:
        id: the storage key, unique everywhere; it says nothing about the circle or its workspace.
        handle: what people see and type (``#crew``), unique within the workspace.
        life_events: care after a life event, one per member at a time (bot/care.py).
        plan: occurrences still to come, in time order (empty unless running).
        done: keys of occurrences already fired or skipped, so none fires twice.
        anchor: the meeting date the plan is laid out from.
        revision: bumped on every change; storage uses it to detect races.
        locale: the language of its posts (its creator's); ``None``: the bot's default language.
        place: where it meets, as the moderator gave it: a video-call link or a room (bot/place.py).
        held: the weeks whose meeting was held, with when it met, oldest first.
        calendar_sequence: bumped whenever a meeting in its calendar moves, is cancelled or
            comes back, or the place changes (the events' ``SEQUENCE``, bot/calendar.py).
        handover_to: the member the moderator role is offered to, until they answer.
        merge_into: the id of the circle its moderator asked to take its members in, until that circle's
            moderator answers (bot/safety.py).
        waitlist: people waiting for a seat, first in line first (bot/waitlist.py).
        seat_offers: freed seats held for people from the waitlist, until they answer or the offer lapses.
    """

    id: str
    handle: str
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
    removals: tuple[Removal, ...] = ()
    stories: tuple[Story, ...] = ()
    life_events: tuple[LifeEvent, ...] = ()
    plan: tuple[Occurrence, ...] = ()
    done: frozenset[str] = field(default_factory=frozenset)
    anchor: Anchor | None = None
    paused_from: State | None = None
    paused_at: datetime | None = None
    revision: int = 0
    locale: str | None = None
    place: str | None = None
    held: tuple[Held, ...] = ()
    calendar_sequence: int = 0
    handover_to: UserRef | None = None
    merge_into: str | None = None
    waitlist: tuple[Waiting, ...] = ()
    seat_offers: tuple[SeatOffer, ...] = ()

    @property
    def moderator(self) -> Member | None:
        return next((m for m in self.members if m.role is Role.MODERATOR), None)

    def member(self, user: UserRef) -> Member | None:
        return next((m for m in self.members if m.user == user), None)

    @property
    def open_seats(self) -> int:
        """Seats nobody has: neither a member nor someone a seat is held for."""
        return self.capacity - len(self.members) - len(self.seat_offers)

    @property
    def is_full(self) -> bool:
        return self.open_seats <= 0

    def waiting(self, user: UserRef) -> Waiting | None:
        return next((w for w in self.waitlist if w.user == user), None)

    def seat_offer(self, user: UserRef) -> SeatOffer | None:
        return next((o for o in self.seat_offers if o.user == user), None)

    def removed(self, user: UserRef) -> bool:
        return any(r.user == user for r in self.removals)

    @property
    def next_wake(self) -> datetime | None:
        """The next timetable step, care reminder or lapse of a held seat, whichever comes first (care outlasts the run)."""
        moments = [e.planned.at for e in self.life_events if e.planned] + [o.until for o in self.seat_offers]
        if self.plan:
            moments.append(self.plan[0].at)
        return min(moments, default=None)

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
