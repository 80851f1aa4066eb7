"""/circle is put on Discord on purpose: ``circlebot discord sync``, and at start-up only when it changed."""

from __future__ import annotations

import asyncio

import discord
from discord.gateway import DiscordWebSocket
from discordfixtures import fake  # noqa: F401  (fixtures)

from adapters.discord.app import sync_if_changed, synced_key
from adapters.discord.commands import definition
from circlebot import cli
from storage.database import make_engine, upgrade
from storage.repository import Store


async def test_circlebot_discord_sync_puts_the_definition_in_one_guild(fake, monkeypatch):
    # The command points discord.py at the fake; these restore it afterwards.
    monkeypatch.setattr(discord.http.Route, "BASE", discord.http.Route.BASE)
    monkeypatch.setattr(DiscordWebSocket, "DEFAULT_GATEWAY", DiscordWebSocket.DEFAULT_GATEWAY)
    for name, value in (("DISCORD_TOKEN", "fake-token"), ("DISCORD_API_URL", fake.api_url),
                        ("DISCORD_GATEWAY_URL", fake.gateway_url)):
        monkeypatch.setenv(name, value)
    assert await asyncio.to_thread(cli.main, ["discord", "sync", "--guild", str(fake.guild_id)]) == 0
    circle, report = fake.commands[fake.guild_id]
    assert circle["name"] == "circle" and circle["options"] == definition()[0]["options"]
    # Reporting a message is its own command, in a message's menu.
    assert report["type"] == 3 and report["name"] == "Report to moderators" and report["name_localizations"]["de"]


async def test_start_up_syncs_to_the_development_guild_only_when_the_definition_changed(fake, monkeypatch, tmp_path):
    # The last sync is kept in the database: a second replica, or a new container, on it agrees.
    monkeypatch.setattr(discord.http.Route, "BASE", fake.api_url)
    engine = make_engine(f"sqlite:///{tmp_path}/circlebot.db")
    upgrade(engine)
    async with discord.Client(intents=discord.Intents.none()) as client:
        await client.login("fake-token")
        assert await sync_if_changed(client, fake.guild_id, Store(engine))
        assert not await sync_if_changed(client, fake.guild_id, Store(engine))  # a restart: nothing changed
        Store(engine).keep_value(synced_key(fake.guild_id), "an older definition")
        assert await sync_if_changed(client, fake.guild_id, Store(engine))
        assert not await sync_if_changed(client, fake.guild_id, Store(engine))
    assert fake.command_puts == 2 and not list(tmp_path.glob("*.sha256"))
    engine.dispose()
