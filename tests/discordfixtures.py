"""Fixtures for the Discord tests: the fake Discord, a discord.py client connected to it, and the bot on a database.

Import the fixtures a test module needs: ``from discordfixtures import fake  # noqa: F401``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import discord
import pytest
from fakes.discord_api import FakeDiscord

from adapters.discord.app import CircleClient, Lookups
from adapters.discord.deliveries import DiscordDeliveries
from bot.circle import Kind
from circlebot.wiring import Wiring
from scheduler.clock import SimulatedClock
from scheduler.delivery import deliver_due_messages


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    """A fake Discord; the test fails if anything sent it a request outside the spec."""
    async with FakeDiscord() as fake:
        yield fake
        assert fake.violations == []


@asynccontextmanager
async def connected(fake: FakeDiscord, client: discord.Client, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[None]:
    """``client`` logged in to ``fake`` and ready (its guild loaded), closed afterwards."""
    monkeypatch.setattr(discord.http.Route, "BASE", fake.api_url)
    task = asyncio.create_task(client.start("fake-token"))
    await fake.wait_connected()
    await client.wait_until_ready()
    try:
        yield
    finally:
        await client.close()
        await task


@asynccontextmanager
async def running(fake: FakeDiscord, app: Wiring, clock: SimulatedClock, monkeypatch) -> AsyncIterator[CircleClient]:
    """One run of the bot on ``app``'s database; leaving the block is a restart's first half."""
    client = CircleClient(app.commands, sorted(app.kits), Lookups(app.store), clock.now)
    async with connected(fake, client, monkeypatch):
        yield client


async def deliver(app: Wiring, client: CircleClient, clock: SimulatedClock) -> None:
    await deliver_due_messages(app.outbox, DiscordDeliveries(client.http, client.home_channel), clock.now())


async def say(fake: FakeDiscord, who: str, subcommand: str, group: str | None = None, **options) -> str:
    return (await fake.followup(await fake.slash(who, subcommand, group, **options)))[0]["content"]


async def form_and_start(fake: FakeDiscord, kit: str = "starter", channel: int | None = None) -> None:
    await fake.followup(await fake.slash("alice", "new", channel=channel, name="Crew", kit=kit, timezone="UTC",
                                         day="tue", time="17:00"))
    for who in ("bob", "carol"):
        await say(fake, who, "join", circle="crew")
    await say(fake, "alice", "start", "mod")


def next_exercise(app: Wiring, fake: FakeDiscord, clock: SimulatedClock) -> None:
    """Move the clock to Crew's next weekly exercise (with the moderator's notes) and tick."""
    with app.store.transaction() as tx:
        crew = tx.find("discord", str(fake.guild_id), "crew")
    clock.set(next(o.at for o in crew.plan if o.kind is Kind.EXERCISE))
    app.ticker.tick_due(clock.now())
