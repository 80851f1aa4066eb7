"""Every state a circle can be in and every transition between them, in one place.

    forming --start--> active --graduate--> graduated --tune_up--> following_up
       |                  |  ^                  |                     |   |
       |                pause resume          pause ...             tune_up (last)
       |                  v  |                                        v
       +---close------> paused ----close----> closed <----close-------+

``paused`` remembers the state it was entered from and ``resume`` returns there.
A transition missing from :data:`TRANSITIONS` is illegal: :func:`transition`
raises a :class:`~bot.errors.CircleError` with a human sentence, and the caller
changes nothing.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from bot.errors import CircleError
from bot.i18n import Text, _


class State(str, enum.Enum):
    FORMING = "forming"
    ACTIVE = "active"
    PAUSED = "paused"
    GRADUATED = "graduated"
    FOLLOWING_UP = "following_up"
    CLOSED = "closed"


class Event(str, enum.Enum):
    START = "start"
    PAUSE = "pause"
    RESUME = "resume"
    GRADUATE = "graduate"
    TUNE_UP = "tune_up"
    CLOSE = "close"


#: Marks a transition that returns to the state the circle was paused from.
PREVIOUS = "previous"

TRANSITIONS: dict[State, dict[Event, State | str]] = {
    State.FORMING: {Event.START: State.ACTIVE, Event.CLOSE: State.CLOSED},
    State.ACTIVE: {
        Event.PAUSE: State.PAUSED,
        Event.GRADUATE: State.GRADUATED,
        Event.CLOSE: State.CLOSED,
    },
    State.PAUSED: {Event.RESUME: PREVIOUS, Event.CLOSE: State.CLOSED},
    State.GRADUATED: {
        Event.PAUSE: State.PAUSED,
        Event.TUNE_UP: State.FOLLOWING_UP,
        Event.CLOSE: State.CLOSED,
    },
    State.FOLLOWING_UP: {
        Event.PAUSE: State.PAUSED,
        Event.TUNE_UP: State.FOLLOWING_UP,
        Event.CLOSE: State.CLOSED,
    },
    State.CLOSED: {},
}

STATE_NAMES: dict[State, Text] = {
    State.FORMING: _("forming (not started yet)"),
    State.ACTIVE: _("running"),
    State.PAUSED: _("paused"),
    State.GRADUATED: _("graduated"),
    State.FOLLOWING_UP: _("in its tune-up weeks"),
    State.CLOSED: _("closed"),
}

EVENT_NAMES: dict[Event, Text] = {
    Event.START: _("start"),
    Event.PAUSE: _("pause"),
    Event.RESUME: _("resume"),
    Event.GRADUATE: _("graduate"),
    Event.TUNE_UP: _("hold a tune-up"),
    Event.CLOSE: _("close"),
}


def transition(state: State, event: Event, paused_from: State | None = None) -> State:
    """The state after ``event``.

    Args:
        state: the circle's state now.
        event: what happens to it.
        paused_from: for ``resume``, the state the circle was paused from.

    Raises:
        CircleError: ``event`` is not allowed in ``state``.
    """
    target = TRANSITIONS[state].get(event)
    if target is None:
        raise CircleError(
            _(
                "A circle that is {state} cannot {event}.",
                state=STATE_NAMES[state],
                event=EVENT_NAMES[event],
            )
        )
    if target == PREVIOUS:
        return paused_from or State.ACTIVE
    return State(target)


# ------------------------------------------------------------ who may do what, when


class Party(str, enum.Enum):
    """How the person running a command stands towards the circle."""

    OUTSIDER = "outsider"  # not a member (and not a workspace admin)
    MEMBER = "member"
    MODERATOR = "moderator"
    COMODERATOR = "comoderator"  # a member the moderator asked to share the role
    ADMIN = "admin"  # a workspace admin, member or not


F, A, P, G, U, C = (State.FORMING, State.ACTIVE, State.PAUSED, State.GRADUATED, State.FOLLOWING_UP, State.CLOSED)
EVERY_STATE = frozenset(State)
OPEN_STATES = frozenset({F, A, P, G, U})  # every state but closed
MEMBERS = frozenset({Party.MEMBER, Party.MODERATOR, Party.COMODERATOR})
#: Who runs the circle week to week: the moderator, a co-moderator, a workspace admin.
LEADERS = frozenset({Party.MODERATOR, Party.COMODERATOR, Party.ADMIN})
#: Who decides about the circle itself (its roles, its end): the moderator or a workspace admin.
OWNERS = frozenset({Party.MODERATOR, Party.ADMIN})


@dataclass(frozen=True)
class Rule:
    """Who may run a command, in which states; ``doing`` names it in a refusal."""

    parties: frozenset[Party]
    states: frozenset[State]
    doing: Text


def _rule(parties: frozenset[Party], states: frozenset[State], doing: Text) -> Rule:
    return Rule(frozenset(parties), frozenset(states), doing)


_SUPPORT = _("change your support")

#: For each command that acts on one circle (by class name), who may run it in which state.
#: Checked once, before any handler runs; a handler may still refuse for a finer reason
#: (an answer too long, a date passed). A command missing here is refused.
PERMISSIONS: dict[str, Rule] = {
    # Finding and joining
    "Join": _rule({Party.OUTSIDER, Party.ADMIN}, {F, A}, _("join")),
    "Info": _rule(set(Party), EVERY_STATE, _("see it")),  # outsiders see only what they need to decide to join
    "Leave": _rule(set(Party), OPEN_STATES, _("leave")),  # someone only waiting leaves the waitlist
    "Next": _rule(MEMBERS, {A, P, G, U}, _("see what comes next")),
    # The weekly rhythm
    "CheckInCommand": _rule(MEMBERS, {A}, _("check in")),
    "Commit": _rule(MEMBERS, {A}, _("make a commitment")),
    "Attend": _rule(MEMBERS, {A}, _("answer for a meeting")),
    "Attended": _rule(MEMBERS, {A}, _("record attendance")),
    "Away": _rule(MEMBERS, OPEN_STATES, _("set an away date")),
    "Journal": _rule(MEMBERS, {A, P, G, U, C}, _("read your journal")),
    "Calendar": _rule(MEMBERS, EVERY_STATE, _("get the calendar")),
    "Progress": _rule(MEMBERS | {Party.ADMIN}, {A, P, G, U, C}, _("see the progress card")),
    "Struggling": _rule(MEMBERS, EVERY_STATE, _("ask for support")),  # after the end too: resources still help
    "Report": _rule(MEMBERS, EVERY_STATE, _("report a member")),  # privately; a member's own word
    # Stories: the author confirms, the moderator approves
    "Share": _rule(MEMBERS, OPEN_STATES, _("share a story")),
    "ConfirmStory": _rule(MEMBERS, EVERY_STATE, _("confirm a story")),
    "WithdrawStory": _rule(MEMBERS, EVERY_STATE, _("withdraw a story")),
    "ApproveStory": _rule(LEADERS, EVERY_STATE, _("approve a story")),
    "DeclineStory": _rule(LEADERS, EVERY_STATE, _("decline a story")),
    # Care after a life event outlasts the run
    **{
        name: _rule(MEMBERS, EVERY_STATE, _SUPPORT)
        for name in (
            "AboutSupport", "OpenSupport", "ProposeSupport", "AnswerSupport", "ShareSupportWith", "SetReach", "NotNow",
            "ShareDate", "TellCircle", "EndSupport", "OfferHelp", "StopHelping",
        )
    },
    # The moderator's (or a workspace admin's)
    "Start": _rule(LEADERS, {F}, EVENT_NAMES[Event.START]),
    "Pause": _rule(LEADERS, {A, G, U}, EVENT_NAMES[Event.PAUSE]),
    "Resume": _rule(LEADERS, {P}, EVENT_NAMES[Event.RESUME]),
    "Skip": _rule(LEADERS, {A}, _("skip a meeting")),
    "Reschedule": _rule(LEADERS, OPEN_STATES, _("reschedule")),
    "Remove": _rule(LEADERS, OPEN_STATES, _("remove a member")),
    "HandOver": _rule(OWNERS, OPEN_STATES, _("hand over the moderator role")),
    "AnswerHandOver": _rule(MEMBERS, OPEN_STATES, _("answer the offer of the moderator role")),
    "CoModerator": _rule(OWNERS, OPEN_STATES, _("choose a co-moderator")),
    "Again": _rule(LEADERS, {G, U, C}, _("go again")),
    "UseSpace": _rule(LEADERS, OPEN_STATES, _("choose where the circle meets")),
    "Place": _rule(LEADERS, OPEN_STATES, _("set the meeting place")),
    "Close": _rule(OWNERS, OPEN_STATES, EVENT_NAMES[Event.CLOSE]),
    # A circle grown small joins up with another of the same kit and week, if that one's moderator agrees
    "Merge": _rule(OWNERS, {A, P}, _("ask another circle to take its members in")),
    "AnswerMerge": _rule(OWNERS, {A}, _("answer a request to take in members")),
    # The kit's help, for the circle
    "Faq": _rule(set(Party), EVERY_STATE, _("read the questions")),
    "Guide": _rule(MEMBERS | LEADERS, EVERY_STATE, _("read the moderator guide")),
}


def may(command: str, state: State, parties: frozenset[Party]) -> bool:
    """Whether someone standing as ``parties`` may run ``command`` in ``state``."""
    rule = PERMISSIONS.get(command)
    return rule is not None and state in rule.states and bool(rule.parties & parties)
