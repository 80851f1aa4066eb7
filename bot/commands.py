"""Commands: what a person asked for, parsed, as frozen data.

Every command that acts on one circle has a ``circle`` field: the circle the
person named (``#career``), or ``None`` to let the service pick it from the
place the command was typed or from the person's only circle.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.circle import Circle, Reach, Slot, UserRef
from bot.matching import Window


@dataclass(frozen=True)
class Help:
    pass


@dataclass(frozen=True)
class Me:
    """Show the person's own settings, or set their time zone or language (``None``: unchanged)."""

    tz: str | None = None
    locale: str | None = None


@dataclass(frozen=True)
class NewCircle:
    name: str
    kit: str
    tz: str
    slot: Slot
    #: places, the moderator included; ``None`` takes the kit's size
    capacity: int | None = None


@dataclass(frozen=True)
class ListCircles:
    """The directory: open circles, filtered, a page at a time (bot/directory.py); ``None``: any.

    Attributes:
        kit: only circles on this kit.
        band: only circles in this time-zone band (a key of :data:`bot.directory.BANDS`), or ``near`` the reader.
        language: only circles speaking this language.
        day: only circles meeting on this weekday (0 = Monday) in the reader's zone.
        after: the page after the circle with this handle.
    """

    kit: str | None = None
    band: str | None = None
    language: str | None = None
    day: int | None = None
    after: str | None = None


@dataclass(frozen=True)
class Stats:
    """A workspace admin asks for the workspace's aggregated statistics."""


@dataclass(frozen=True)
class SignUp:
    """Join (or update a place in) the pool of people who want to be matched into a circle.

    Attributes:
        kit: the kit they want.
        hours: when they can meet each week, in their own zone.
        tz: their zone; ``None``: the one they have (set, or the platform's).
        language: ``None``: theirs.
        strangers: they would rather meet new people (otherwise people they know).
        moderate: they volunteer to moderate.
    """

    kit: str
    hours: tuple[Window, ...]
    tz: str | None = None
    language: str | None = None
    strangers: bool = True
    moderate: bool = False


@dataclass(frozen=True)
class MySignup:
    """Show the asker's place in the pool, if any."""


@dataclass(frozen=True)
class LeavePool:
    """Leave the pool: nobody will match the asker until they sign up again."""


@dataclass(frozen=True)
class Match:
    """A workspace admin matches the pool into circles now."""


@dataclass(frozen=True)
class MatchSchedule:
    """A workspace admin sets when the pool is matched each week (``None``: no schedule)."""

    slot: Slot | None
    tz: str | None = None


@dataclass(frozen=True)
class CircleCommand:
    """Base of the commands that act on one circle."""

    circle: str | None


@dataclass(frozen=True)
class ModeratorCommand(CircleCommand):
    """Base of the commands only the circle's moderator or a workspace admin may run."""


@dataclass(frozen=True)
class Join(CircleCommand):
    """Join a circle (in line for a seat when it is full), or take the seat held for you (bot/waitlist.py).

    Attributes:
        held: only take a seat held for you (the offer's button): refused when none is.
    """

    held: bool = False


@dataclass(frozen=True)
class Leave(CircleCommand):
    """Leave a circle; someone only waiting leaves its waitlist, or passes the seat held for them.

    Attributes:
        waiting: only give up a place in line or a held seat (the offer's button), never a membership.
    """

    waiting: bool = False


@dataclass(frozen=True)
class Info(CircleCommand):
    pass


@dataclass(frozen=True)
class Next(CircleCommand):
    pass


@dataclass(frozen=True)
class Start(ModeratorCommand):
    pass


@dataclass(frozen=True)
class Pause(ModeratorCommand):
    weeks: int | None = None


@dataclass(frozen=True)
class Resume(ModeratorCommand):
    pass


@dataclass(frozen=True)
class Skip(ModeratorCommand):
    pass


@dataclass(frozen=True)
class Reschedule(ModeratorCommand):
    slot: Slot


@dataclass(frozen=True)
class Remove(ModeratorCommand):
    member: str


@dataclass(frozen=True)
class HandOver(ModeratorCommand):
    member: str


@dataclass(frozen=True)
class AnswerHandOver(CircleCommand):
    """The member the moderator role was offered to takes it (``yes``) or declines it."""

    yes: bool


@dataclass(frozen=True)
class CoModerator(ModeratorCommand):
    """Make a member co-moderator (they may run the moderator's commands), or step them back (``remove``)."""

    member: str
    remove: bool = False


@dataclass(frozen=True)
class Guide(CircleCommand):
    """The kit's moderator guide: its contents (``section`` empty), or one section by number or words of its title."""

    section: str = ""


@dataclass(frozen=True)
class Faq(CircleCommand):
    """The kit's questions (``words`` empty), or the answer closest to ``words``."""

    words: str = ""


@dataclass(frozen=True)
class Again(ModeratorCommand):
    """After graduation: form a new run of the circle and invite its members back."""

    kit: str | None = None


@dataclass(frozen=True)
class UseSpace(ModeratorCommand):
    """Meet in an existing channel the moderator names (its platform id) instead of the one made for the circle."""

    channel: str


@dataclass(frozen=True)
class Place(ModeratorCommand):
    """Where the circle meets: a checked link or a room's name (bot/place.py); ``""`` clears it, ``None`` shows it."""

    where: str | None = None


@dataclass(frozen=True)
class Close(ModeratorCommand):
    pass


@dataclass(frozen=True)
class Report(CircleCommand):
    """Tell the circle's moderators and the workspace's admins privately about a member, or one of their messages.

    Attributes:
        member: whom the report is about, as typed (a mention, an id or a name).
        what: what happened, in the reporter's words.
        excerpt: the reported message's text, when a message was reported (a platform's message action).
        link: where that message is (a permalink, or the platform's reference to it).
        admins: the workspace's admins the bot knows, filled in by the service (never typed).
    """

    member: str
    what: str = ""
    excerpt: str = ""
    link: str = ""
    admins: tuple[UserRef, ...] = ()


@dataclass(frozen=True)
class Merge(ModeratorCommand):
    """A small circle's moderator asks the moderator of ``other`` (a handle) to take its members in.

    Attributes:
        other: ``""`` lists the circles that could.
        found: that circle, filled in by the service (never typed).
        candidates: with no ``other``, the circles that could, filled in by the service.
    """

    other: str = ""
    found: Circle | None = None
    candidates: tuple[Circle, ...] = ()


@dataclass(frozen=True)
class AnswerMerge(ModeratorCommand):
    """The moderator of the circle asked answers the small circle ``other`` (a handle): ``yes`` takes its members in.

    Attributes:
        found: the small circle, filled in by the service (never typed).
    """

    other: str
    yes: bool
    found: Circle | None = None


@dataclass(frozen=True)
class Attend(CircleCommand):
    """Will the person be at a meeting? ``week``: the meeting's week (``None``: the next one)."""

    going: bool
    week: int | None = None


@dataclass(frozen=True)
class Away(CircleCommand):
    """Away until a date (inclusive): no DMs meanwhile. ``None`` means back now."""

    until: date | None = None


@dataclass(frozen=True)
class CheckInCommand(CircleCommand):
    """Answers to a week's check-in questions; none opens the form.

    Attributes:
        week: the week the answers are for (a form remembers the week it was opened in);
            ``None``: the circle's current week.
        from_form: the answers came one per field, so an empty one means "keep what I said".
    """

    answers: tuple[str, ...] = ()
    week: int | None = None
    from_form: bool = False


@dataclass(frozen=True)
class Commit(CircleCommand):
    text: str


@dataclass(frozen=True)
class Calendar(CircleCommand):
    """The circle's meetings as an iCalendar file, in the member's own zone and language.

    Attributes:
        reset: replace the member's private subscription address; the old one stops working.
        feed: that address, filled in by the service when the bot has a public URL (never typed).
    """

    reset: bool = False
    feed: str | None = None


@dataclass(frozen=True)
class Journal(CircleCommand):
    """The asker's own history in the circle: commitments and check-ins, week by week."""


@dataclass(frozen=True)
class Progress(CircleCommand):
    """The circle's progress card: every member's weeks, for the members."""


@dataclass(frozen=True)
class Struggling(CircleCommand):
    """Mark this week red: the moderator is told privately, the member gets support resources."""

    note: str = ""


@dataclass(frozen=True)
class Attended(CircleCommand):
    """Record who was at the last meeting: yourself, or (moderator) the members named."""

    members: tuple[str, ...] = ()


@dataclass(frozen=True)
class Share(CircleCommand):
    """Offer a story to the workspace's community space: a draft only the author sees until they confirm."""

    text: str
    named: bool = False


@dataclass(frozen=True)
class StoryStep(CircleCommand):
    """Base of the steps that move story ``number`` of the circle along."""

    number: int


@dataclass(frozen=True)
class ConfirmStory(StoryStep):
    """The author approves their draft; it goes to the moderator."""


@dataclass(frozen=True)
class WithdrawStory(StoryStep):
    """The author takes their story back, any time before it is posted."""


@dataclass(frozen=True)
class ApproveStory(StoryStep):
    """The moderator approves a confirmed story; it is posted."""


@dataclass(frozen=True)
class DeclineStory(StoryStep):
    """The moderator declines a confirmed story; only its author is told."""


@dataclass(frozen=True)
class Export:
    """Everything stored about the asker, across the circles of their workspace, as a file."""


@dataclass(frozen=True)
class ForgetMe:
    """Erase the asker's words and identity in every circle of their workspace; ``confirmed`` is the second step."""

    confirmed: bool = False


@dataclass(frozen=True)
class AboutSupport(CircleCommand):
    """What care after a life event is and how to open it; when it is open, your terms."""


@dataclass(frozen=True)
class OpenSupport(CircleCommand):
    """Open care after a life event for yourself; when it is open, see your terms."""


@dataclass(frozen=True)
class ProposeSupport(CircleCommand):
    """Suggest care for another member; they are asked privately and decide."""

    member: str


@dataclass(frozen=True)
class AnswerSupport(CircleCommand):
    """The member's answer to a peer's suggestion of care."""

    yes: bool


@dataclass(frozen=True)
class ShareSupportWith(CircleCommand):
    """Who in the circle may know and help: the named members, or everyone when none is named."""

    members: tuple[str, ...] = ()


@dataclass(frozen=True)
class SetReach(CircleCommand):
    reach: Reach


@dataclass(frozen=True)
class NotNow(CircleCommand):
    """Pause the reminders about you (``paused``), or resume them."""

    paused: bool


@dataclass(frozen=True)
class ShareDate(CircleCommand):
    """A date helpers are reminded of the day before; an empty ``label`` forgets the date."""

    on: date
    label: str = ""


@dataclass(frozen=True)
class TellCircle(CircleCommand):
    """The member asks for the circle's space to be told that they could use support."""


@dataclass(frozen=True)
class EndSupport(CircleCommand):
    """The member revokes their consent; every reminder stops."""


@dataclass(frozen=True)
class OfferHelp(CircleCommand):
    """A peer offers to help a member who has opened support: private reminders from now on."""

    member: str


@dataclass(frozen=True)
class StopHelping(CircleCommand):
    member: str


Command = (
    Help | NewCircle | ListCircles | Stats | Export | ForgetMe | SignUp | MySignup | LeavePool | Match | MatchSchedule
    | CircleCommand
)
