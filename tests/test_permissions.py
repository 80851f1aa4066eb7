"""One table says who may do what when (bot/state.py PERMISSIONS); every state x command x role obeys it.

Driven through the command service on SQLite, as an adapter would: whenever the
table refuses, the person is told so and not one stored row changes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from dbfixtures import stored_rows
from requesting import run
from sqlalchemy import MetaData

from bot.circle import Actor, UserRef
from bot.decision import parties
from bot.effects import Reply
from bot.forming import circle_id
from bot.grammar import parse
from bot.i18n import render
from bot.state import PERMISSIONS, State, may
from circlebot.wiring import wire
from kits import builtin_kits
from storage.database import make_engine, upgrade

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
MODERATOR, MEMBER, OTHER = (Actor(UserRef("slack", "T1", n), n.title(), "UTC") for n in ("maya", "ben", "cleo"))
ADMIN = Actor(UserRef("slack", "T1", "root"), "Root", "UTC", is_admin=True)
OUTSIDER = Actor(UserRef("slack", "T1", "olga"), "Olga", "UTC")
ROLES = {"moderator": MODERATOR, "member": MEMBER, "admin": ADMIN, "outsider": OUTSIDER}

#: One typed line for each command that acts on a circle (``{c}``: the circle's handle).
LINES = {
    "AboutSupport": "support #{c}", "Again": "again #{c}", "AnswerSupport": "support #{c} yes",
    "ApproveStory": "share #{c} approve 1", "Attend": "rsvp #{c} yes", "Attended": "attended #{c}",
    "Away": "away #{c} back", "CheckInCommand": "checkin #{c} fine | good | call Sam", "Close": "close #{c}",
    "Commit": "commit #{c} call Sam", "ConfirmStory": "share #{c} confirm 1", "DeclineStory": "share #{c} decline 1",
    "EndSupport": "support #{c} end", "HandOver": "moderator #{c} cleo", "Info": "info #{c}", "Join": "join #{c}",
    "Journal": "journal #{c}", "Leave": "leave #{c}", "Next": "next #{c}", "NotNow": "support #{c} notnow",
    "OfferHelp": "support #{c} help cleo", "OpenSupport": "support #{c} open", "Pause": "pause #{c}",
    "Progress": "progress #{c}", "ProposeSupport": "support #{c} for cleo", "Remove": "remove #{c} cleo",
    "Reschedule": "reschedule #{c} wed 18:00", "Resume": "resume #{c}", "SetReach": "support #{c} reach call",
    "Share": "share #{c} a story", "ShareDate": "support #{c} date 2027-01-10 a birthday",
    "ShareSupportWith": "support #{c} who all", "Skip": "skip #{c}", "Start": "start #{c}",
    "StopHelping": "support #{c} stop cleo", "Struggling": "struggling #{c}", "TellCircle": "support #{c} tell circle",
    "WithdrawStory": "share #{c} withdraw 1", "UseSpace": "space #{c} C0ROOM", "Calendar": "calendar #{c}",
    "Place": "place #{c} https://meet.example.com/crew",
    "AnswerHandOver": "moderator #{c} accept", "CoModerator": "comod #{c} cleo", "Faq": "faq #{c} leave",
    "Guide": "guide #{c} 2", "Report": "report #{c} cleo",
    "Merge": "merge #{c} elsewhere", "AnswerMerge": "merge #{c} accept elsewhere",
}


def test_every_command_in_the_table_has_a_line_here():
    assert set(LINES) == set(PERMISSIONS)
    assert all(type(parse("/circle " + line.format(c="crew"))).__name__ == name for name, line in LINES.items())


def snapshot(engine, tables: MetaData) -> dict[str, list[str]]:
    """Every stored row but the bookkeeping of request ids and who was asked for a zone."""
    return stored_rows(engine, tables, leave_out=("handled_requests", "people"))


def circle_in(state: State, tmp_path):
    """A fresh database holding one starter circle in ``state``: maya moderates, ben and cleo are members."""
    engine = make_engine(f"sqlite:///{tmp_path}/{state.value}.db")
    upgrade(engine)
    app = wire(engine, builtin_kits(), timedelta(hours=6))
    run(app.commands, MODERATOR, '/circle new "Crew" starter UTC tue 17:00', T0)
    for person in (MEMBER, OTHER):
        run(app.commands, person, "/circle join crew", T0)
    key = circle_id("slack", "T1", "crew")
    now = T0
    if state is not State.FORMING:
        run(app.commands, MODERATOR, "/circle start", T0)
    while state in (State.GRADUATED, State.FOLLOWING_UP):
        with app.store.transaction() as tx:
            circle = tx.load(key)
        if circle.state is state:
            break
        now = circle.next_wake
        app.ticker.tick_due(now)
    if state is State.PAUSED:
        run(app.commands, MODERATOR, "/circle pause", now)
    if state is State.CLOSED:
        run(app.commands, MODERATOR, "/circle close", now)
    with app.store.transaction() as tx:
        circle = tx.load(key)
    assert circle.state is state
    return app, circle, now


@pytest.mark.parametrize("state", list(State), ids=lambda s: s.value)
def test_a_refusal_from_the_table_changes_nothing(state, tmp_path):
    app, circle, now = circle_in(state, tmp_path)
    tables = MetaData()
    tables.reflect(app.engine)
    refused = 0
    for name, line in LINES.items():
        for role, actor in ROLES.items():
            if may(name, state, parties(circle, actor)):
                continue
            before = snapshot(app.engine, tables)
            responses = run(app.commands, actor, "/circle " + line.format(c="crew"), now)
            assert [render(r.message.title) for r in responses if isinstance(r, Reply)][:1] == ["Sorry"], (name, role)
            assert snapshot(app.engine, tables) == before, (name, role, state)
            refused += 1
    assert refused  # every state refuses someone something


def test_the_table_lets_the_moderator_start_and_an_outsider_join_a_forming_circle():
    assert may("Start", State.FORMING, frozenset(parties_of("moderator")))
    assert not may("Start", State.ACTIVE, frozenset(parties_of("moderator")))
    assert may("Join", State.FORMING, frozenset(parties_of("outsider")))
    assert not may("Remove", State.CLOSED, frozenset(parties_of("admin")))


def parties_of(role: str):
    from bot.state import Party

    return {"moderator": {Party.MODERATOR}, "outsider": {Party.OUTSIDER}, "admin": {Party.ADMIN}}[role]
