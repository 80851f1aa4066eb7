"""The fake Discord itself, driven by the real discord.py client: handshake, resume, spec checks, Discord's rules."""

from __future__ import annotations

import discord
import pytest
import yarl
from discord.gateway import DiscordWebSocket
from discordfixtures import connected, fake  # noqa: F401  (fixtures)


@pytest.fixture
async def client(fake, monkeypatch):
    """A bare discord.py bot on the fake that answers every interaction with "pong"."""
    monkeypatch.setattr(DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(fake.gateway_url))
    client = discord.AutoShardedClient(intents=discord.Intents.default())

    @client.event
    async def on_interaction(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("pong", ephemeral=True)

    async with connected(fake, client, monkeypatch):
        yield client


async def test_the_real_client_connects_answers_and_resumes(fake, client):
    guild = client.get_guild(fake.guild_id)
    assert guild is not None and guild.get_channel(fake.channel_id).name == "general"
    first = await fake.slash("bob", "help")
    assert (await fake.answered(first))["data"] == {"tts": False, "content": "pong", "flags": 64}

    await fake.drop_connections()
    await fake.wait_for(lambda: fake.resumes == 1 and fake.live_sessions())
    again = await fake.slash("carol", "help")
    assert (await fake.answered(again))["type"] == 4
    assert (fake.identifies, fake.resumes, fake.violations) == (1, 1, [])


async def test_a_nonce_seen_recently_returns_the_earlier_message(fake, client):
    channel = client.get_channel(fake.channel_id)
    first = await channel.send("Week 1 of 4", nonce="crew-exercise-1")
    second = await channel.send("Week 1 of 4", nonce="crew-exercise-1")
    assert first.id == second.id
    assert [m["content"] for m in fake.channel_messages(fake.channel_id)] == ["Week 1 of 4"]


async def test_closed_dms_are_refused_with_50007_and_429_comes_on_demand(fake, client):
    fake.people["dan"].dms_open = False
    # discord.py's create_dm sends the id as a number, which the spec's snowflake (a string) does not allow.
    opened = await client.http.request(discord.http.Route("POST", "/users/@me/channels"),
                                       json={"recipient_id": str(fake.people["dan"].id)})
    dm = client.get_partial_messageable(int(opened["id"]))
    with pytest.raises(discord.Forbidden) as refused:
        await dm.send("hello")
    assert refused.value.code == 50007

    fake.rate_limit_next("POST", "/channels/{channel_id}/messages", retry_after=0.2)
    await client.get_channel(fake.channel_id).send("after a wait")  # discord.py waits out one 429 itself
    limited = [r for r in fake.requests if r[1] == "/channels/{channel_id}/messages"]
    assert len(limited) == 3 and fake.channel_messages(fake.channel_id)[-1]["content"] == "after a wait"


async def test_requests_outside_the_spec_are_refused_and_recorded(fake, client):
    channel = client.get_channel(fake.channel_id)
    with pytest.raises(discord.HTTPException):
        await client.http.request(discord.http.Route("POST", "/channels/{channel_id}/messages", channel_id=channel.id),
                                  json={"content": 42})
    with pytest.raises(discord.HTTPException):
        await client.http.request(discord.http.Route("POST", "/channels/{channel_id}/nowhere", channel_id=channel.id))
    assert len(fake.violations) == 2
    assert "content" in fake.violations[0] and "no such path" in fake.violations[1]
    fake.violations.clear()


async def test_an_interaction_answered_late_is_gone(fake, client, monkeypatch):
    monkeypatch.setattr("fakes.discord_api.ANSWER_WITHIN", 0.0)
    late = await fake.slash("bob", "help")
    await fake.wait_for(lambda: fake.violations)
    assert "answered after" in fake.violations[0] and late.responses == []
    fake.violations.clear()
