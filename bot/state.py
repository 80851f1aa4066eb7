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
