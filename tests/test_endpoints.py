"""``/healthz`` (200 only when the database, the scheduler and the adapters are well) and ``/metrics`` (they move)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import aiohttp
from dbfixtures import database_url, engine, pg_schema, require_postgres  # noqa: F401  (fixtures)
from fakes.sender import RecordingSender
from prometheus_client import REGISTRY

from circlebot.endpoints import Endpoints
from circlebot.wiring import wire
from kits import builtin_kits
from scheduler.leader import leader_for
from scheduler.live import LiveScheduler
from storage.database import make_engine
from tests.fakes.slack_requests import SignedRequests
from tests.slack_world import SECRET, SlackWorld, free_port, text_of
from tests.test_slack_process import Bot, fake  # noqa: F401  (fixture: the fake Slack with alice and bob)

START = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)
ALICE, BOB = "U0ALICE", "U0BOB"


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.text()


async def until(condition, what: str, timeout: float = 20.0) -> None:
    for _ in range(int(timeout * 20)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def sample(name: str, *labels: tuple[str, str]) -> float:
    return REGISTRY.get_sample_value(name, dict(labels)) or 0.0


async def test_healthz_is_200_only_while_database_scheduler_and_adapters_are_well(engine):  # noqa: F811
    app = wire(engine, builtin_kits(), timedelta(hours=6))
    endpoints = Endpoints(engine, app.outbox)
    connected = {"fake": True}

    async def fake_connected() -> bool:
        return connected["fake"]

    endpoints.adapters = {"fake": fake_connected}
    port = free_port()
    server = await endpoints.serve(port, "127.0.0.1")
    healthz = f"http://127.0.0.1:{port}/healthz"
    leader = LiveScheduler(app.runner(RecordingSender()), leader_for(engine), heartbeat=timedelta(seconds=30))
    second = LiveScheduler(app.runner(RecordingSender()), leader_for(engine), heartbeat=timedelta(seconds=30))
    try:
        status, body = await get(healthz)
        assert status == 503 and json.loads(body)["scheduler"] == "not started"

        endpoints.scheduler = leader
        leader.start()
        await until(lambda: leader.last_ok is not None, "the scheduler's first run")
        status, body = await get(healthz)
        assert status == 200, body
        assert json.loads(body) == {"status": "ok", "database": "ok", "scheduler": "leading",
                                    "adapters": {"fake": "connected"}}

        # A replica that stands by is alive too.
        standing = Endpoints(engine, app.outbox)
        standing.scheduler = second
        second.start()
        await until(lambda: second.last_ok is not None, "the second replica's first run")
        other = free_port()
        standing_server = await standing.serve(other, "127.0.0.1")
        status, body = await get(f"http://127.0.0.1:{other}/healthz")
        await standing_server.cleanup()
        assert status == 200 and json.loads(body)["scheduler"] == "standing by"

        connected["fake"] = False
        status, body = await get(healthz)
        assert status == 503 and json.loads(body)["adapters"] == {"fake": "disconnected"}

        connected["fake"] = True
        endpoints.engine = make_engine("postgresql://circlebot:password@127.0.0.1:1/gone")  # the database is down
        status, body = await get(healthz)
        assert status == 503
        assert json.loads(body)["database"].startswith("unreachable") and "password" not in body

        endpoints.engine = engine
        endpoints.stale_after = 0.001  # a scheduler that stopped running
        await asyncio.sleep(0.01)
        status, body = await get(healthz)
        assert status == 503 and json.loads(body)["scheduler"] == "stale"
    finally:
        await second.shutdown()
        await leader.shutdown()
        await server.cleanup()


async def test_metrics_move_after_a_command_and_a_delivery(fake, tmp_path):
    world = await SlackWorld.start(fake, f"sqlite:///{tmp_path}/metrics.db", START)
    formed = ("circlebot_commands_total", ("kind", "new_circle"), ("outcome", "ok"))
    refused = ("circlebot_commands_total", ("kind", "join"), ("outcome", "refused"))
    sent = ("circlebot_deliveries_total", ("outcome", "sent"), ("platform", "slack"))
    failed = ("circlebot_deliveries_total", ("outcome", "failed"), ("platform", "slack"))
    answered = ("circlebot_command_ack_seconds_count", ("platform", "slack"))
    waits = ("circlebot_rate_limit_waits_total", ("reason", "429"))
    before = {name: sample(*name) for name in (formed, refused, sent, failed, answered, waits)}
    try:
        await world.command(ALICE, 'new "Crew" starter Europe/London tue 17:00')
        await world.command(BOB, "join nowhere")
        fake.rate_limit("chat.postMessage", retry_after=2)
        await world.command(BOB, "join crew")
        await world.advance(timedelta(seconds=3))
        assert any("bob joined" in text_of(m).lower() for m in fake.channel_named("crew").messages)
    finally:
        await world.close()
    moved = {name: sample(*name) - before[name] for name in before}
    assert moved[formed] == 1 and moved[refused] == 1
    assert moved[answered] >= 3  # and the App Home's own reads, which go through the service too
    assert moved[sent] >= 3 and moved[failed] == 1  # the channel, its members, the posts; one 429
    assert moved[waits] >= 1  # the retry waited for the pacer, which heard the 429


async def test_circlebot_run_serves_healthz_and_metrics_on_slacks_port_and_logs_json(fake, tmp_path):
    bot = Bot(fake, f"sqlite:///{tmp_path}/run.db")
    await bot.start(fake)
    slack = SignedRequests(bot.url, SECRET, fake)
    base = f"http://127.0.0.1:{bot.port}"
    try:
        await slack.command(ALICE, 'new "Crew" starter Europe/London tue 17:00')
        await fake.wait_until(lambda: any(c.name == "crew" for c in fake.channels.values()), what="the channel")
        status, body = await get(f"{base}/healthz")
        for _ in range(80):  # the first heartbeat may still be on its way, or a run going on ("running")
            if status == 200 and json.loads(body)["scheduler"] == "leading":
                break
            await asyncio.sleep(0.25)
            status, body = await get(f"{base}/healthz")
        assert status == 200, body
        assert json.loads(body) == {"status": "ok", "database": "ok", "scheduler": "leading",
                                    "adapters": {"slack": "connected"}}
        await fake.wait_until(lambda: fake.called("chat.postMessage"), what="a post")
        status, text = await get(f"{base}/metrics")
        assert status == 200
        assert 'circlebot_commands_total{kind="new_circle",outcome="ok"} 1.0' in text
        assert 'circlebot_deliveries_total{outcome="sent",platform="slack"}' in text
        assert "circlebot_scheduler_leader 1.0" in text
        assert 'circlebot_outbox_depth{status="pending"}' in text
        assert "circlebot_command_ack_seconds_bucket" in text
    finally:
        await slack.close()
        output = bot.stop()
    lines = [line for line in output.splitlines() if line.strip()]
    assert lines and all(json.loads(line)["message"] for line in lines), output  # one JSON event a line
