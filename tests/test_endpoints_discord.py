"""With only Discord running, ``circlebot run`` still serves ``/healthz`` and ``/metrics`` on ``PORT``."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
from discordfixtures import fake  # noqa: F401  (fixtures)
from test_discord_e2e import Bot

from tests.slack_world import free_port

pytestmark = pytest.mark.timeout(240)


async def test_discord_alone_serves_healthz_and_metrics_on_port(fake, tmp_path):  # noqa: F811
    bot = Bot(fake, tmp_path)
    port = free_port()
    bot.env["PORT"] = str(port)
    await bot.start()
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(100):  # the first heartbeat and the gateway's READY may still be on their way
                async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                    status, body = response.status, json.loads(await response.text())
                if status == 200 and body["scheduler"] == "leading":  # not "running": a run may be going on
                    break
                await asyncio.sleep(0.1)
            assert body == {"status": "ok", "database": "ok", "scheduler": "leading",
                            "adapters": {"discord": "connected"}}, bot.logs()
            async with session.get(f"http://127.0.0.1:{port}/metrics") as response:
                assert response.status == 200 and "circlebot_scheduler_leader 1.0" in await response.text()
    finally:
        await bot.stop()
    assert "Traceback" not in bot.logs() and "fake-token" not in bot.logs()
