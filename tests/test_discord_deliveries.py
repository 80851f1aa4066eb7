"""The outbox's deliveries on Discord (discord.py's HTTP client against the fake): once each, refusals final."""

from __future__ import annotations

from datetime import UTC, datetime

import discord
import pytest
from discordfixtures import fake  # noqa: F401  (fixtures)
from fakes.discord_api import FakeDiscord

from adapters.contract import DeliveryFailed, Outgoing, Receipt
from adapters.discord.deliveries import DiscordDeliveries
from bot import effects as fx
from bot.circle import UserRef

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
async def deliveries(fake, monkeypatch):
    monkeypatch.setattr(discord.http.Route, "BASE", fake.api_url)
    client = discord.Client(intents=discord.Intents.none(), max_ratelimit_timeout=30)  # as the bot
    await client.login("fake-token")
    # Nothing configured or remembered: threads open in the server's first text channel, found over REST.
    yield DiscordDeliveries(client.http, lambda circle: None)
    await client.close()


def person(fake: FakeDiscord, name: str) -> UserRef:
    return UserRef("discord", str(fake.guild_id), str(fake.person(name).id))


def outgoing(effect, *, resend=False, space=None, earlier=None) -> Outgoing:
    return Outgoing(effect, resend, NOW, "discord", space, earlier, "en", "UTC")


async def test_a_resent_post_is_one_message_and_a_resent_space_one_thread(fake, deliveries):
    members = (person(fake, "alice"), person(fake, "bob"))
    opened = await deliveries.deliver(outgoing(fx.OpenSpace("crew/space", "crew", "crew", members)))
    again = await deliveries.deliver(outgoing(fx.OpenSpace("crew/space", "crew", "crew", members), resend=True))
    assert opened == again and len(fake.threads()) == 1 and fake.threads()[0]["type"] == 12
    assert fake.threads()[0]["parent_id"] == str(fake.channel_id)
    thread = int(opened.channel)
    assert {fake.person("alice").id, fake.person("bob").id} <= fake.thread_members[thread]

    post = fx.PostToCircle("crew/exercise:1", "crew", fx.Message(("Week 1 of 4",)))
    first = await deliveries.deliver(outgoing(post, space=opened))
    second = await deliveries.deliver(outgoing(post, resend=True, space=opened))
    assert first == second and [m["content"] for m in fake.channel_messages(thread)] == ["Week 1 of 4"]

    reply = fx.PostInThread("crew/checkin:1/bob", "crew", "crew/exercise:1", fx.Message(("bob checked in",)))
    await deliveries.deliver(outgoing(reply, space=opened, earlier=first))
    assert fake.channel_messages(thread)[-1]["content"] == "bob checked in"

    update = fx.UpdatePost("crew/exercise:1/rsvp", "crew", "crew/exercise:1", fx.Message(("Week 1 of 4", "2 coming")))
    assert await deliveries.deliver(outgoing(update, space=opened, earlier=first)) == first
    assert fake.channel_messages(thread)[0]["content"] == "Week 1 of 4\n2 coming"

    await deliveries.deliver(outgoing(fx.RemoveFromSpace("crew/leave:bob", "crew", members[1]), space=opened))
    assert fake.person("bob").id not in fake.thread_members[thread]


async def test_closed_dms_and_unknown_channels_are_final_and_a_429_is_waited_out(fake, deliveries):
    fake.people["dan"].dms_open = False
    dm = fx.DirectMessage("crew/notes:1", "crew", person(fake, "dan"), fx.Message(("Your notes",)))
    with pytest.raises(DeliveryFailed) as refused:
        await deliveries.deliver(outgoing(dm))
    assert refused.value.permanent and refused.value.dms_refused  # the member hears of it in the circle's thread

    lost = fx.PostToCircle("gone/exercise:1", "gone", fx.Message(("hello",)))
    with pytest.raises(DeliveryFailed) as unknown:
        await deliveries.deliver(outgoing(lost, space=Receipt("123")))
    assert unknown.value.permanent and not unknown.value.dms_refused

    fake.rate_limit_next("POST", "/channels/{channel_id}/messages", retry_after=0.1)
    hello = fx.DirectMessage("crew/hello", "crew", person(fake, "bob"), fx.Message(("Hello",)))
    receipt = await deliveries.deliver(outgoing(hello))
    assert [m["content"] for m in fake.dms_to("bob")] == ["Hello"] and receipt.message == fake.dms_to("bob")[0]["id"]


async def test_a_long_rate_limit_goes_back_to_the_outbox_with_its_retry_after(fake, deliveries):
    fake.rate_limit_next("POST", "/channels/{channel_id}/messages", retry_after=120)
    hello = fx.DirectMessage("crew/hello", "crew", person(fake, "bob"), fx.Message(("Hello",)))
    with pytest.raises(DeliveryFailed) as limited:
        await deliveries.deliver(outgoing(hello))
    assert limited.value.retry_after == 120 and not limited.value.permanent and fake.dms_to("bob") == []
