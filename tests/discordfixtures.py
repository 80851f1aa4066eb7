"""Fixtures for the Discord tests: the fake Discord, and a discord.py client connected to it.

Import the fixtures a test module needs: ``from discordfixtures import fake  # noqa: F401``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import discord
import pytest
from fakes.discord_api import FakeDiscord


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
