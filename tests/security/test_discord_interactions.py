"""The Discord client, against the fake Discord, answers forged and foreign interactions with a polite refusal.

A button or a form naming a circle of another guild (its real id, or a guessed
one) is refused, pressed in a server channel or in a DM (a DM names no guild: the
circle's is taken only for someone that guild's circles know). A non-member's click
and command, a member's moderator command, oversized and control-character input:
refused or cleaned. Every REST request is checked against Discord's spec, and no
stored row changes.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import pytest
from dbfixtures import stored_rows
from discordfixtures import deliver, fake, form_and_start, next_exercise, running  # noqa: F401  (fixtures)
from fakes.discord_api import FakeDiscord

from bot.actions import Action, Verb, encode_action
from bot.circle import Actor, UserRef
from bot.forming import circle_id
from bot.inputs import Request, Typed
from circlebot.wiring import Wiring, wire
from kits import builtin_kits
from scheduler.clock import SimulatedClock
from storage.database import make_engine, upgrade

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
OTHER_GUILD = "424242424242424242"
GONE = "That button belongs to a circle that is not here any more."
EPHEMERAL = 64


@pytest.fixture
def app(tmp_path) -> Wiring:
    engine = make_engine(f"sqlite:///{tmp_path}/circlebot.db")
    upgrade(engine)
    yield wire(engine, builtin_kits(), timedelta(hours=6))
    engine.dispose()


@pytest.fixture
async def crew(fake, app, monkeypatch):
    """Crew runs in the fake's guild (alice moderates, bob and carol are in it, week 1 is out); another guild
    has a circle of its own. Yields the running client."""
    clock = SimulatedClock(NOW)
    for n, who in enumerate(("mallory", "trent", "peggy")):
        line = "new Elsewhere starter UTC tue 17:00" if n == 0 else "join elsewhere"
        actor = Actor(UserRef("discord", OTHER_GUILD, str(900 + n)), who, "UTC")
        app.commands.handle(Request(actor, Typed(line), f"seed-{n}"), NOW)
    async with running(fake, app, clock, monkeypatch) as client:
        await form_and_start(fake)
        await deliver(app, client, clock)
        next_exercise(app, fake, clock)
        await deliver(app, client, clock)
        yield client


def weekly_post(fake: FakeDiscord) -> dict:
    return next(m for t in fake.threads() for m in fake.channel_messages(int(t["id"])) if "Week 1 of 4" in m["content"])


async def refusal(fake: FakeDiscord, interaction) -> str:
    """The one answer only the person sees (deferred ephemeral, then the follow-up)."""
    (answer,) = await fake.followup(interaction)
    assert answer.get("flags", 0) & EPHEMERAL, answer
    return answer["content"]


def forged(verb: Verb, circle: str) -> str:
    return encode_action(Action(verb, circle, 1, "1" if verb is Verb.STORY_APPROVE else ""))


async def test_a_forged_button_or_form_for_another_guilds_circle_is_refused_in_a_channel_and_in_a_dm(fake, app, crew):
    before = stored_rows(app.engine)
    theirs, guessed = circle_id("discord", OTHER_GUILD, "elsewhere"), secrets.token_hex(16)
    for who in ("dan", "bob"):  # a stranger to every circle, and a member of Crew
        for channel in (fake.channel_id, fake.dm_channel(who)):
            for verb in (Verb.JOIN, Verb.CHECKIN, Verb.RSVP_YES, Verb.STORY_APPROVE, Verb.STRUGGLING, Verb.CLOSE,
                         Verb.MERGE_YES):
                for circle in (theirs, guessed):
                    pressed = await fake.click(who, fake.forged_message(channel, forged(verb, circle)))
                    assert GONE in await refusal(fake, pressed), (who, channel, verb)
            form = {"custom_id": forged(Verb.SUBMIT_CHECKIN, theirs),
                    "components": [{"type": 1, "components": [{"type": 4, "custom_id": "a0"}]}]}
            submitted = await fake.submit(who, form, ["my answer"], channel=channel)
            assert GONE in await refusal(fake, submitted)
    assert stored_rows(app.engine) == before


async def test_a_non_members_click_and_command_are_refused(fake, app, crew):
    post = weekly_post(fake)
    before = stored_rows(app.engine)
    for label in ("Check in", "I'll be there", "Can't make it"):
        button = next(b["custom_id"] for row in post["components"] for b in row["components"] if b["label"] == label)
        said = await refusal(fake, await fake.click("dan", post, button))
        assert "You are not a member of \u201cCrew\u201d." in said, label
    for subcommand in ("journal", "progress", "leave"):
        said = await refusal(fake, await fake.slash("dan", subcommand, circle="crew"))
        assert "Sorry" in said, subcommand
    assert stored_rows(app.engine) == before


async def test_a_members_moderator_commands_are_refused(fake, app, crew):
    before = stored_rows(app.engine)
    for subcommand, options in (("pause", {}), ("close", {}), ("remove", {"member": "carol"}),
                                ("moderator", {"member": "bob"})):
        said = await refusal(fake, await fake.slash("bob", subcommand, "mod", circle="crew", **options))
        assert "Only the moderator of \u201cCrew\u201d can do that." in said, subcommand
    assert stored_rows(app.engine) == before


async def test_oversized_input_is_refused_and_control_characters_are_cleaned(fake, app, crew):
    before = stored_rows(app.engine)
    assert "Sorry" in await refusal(fake, await fake.slash("dan", "new", name="N" * 5000, kit="starter",
                                                           timezone="UTC", day="tue", time="17:00"))
    assert "Sorry" in await refusal(fake, await fake.click("dan", fake.forged_message(fake.channel_id, "x" * 100)))
    assert stored_rows(app.engine) == before
    opened = await fake.answered(await fake.click("bob", weekly_post(fake)))
    assert opened["type"] == 9
    before = stored_rows(app.engine)  # opening the form was a request handled
    long = ["a" * 4001] + ["fine"] * (len(opened["data"]["components"]) - 1)
    assert "too long" in await refusal(fake, await fake.submit("bob", opened["data"], long))
    assert stored_rows(app.engine) == before
    answers = ["\x1b[31mred\x00"] + ["fine\x07"] * (len(opened["data"]["components"]) - 1)
    await fake.followup(await fake.submit("bob", opened["data"], answers))
    with app.store.transaction() as tx:
        checkin = next(c for c in tx.find("discord", str(fake.guild_id), "crew").checkins)
    assert checkin.answers[0] == "[31mred" and all("\x07" not in a for a in checkin.answers)
