"""Table tests of the circle state machine (bot/state.py).

Every (state, event) pair is covered: the allowed ones come straight from
``TRANSITIONS``; every other pair must raise ``CircleError`` with a sentence a
person can read.
"""

from __future__ import annotations

import itertools

import pytest

from bot.errors import CircleError
from bot.i18n import render
from bot.state import EVENT_NAMES, PREVIOUS, STATE_NAMES, TRANSITIONS, Event, State, transition

ALLOWED = [(state, event, target) for state, row in TRANSITIONS.items() for event, target in row.items()]
ILLEGAL = [(s, e) for s, e in itertools.product(State, Event) if e not in TRANSITIONS[s]]
PAUSABLE = [s for s in State if Event.PAUSE in TRANSITIONS[s]]


def _id(value) -> str:
    return value.value if hasattr(value, "value") else str(value)


def test_table_covers_every_state():
    assert set(TRANSITIONS) == set(State)
    assert set(STATE_NAMES) == set(State)
    assert set(EVENT_NAMES) == set(Event)


DOCUMENTED = [
    (State.FORMING, Event.START, State.ACTIVE),
    (State.FORMING, Event.CLOSE, State.CLOSED),
    (State.ACTIVE, Event.PAUSE, State.PAUSED),
    (State.ACTIVE, Event.GRADUATE, State.GRADUATED),
    (State.ACTIVE, Event.CLOSE, State.CLOSED),
    (State.PAUSED, Event.CLOSE, State.CLOSED),
    (State.GRADUATED, Event.PAUSE, State.PAUSED),
    (State.GRADUATED, Event.TUNE_UP, State.FOLLOWING_UP),
    (State.GRADUATED, Event.CLOSE, State.CLOSED),
    (State.FOLLOWING_UP, Event.PAUSE, State.PAUSED),
    (State.FOLLOWING_UP, Event.TUNE_UP, State.FOLLOWING_UP),
    (State.FOLLOWING_UP, Event.CLOSE, State.CLOSED),
]


def test_table_is_exactly_the_documented_diagram():
    """The diagram in the module docstring, written out independently of the table; resume is the only PREVIOUS."""
    assert sorted(ALLOWED, key=str) == sorted([*DOCUMENTED, (State.PAUSED, Event.RESUME, PREVIOUS)], key=str)
    assert len(ALLOWED) + len(ILLEGAL) == len(State) * len(Event)


@pytest.mark.parametrize(("state", "event", "target"), [a for a in ALLOWED if a[2] != PREVIOUS], ids=_id)
def test_allowed_transition_reaches_its_target(state, event, target):
    assert transition(state, event) is target
    # paused_from only matters for resume.
    assert transition(state, event, paused_from=State.GRADUATED) is target


@pytest.mark.parametrize(("state", "event"), ILLEGAL, ids=_id)
def test_illegal_transition_raises_a_human_sentence(state, event):
    with pytest.raises(CircleError) as caught:
        transition(state, event, paused_from=State.ACTIVE)
    text = render(caught.value.text)
    assert text == f"A circle that is {render(STATE_NAMES[state])} cannot {render(EVENT_NAMES[event])}."
    assert "{" not in text


def test_closed_is_final():
    for event in Event:
        with pytest.raises(CircleError):
            transition(State.CLOSED, event)


@pytest.mark.parametrize("paused_from", PAUSABLE, ids=_id)
def test_resume_returns_to_the_state_paused_from(paused_from):
    paused = transition(paused_from, Event.PAUSE)
    assert paused is State.PAUSED
    assert transition(paused, Event.RESUME, paused_from=paused_from) is paused_from


def test_resume_without_a_remembered_state_goes_back_to_active():
    assert transition(State.PAUSED, Event.RESUME) is State.ACTIVE


def test_pausable_states_are_the_running_ones():
    assert set(PAUSABLE) == {State.ACTIVE, State.GRADUATED, State.FOLLOWING_UP}
