"""What the Discord adapter keeps lives in the database: restarts and replicas lose none of it.

The channel a circle was formed in (its private thread opens there), the pages of
a form longer than one modal, and the people whose DMs Discord refused (error
50007): such a person is told once, in the circle's thread, the next time they act.
Each test runs the real discord.py client against the fake Discord, in process,
and "restarts" by closing the client and connecting a new one on the same database.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from discordfixtures import deliver, fake, form_and_start, next_exercise, running, say  # noqa: F401  (fixtures)
from fakes.discord_api import FakeDiscord

from adapters.discord import app as discord_app
from bot.circle import UserRef
from circlebot.wiring import Wiring, wire
from kits import builtin_kits
from kits.schema import Kit
from scheduler.clock import SimulatedClock
from storage.database import make_engine, upgrade

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # a Tuesday
TOLD = "I cannot reach you by direct message"


@pytest.fixture
def app(tmp_path) -> Wiring:
    engine = make_engine(f"sqlite:///{tmp_path}/circlebot.db")
    upgrade(engine)
    yield wire(engine, {**builtin_kits(), "long": long_kit()}, timedelta(hours=6))
    engine.dispose()


def long_kit() -> Kit:
    """The starter kit asking seven questions a week: its check-in form takes two modals."""
    starter = builtin_kits()["starter"]
    weeks = tuple(w.model_copy(update={"checkin_questions": (w.checkin_questions * 7)[:7]})
                  for w in starter.weeks)
    return starter.model_copy(update={"id": "long", "weeks": weeks})


def person(fake: FakeDiscord, who: str) -> UserRef:
    return UserRef("discord", str(fake.guild_id), str(fake.person(who).id))


def dms_refused(app: Wiring, user: UserRef) -> bool:
    with app.store.transaction() as tx:
        row = tx.person(user)
    return bool(row and row.dms_refused)


def told(fake: FakeDiscord) -> list[dict]:
    return [m for t in fake.threads() for m in fake.channel_messages(int(t["id"])) if TOLD in m["content"]]


async def test_a_circle_formed_in_a_channel_opens_its_thread_there_after_a_restart(fake, app, monkeypatch):
    clock = SimulatedClock(NOW)
    circles = fake.add_text_channel("circles")  # not the server's first channel
    async with running(fake, app, clock, monkeypatch):
        await fake.followup(await fake.slash("alice", "new", channel=circles, name="Crew", kit="starter",
                                             timezone="UTC", day="tue", time="17:00"))
    # The bot restarted before its OpenSpace went out; the new process knows where Crew was formed.
    async with running(fake, app, clock, monkeypatch) as client:
        await deliver(app, client, clock)
    (thread,) = fake.threads()
    assert thread["parent_id"] == str(circles) and thread["type"] == 12


async def test_a_form_of_two_modals_keeps_its_first_page_across_a_restart(fake, app, monkeypatch):
    monkeypatch.setattr(discord_app, "ANSWER_WITHIN", 10.0)  # the form opens as the first answer
    clock = SimulatedClock(NOW)
    async with running(fake, app, clock, monkeypatch):
        await form_and_start(fake, kit="long")
        clock.set(NOW + timedelta(days=7))  # week 1's exercise is out: check-ins are open
        app.ticker.tick_due(clock.now())
        first = await fake.answered(await fake.slash("bob", "checkin"))
        assert first["type"] == 9 and len(first["data"]["components"]) == 5
        more = await fake.answered(await fake.submit("bob", first["data"], [f"answer {n}" for n in range(5)]))
        assert more["type"] == 4 and more["data"]["components"]  # a button opens the second page
    async with running(fake, app, clock, monkeypatch):
        second = await fake.answered(await fake.click("bob", {**more["data"], "channel_id": str(fake.channel_id)}))
        assert second["type"] == 9 and len(second["data"]["components"]) == 2
        done = await fake.submit("bob", second["data"], ["answer 5", "answer 6"])
        await fake.followup(done)
    with app.store.transaction() as tx:
        crew = tx.find("discord", str(fake.guild_id), "crew")
    (checkin,) = [c for c in crew.checkins if c.user == person(fake, "bob")]
    assert checkin.answers == tuple(f"answer {n}" for n in range(7))


async def test_a_member_whose_dms_are_refused_is_told_once_in_the_thread_the_next_time_they_act(fake, app,
                                                                                                 monkeypatch):
    clock = SimulatedClock(NOW)
    alice = person(fake, "alice")
    async with running(fake, app, clock, monkeypatch) as client:
        await form_and_start(fake)
        await deliver(app, client, clock)
        welcomed = len(fake.dms_to("alice"))  # the moderator's guide, when she formed the circle
        fake.people["alice"].dms_open = False
        next_exercise(app, fake, clock)  # week 1: the moderator's notes go to alice's DMs, which refuse them
        await deliver(app, client, clock)
        assert dms_refused(app, alice) and len(fake.dms_to("alice")) == welcomed and told(fake) == []
        assert "parked" in str(app.outbox.counts())
    async with running(fake, app, clock, monkeypatch) as client:  # a restart changes nothing: the flag is stored
        await say(fake, "alice", "info")
        await deliver(app, client, clock)
        (notice,) = told(fake)
        assert "Alice," in notice["content"] and "privacy settings" in notice["content"]
        assert not dms_refused(app, alice)
        await say(fake, "alice", "info")  # said once per refusal
        await deliver(app, client, clock)
        assert len(told(fake)) == 1
        # She opens her DMs; the next DM that reaches her clears a refusal not yet told.
        fake.people["alice"].dms_open = True
        with app.store.transaction() as tx:
            tx.set_person(alice, dms_refused=True)
        next_exercise(app, fake, clock)
        await deliver(app, client, clock)
        assert fake.dms_to("alice") and not dms_refused(app, alice)


async def test_the_notice_is_in_the_circles_language(fake, app, monkeypatch):
    clock = SimulatedClock(NOW)
    async with running(fake, app, clock, monkeypatch) as client:
        await fake.followup(await fake.slash("alice", "new", locale="es-ES", name="Crew", kit="starter",
                                             timezone="UTC", day="tue", time="17:00"))
        await say(fake, "bob", "join", circle="crew")
        with app.store.transaction() as tx:
            tx.set_person(person(fake, "bob"), dms_refused=True)
        await say(fake, "bob", "info")  # bob reads English; the circle, and its thread, speak Spanish
        await deliver(app, client, clock)
    (notice,) = [m for t in fake.threads() for m in fake.channel_messages(int(t["id"]))
                 if "No puedo escribirte por mensaje directo" in m["content"]]
    assert notice["content"].count("Bob,") == 1
