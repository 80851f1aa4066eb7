"""Circles of one workspace (Slack team, Discord guild) are out of reach from every other, through the command service.

In each of two workspaces a circle is called ``#crew``. From the second, people
press every kind of button naming the first's circle (its real id, which anyone
who knows a workspace id and a handle can compute, or a guessed one), submit its
check-in form, type its handle, and type in its space. Everything is refused or
reaches their own circle; no answer of the first circle shows; no row changes.
"""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime, timedelta

import pytest
from dbfixtures import stored_rows
from fakes.sender import RecordingSender
from requesting import run

from bot.actions import PERSONAL_VERBS, Action, Verb, encode_action
from bot.circle import Actor, UserRef
from bot.effects import Reply, Response
from bot.forming import circle_id
from bot.i18n import render
from bot.inputs import Pressed, Submitted
from circlebot.wiring import Wiring, wire
from kits import builtin_kits
from storage.database import make_engine, upgrade

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
SECRET = "only the first crew may read this"
#: The item each verb's action carries (a story's number, a member's platform id); the others carry none.
ITEMS = {Verb.STORY_CONFIRM: "1", Verb.STORY_WITHDRAW: "1", Verb.STORY_APPROVE: "1", Verb.STORY_DECLINE: "1",
         Verb.OFFER_HELP: "ben", Verb.STOP_REMINDERS: "ben"}


def said(responses: list[Response]) -> str:
    return "\n".join(render(part) for r in responses if isinstance(r, Reply)
                     for part in (r.message.title or "", *r.message.lines))


def refused(responses: list[Response]) -> bool:
    return said(responses).startswith("Sorry")


class Two:
    """Two workspaces on one platform, each with a running circle called ``#crew``."""

    def __init__(self, platform: str, app: Wiring):
        self.platform, self.app = platform, app
        self.maya, self.ben, self.cleo = (self.person(n, "W1") for n in ("maya", "ben", "cleo"))
        self.eve, self.zoe, self.yan = (self.person(n, "W2") for n in ("eve", "zoe", "yan"))
        self.ben_elsewhere = self.person("ben", "W2")  # the same platform id, in the other workspace
        self.admin_elsewhere = Actor(UserRef(platform, "W2", "root"), "Root", "UTC", is_admin=True)
        self.first, self.second = circle_id(platform, "W1", "crew"), circle_id(platform, "W2", "crew")
        self.now = T0

    def person(self, name: str, workspace: str) -> Actor:
        return Actor(UserRef(self.platform, workspace, name), name.title(), "UTC")

    def say(self, actor: Actor, what, channel: str | None = None) -> list[Response]:
        return run(self.app.commands, actor, what, self.now, channel)


@pytest.fixture(scope="module", params=["slack", "discord"])
def two(request, tmp_path_factory) -> Two:
    """Made once a platform: every test here leaves its rows as they were (a refusal changes nothing)."""
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('two')}/circlebot.db")
    upgrade(engine)
    two = Two(request.param, wire(engine, builtin_kits(), timedelta(hours=6)))
    for moderator, members in ((two.maya, (two.ben, two.cleo)), (two.eve, (two.zoe, two.yan))):
        assert not refused(two.say(moderator, '/circle new "Crew" starter UTC tue 17:00'))
        for member in members:
            assert not refused(two.say(member, "/circle join crew"))
        assert not refused(two.say(moderator, "/circle start"))
    asyncio.run(two.app.runner(RecordingSender()).run_due(T0))  # the spaces open (channel "C-<circle id>")
    with two.app.store.transaction() as tx:
        two.now = tx.load(two.first).next_wake + timedelta(hours=1)  # week 1's exercise is out; check-ins open
    two.app.ticker.tick_due(two.now)
    assert not refused(two.say(two.ben, f"/circle checkin {SECRET} | fine | call Sam"))
    assert not refused(two.say(two.ben, f"/circle share {SECRET}"))
    yield two
    engine.dispose()


def forged(verb: Verb, circle: str) -> Pressed | Submitted:
    action = encode_action(Action(verb, circle, 1, ITEMS.get(verb, "")))
    return Submitted(action, ("a", "b", "c")) if verb is Verb.SUBMIT_CHECKIN else Pressed(action)


@pytest.mark.parametrize("verb", [v for v in Verb if v not in PERSONAL_VERBS], ids=lambda v: v.name.lower())
def test_every_button_naming_another_workspaces_circle_is_refused_and_changes_nothing(two, verb):
    before = stored_rows(two.app.engine)
    guessed = secrets.token_hex(16)
    for someone in (two.eve, two.ben_elsewhere, two.admin_elsewhere):
        for circle in (two.first, guessed, circle_id(two.platform, "W1", "crew-2")):
            responses = two.say(someone, forged(verb, circle))
            assert refused(responses), (someone.user, verb, circle)
            assert SECRET not in said(responses)
    assert stored_rows(two.app.engine) == before


@pytest.mark.parametrize("line", ["info #crew", "journal #crew", "progress #crew", "next #crew", "support #crew"])
def test_a_handle_typed_elsewhere_names_that_workspaces_own_circle(two, line):
    """``#crew`` in the second workspace is the second crew: the first one's answers and stories never show."""
    before = stored_rows(two.app.engine, leave_out=("handled_requests",))  # eve's own reads are handled requests
    for someone in (two.eve, two.ben_elsewhere):
        assert SECRET not in said(two.say(someone, f"/circle {line}"))
    assert stored_rows(two.app.engine, leave_out=("handled_requests",)) == before


@pytest.mark.parametrize("line", ["info", "journal", "checkin x | y | z", "leave", "pause", "close", "join"])
def test_typing_in_another_workspaces_circle_space_reaches_nothing(two, line):
    """A forged request naming the first crew's space as its channel: refused, whoever sends it from elsewhere."""
    before = stored_rows(two.app.engine)
    for someone in (two.eve, two.zoe, two.ben_elsewhere, two.admin_elsewhere):
        responses = two.say(someone, f"/circle {line}", channel=f"C-{two.first}")
        assert refused(responses) and SECRET not in said(responses), (someone.user, line)
    assert stored_rows(two.app.engine) == before


def test_moderator_commands_of_another_workspace_admin_are_refused(two):
    """Being an admin of one workspace gives no rights over another's circles, named by a forged button or not."""
    before = stored_rows(two.app.engine)
    for verb in (Verb.STORY_APPROVE, Verb.STORY_DECLINE, Verb.OFFER_HELP):
        assert refused(two.say(two.admin_elsewhere, forged(verb, two.first)))
    assert stored_rows(two.app.engine) == before
