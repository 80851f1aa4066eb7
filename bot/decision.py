"""What every command handler shares: the decision it returns, its context, and its guards."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

from bot.circle import (
    Actor,
    Circle,
    Member,
    Role,
    UserRef,
)
from bot.effects import (
    DirectMessage,
    Effect,
    Message,
    PostInThread,
    PostToCircle,
    Reply,
    UpdatePost,
)
from bot.errors import CircleError
from bot.i18n import Text, _, join
from bot.state import LEADERS, MEMBERS, PERMISSIONS, STATE_NAMES, Party, State, may
from bot.timetable import after_quiet_hours, to_local
from bot.turns import tz_of
from kits.schema import Kit


@dataclass(frozen=True)
class Decision:
    """The outcome of a command or a tick.

    Attributes:
        circle: the circle after the change (unchanged for read-only commands).
        effects: what to do, in order.
        skipped: keys of occurrences that came due too long ago to send.
    """

    circle: Circle
    effects: tuple[Effect, ...] = ()
    skipped: tuple[str, ...] = ()


@dataclass
class Out:
    """Collects the effects of one decision and gives each delivery a unique key."""

    circle_id: str
    stem: str
    effects: list[Effect] = field(default_factory=list)

    def _key(self, suffix: str | None) -> str:
        return f"{self.circle_id}/{self.stem}/{suffix or len(self.effects)}"

    def post(self, message: Message, suffix: str | None = None) -> None:
        self.effects.append(PostToCircle(self._key(suffix), self.circle_id, message))

    def post_in_thread(self, parent: str, message: Message) -> None:
        """Post in the thread of the post keyed ``parent`` (in the space itself where the platform has no threads)."""
        self.effects.append(PostInThread(self._key(None), self.circle_id, parent, message))

    def update(self, original: str, message: Message) -> None:
        self.effects.append(UpdatePost(self._key(None), self.circle_id, original, message))

    def dm(self, to: UserRef, message: Message, suffix: str | None = None) -> None:
        self.effects.append(DirectMessage(self._key(suffix), self.circle_id, to, message))

    def reply(self, to: UserRef, message: Message) -> None:
        self.effects.append(Reply(to, message))

    def add(self, make: Callable[[str], Effect]) -> None:
        self.effects.append(make(self._key(None)))


def weekly_post_key(circle_id: str, week: int) -> str:
    """The key of a week's exercise post, which later check-ins thread under and RSVPs update."""
    return f"{circle_id}/exercise:{week}/post"


@dataclass(frozen=True)
class Context:
    actor: Actor
    now: datetime
    kit: Kit


ROLE_PARTIES = {Role.MODERATOR: Party.MODERATOR, Role.COMODERATOR: Party.COMODERATOR, Role.MEMBER: Party.MEMBER}


def parties(circle: Circle, actor: Actor) -> frozenset[Party]:
    """How ``actor`` stands towards ``circle``: member, moderator, admin, or an outsider."""
    member = circle.member(actor.user)
    found = set()
    if member is not None:
        found.add(ROLE_PARTIES[member.role])
    if actor.is_admin:
        found.add(Party.ADMIN)
    return frozenset(found or {Party.OUTSIDER})


def require_allowed(circle: Circle, command: object, actor: Actor) -> None:
    """Refuse, with the reason a person can act on, what :data:`~bot.state.PERMISSIONS` does not allow.

    Raises:
        CircleError: the actor may not run ``command`` on ``circle`` in its current state.
    """
    name, who = type(command).__name__, parties(circle, actor)
    rule = PERMISSIONS[name]  # every circle command has a row; a test checks it
    if may(name, circle.state, who):
        return
    if rule.parties & who:
        raise CircleError(
            _(
                "\u201c{name}\u201d is {state}, so you cannot {doing} now.",
                name=circle.name,
                state=STATE_NAMES[circle.state],
                doing=rule.doing,
            )
        )
    if Party.OUTSIDER in rule.parties and who & MEMBERS:
        raise CircleError(_("You are already in \u201c{name}\u201d.", name=circle.name))
    if rule.parties <= LEADERS:
        raise CircleError(_("Only the moderator of \u201c{name}\u201d can do that.", name=circle.name))
    raise CircleError(_("You are not a member of \u201c{name}\u201d.", name=circle.name))
def away_at(circle: Circle, member: Member, moment: datetime) -> bool:
    """Whether ``member`` is away at ``moment``: their away dates are days of their own calendar."""
    return member.away_on(to_local(moment, tz_of(circle, member)).date())


def reader_tz(circle: Circle, ctx: Context) -> str:
    """The zone the actor reads times in: the platform's, else the one they joined with, else the circle's."""
    member = circle.member(ctx.actor.user)
    return ctx.actor.tz or (member.tz if member else None) or circle.tz


def require_member(circle: Circle, ctx: Context) -> Member:
    member = circle.member(ctx.actor.user)
    if member is None:
        raise CircleError(_("You are not a member of \u201c{name}\u201d.", name=circle.name))
    return member


def require_state(circle: Circle, states: tuple[State, ...], doing: Text) -> None:
    if circle.state not in states:
        raise CircleError(
            _(
                "\u201c{name}\u201d is {state}, so you cannot {doing} now.",
                name=circle.name,
                state=STATE_NAMES[circle.state],
                doing=doing,
            )
        )


def find_member(circle: Circle, who: str) -> Member:
    wanted = who.strip().lstrip("<").rstrip(">").lstrip("@!").lower()
    for member in circle.members:
        if wanted in (member.user.id.lower(), member.name.lower()):
            return member
    raise CircleError(
        _(
            "No member \u201c{who}\u201d in \u201c{name}\u201d. Members: {members}.",
            who=who,
            name=circle.name,
            members=join([x.name for x in circle.members]),
        )
    )


def quiet_hours(circle: Circle, effect: Effect, now: datetime) -> Effect:
    """Hold a DM back until the end of its recipient's quiet hours, in their own zone."""
    if not isinstance(effect, DirectMessage):
        return effect
    return replace(effect, not_before=after_quiet_hours(now, person_tz(circle, effect.to)))


def person_tz(circle: Circle, user: UserRef) -> str:
    """The zone ``user`` reads ``circle``'s DMs in: theirs as a member or on its waitlist, else the circle's."""
    known = circle.member(user) or circle.waiting(user) or circle.seat_offer(user)
    return (known.tz if known else None) or circle.tz
