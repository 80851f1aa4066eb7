"""The interaction router in-process, on the real discord.py client and the fake Discord.

Deadlines (answer at once or defer and follow up), autocomplete, replies that
stay (DMs, or here when DMs are closed), and a form that could not open as the
first answer (a button opens it instead).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import discord
import pytest
from discordfixtures import connected, deliver, fake  # noqa: F401  (fixtures)
from fakes.discord_api import FakeDiscord

from adapters.discord import app as discord_app
from adapters.discord.app import CircleClient, Lookups
from bot.state import State
from circlebot.wiring import wire
from kits import builtin_kits
from scheduler.clock import SimulatedClock
from storage.database import make_engine, upgrade

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
async def bot(fake, tmp_path, monkeypatch):
    engine = make_engine(f"sqlite:///{tmp_path}/circlebot.db")
    upgrade(engine)
    app = wire(engine, builtin_kits(), timedelta(hours=6))
    clock = SimulatedClock(NOW)
    client = CircleClient(app.commands, sorted(app.kits), Lookups(app.store), clock.now)
    client.app, client.clock = app, clock  # for tests that move time
    async with connected(fake, client, monkeypatch):
        yield client
    engine.dispose()


async def reply_of(fake: FakeDiscord, interaction) -> str:
    return (await fake.followup(interaction))[0]["content"]


async def test_autocomplete_offers_zones_kits_and_the_persons_circles(fake, bot):
    zones = await fake.answered(await fake.autocomplete("alice", "new", "timezone", "lond"))
    assert zones["type"] == 8 and {"name": "Europe/London", "value": "Europe/London"} in zones["data"]["choices"]
    kits = await fake.answered(await fake.autocomplete("alice", "new", "kit", ""))
    assert [c["value"] for c in kits["data"]["choices"]] == sorted(builtin_kits())
    await reply_of(fake, await fake.slash("alice", "new", name="Crew", kit="starter", timezone="UTC", day="tue",
                                          time="17:00"))
    mine = await fake.answered(await fake.autocomplete("alice", "info", "circle", "cr"))
    assert [c["value"] for c in mine["data"]["choices"]] == ["crew"]


async def test_an_answer_is_deferred_at_once_then_follows_up(fake, bot):
    asked = await fake.slash("bob", "help")
    assert (await fake.answered(asked)) == {"type": 5, "data": {"flags": 64}}
    (answer,) = await fake.followup(asked)
    assert "/circle" in answer["content"] and answer["flags"] & 64


async def test_a_lasting_reply_goes_to_dms_or_stays_here_when_they_are_closed(fake, bot):
    exported = await fake.slash("bob", "export", "data")
    assert (await fake.followup(exported))[0]["content"] == "\U0001f4ec"
    await fake.wait_for(lambda: fake.dms_to("bob"))
    fake.people["carol"].dms_open = False
    here = await reply_of(fake, await fake.slash("carol", "export", "data"))
    assert here != "\U0001f4ec" and not fake.dms_to("carol")


async def test_a_form_that_cannot_open_first_opens_from_a_button(fake, bot, monkeypatch):
    await reply_of(fake, await fake.slash("alice", "new", name="Crew", kit="starter", timezone="UTC", day="tue",
                                          time="17:00"))
    for who in ("bob", "carol"):
        await reply_of(fake, await fake.slash(who, "join", circle="crew"))
    await reply_of(fake, await fake.slash("alice", "start", "mod"))
    bot.clock.set(NOW + timedelta(days=7))  # week 1's exercise is out: check-ins are open
    bot.app.ticker.tick_due(bot.clock.now())
    monkeypatch.setattr(discord_app, "ANSWER_WITHIN", 0.0)
    asked = await fake.slash("bob", "checkin")
    (offer,) = await fake.followup(asked)
    pressed = await fake.click("bob", {**offer, "channel_id": str(fake.channel_id)})
    form = await fake.answered(pressed)
    assert form["type"] == 9
    submitted = await fake.submit("bob", form["data"], ["fine"] * len(form["data"]["components"]))
    assert (await fake.answered(submitted))["type"] in (4, 5)


async def test_manage_server_may_run_a_circles_moderator_commands_and_others_may_not(fake, bot):
    await reply_of(fake, await fake.slash("bob", "new", name="Crew", kit="starter", timezone="UTC", day="tue",
                                          time="17:00"))
    refused = await reply_of(fake, await fake.slash("carol", "pause", "mod", circle="crew"))
    assert "Only the moderator of \u201cCrew\u201d can do that." in refused
    # alice owns the server (Manage Server): the core treats her as a workspace admin.
    answer = await reply_of(fake, await fake.slash("alice", "close", "mod", circle="crew"))
    assert "Only the moderator" not in answer and "time zone" in answer  # she is asked her zone, once
    with bot.app.store.transaction() as tx:
        assert tx.find("discord", str(fake.guild_id), "crew").state is State.CLOSED


async def test_an_answer_after_the_tokens_15_minutes_goes_to_a_dm(fake, bot, monkeypatch):
    monkeypatch.setattr("fakes.discord_api.TOKEN_LIFETIME", 0.0)  # every follow-up is too late
    await fake.answered(await fake.slash("bob", "help"))
    (dm,) = await fake.wait_for(lambda: fake.dms_to("bob"))
    assert "/circle" in dm["content"]


async def test_each_member_reads_in_their_own_language_and_gets_their_calendar_as_a_file(fake, bot):
    """Discord's interaction locale gives each reply its language unless the person chose one; a calendar
    arrives in their DMs as an attachment that parses back to the timetable, before and after a reschedule."""
    from tests.test_calendar import assert_matches_timetable

    await reply_of(fake, await fake.slash("alice", "new", name="Crew", kit="starter", timezone="Europe/London",
                                          day="tue", time="17:00"))
    await reply_of(fake, await fake.slash("bob", "me", "data", timezone="America/New_York", locale="es-ES"))
    for who, locale in (("bob", "es-ES"), ("carol", "de"), ("dan", "de")):
        await reply_of(fake, await fake.slash(who, "join", circle="crew", locale=locale))
    chosen = await reply_of(fake, await fake.slash("dan", "me", "data", language="es", locale="de"))
    assert "Idioma: español" in chosen  # his own choice, over his client's German
    await reply_of(fake, await fake.slash("alice", "start", "mod", circle="crew"))
    read = {who: await reply_of(fake, await fake.slash(who, "next", locale=locale))
            for who, locale in (("alice", "en-GB"), ("bob", "es-ES"), ("carol", "de"), ("dan", "de"))}
    assert read["alice"].startswith("**What's next in") and read["bob"].startswith("**Qué viene ahora en")
    assert read["carol"].startswith("**Was als Nächstes kommt in") and read["dan"].startswith("**Qué viene ahora en")
    assert "(America/New_York)" in read["bob"] and "(Europe/London)" in read["carol"]

    kit = builtin_kits()["starter"]

    async def bobs_calendar() -> str:
        sent = len(fake.uploads)
        assert await reply_of(fake, await fake.slash("bob", "calendar", locale="es-ES")) == "\U0001f4ec"
        await fake.wait_for(lambda: len(fake.uploads) > sent)
        name, content = fake.uploads[-1]
        assert name == "crew.ics" and fake.dms_to("bob")
        with bot.app.store.transaction() as tx:
            circle = tx.find("discord", str(fake.guild_id), "crew")
        return assert_matches_timetable(content.decode(), circle, kit, "America/New_York")

    before = await bobs_calendar()
    assert "semana 1 de 4" in next(iter(before.values()))["summary"]
    await reply_of(fake, await fake.slash("alice", "reschedule", "mod", circle="crew", day="thu", time="18:30"))
    after = await bobs_calendar()
    assert set(after) == set(before) and all(after[uid]["start"] != before[uid]["start"] for uid in after)


async def test_a_message_reported_from_its_menu_reaches_the_moderator_and_admins_only(fake, bot):
    await reply_of(fake, await fake.slash("bob", "new", name="Crew", kit="starter", timezone="UTC", day="tue",
                                          time="17:00"))
    for who in ("carol", "dan"):
        await reply_of(fake, await fake.slash(who, "join", circle="crew"))
    await reply_of(fake, await fake.slash("alice", "list"))  # the server's admin, as the bot has seen her
    await deliver(bot.app, bot, bot.clock)
    (thread,) = fake.threads()
    said = fake.say_in("dan", int(thread["id"]), "you are all idiots")
    posts = len(fake.channel_messages(int(thread["id"])))
    answer = await reply_of(fake, await fake.message_command("carol", "Report to moderators", said))
    assert "Dan is not told" in answer
    await deliver(bot.app, bot, bot.clock)
    link = f"https://discord.com/channels/{fake.guild_id}/{thread['id']}/{said['id']}"
    for told in ("bob", "alice"):
        report = str(fake.dms_to(told))
        assert "Carol reported Dan" in report and "you are all idiots" in report and link in report
    assert "reported" not in str(fake.dms_to("dan")) and len(fake.channel_messages(int(thread["id"]))) == posts
    # Typed, too: /circle report, at the top level.
    typed = await reply_of(fake, await fake.slash("carol", "report", circle="crew", member=str(fake.person("dan").id),
                                                  what="again"))
    assert "Dan is not told" in typed


async def test_joining_a_full_circle_and_a_seat_offer_work_in_discord(fake, bot):
    """Dan finds Crew full and is put in line; Carol leaves; his DM's "Take the seat" gives him her place."""
    from adapters.discord.deliveries import DiscordDeliveries
    from scheduler.delivery import deliver_due_messages

    await reply_of(fake, await fake.slash("alice", "new", name="Crew", kit="starter", timezone="UTC", day="tue",
                                          time="17:00", places=3))
    for who in ("bob", "carol"):
        await reply_of(fake, await fake.slash(who, "join", circle="crew"))
    (full,) = await fake.followup(await fake.slash("dan", "join", circle="crew"))
    assert "is full (3 people), so you are now number 1 in line" in full["content"] and not full.get("components")
    await reply_of(fake, await fake.slash("carol", "leave", circle="crew"))
    await deliver_due_messages(bot.app.outbox, DiscordDeliveries(bot.http, bot.home_channel), bot.clock.now())
    (offer,) = [m for m in fake.dms_to("dan") if "Take the seat" in str(m.get("components"))]
    take = next(b["custom_id"] for row in offer["components"] for b in row["components"] if b["label"] == "Take the seat")
    refused = await fake.click("carol", offer, take)  # someone else's press takes nothing, even the one who left
    assert "No seat in \u201cCrew\u201d is held for you now" in (await fake.followup(refused))[0]["content"]
    taken = await fake.click("dan", offer, take)
    assert "You joined \u201cCrew\u201d" in (await fake.followup(taken))[0]["content"]
    with bot.app.store.transaction() as tx:
        crew = tx.find("discord", str(fake.guild_id), "crew")
    assert [m.name.lower() for m in crew.members] == ["alice", "bob", "dan"] and not crew.seat_offers
