"""Slack and Discord in trouble: 429 with Retry-After, 500, no answer, malformed JSON.

Mostly on the way out (deliveries), and on the way in: where the bot asks Slack
who is asking (``users.info``), and where Discord takes an interaction's "thinking"
deferral and then answers badly, the command is still carried out once and answered.

Three circles with their spaces; then two people join each, so each circle has
two posts to make, in order, while the platform answers the first post that goes
out badly. Whatever the fault: the run raises nothing, every post reaches the
platform exactly once and in its circle's order, the struck circle is retried
within seconds (a 429's Retry-After, else the first backoff step) while the
others go at once, and the fault shows in a log line naming the circle and the
outbox key, and in ``/metrics``.

A 500, a timeout and an unreadable answer may come after the platform made the
post: the fakes carry the post out before answering badly, so only a resend that
checks first (Slack's history lookup, Discord's nonce) keeps it single.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from discordfixtures import connected
from fakes.discord_api import FakeDiscord
from fakes.slack_api import FakeSlack
from fakes.specs import spec_path
from prometheus_client import REGISTRY

from adapters.discord.app import CircleClient, Lookups
from adapters.discord.deliveries import platform_trace
from circlebot.wiring import wire
from kits import builtin_kits
from scheduler.delivery import BACKOFF
from storage.database import make_engine, upgrade
from tests.slack_world import SlackWorld

from .platforms import LogLines, Platform, discord_platform, slack_platform

CIRCLES = ("Aspen", "Birch", "Cedar")
RETRY_AFTER = 1.0  # Slack says whole seconds
#: Seconds of real time the whole scenario may take (a timeout costs 3 s, discord.py waits 1 s before retrying a 500).
REAL_TIME_BOUND = 15.0


@dataclass(frozen=True)
class Expected:
    """What a fault must leave behind on one platform."""

    #: The struck delivery goes back to the outbox (False: the client library retried it at once, itself).
    retried_by_outbox: bool
    #: The metric sample that must move, as (name, labels).
    metric: tuple[str, dict[str, str]]


def deliveries(outcome: str, platform: str) -> tuple[str, dict[str, str]]:
    return "circlebot_deliveries_total", {"outcome": outcome, "platform": platform}


def platform_errors(platform: str, kind: str) -> tuple[str, dict[str, str]]:
    return "circlebot_platform_errors_total", {"platform": platform, "kind": kind}


WAITED_FOR_429 = ("circlebot_rate_limit_waits_total", {"reason": "429"})

EXPECTED = {
    # Slack: slack_sdk's retries are off; every fault goes back to the outbox.
    ("slack", "429"): Expected(True, WAITED_FOR_429),
    ("slack", "500"): Expected(True, platform_errors("slack", "5xx")),
    ("slack", "timeout"): Expected(True, platform_errors("slack", "timeout")),
    ("slack", "malformed"): Expected(True, platform_errors("slack", "unreadable")),
    # Discord: discord.py waits out a short 429 and retries a 500 itself; the metrics see them through its trace.
    ("discord", "429"): Expected(False, WAITED_FOR_429),
    ("discord", "500"): Expected(False, platform_errors("discord", "5xx")),
    ("discord", "timeout"): Expected(True, platform_errors("discord", "timeout")),
    ("discord", "malformed"): Expected(True, platform_errors("discord", "unreadable")),
}


def sample(metric: tuple[str, dict[str, str]]) -> float:
    name, labels = metric
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
def log_lines():
    lines = LogLines()
    logging.getLogger().addHandler(lines)
    yield lines
    logging.getLogger().removeHandler(lines)


def strike(platform: Platform, fault: str) -> None:
    if fault == "429":
        platform.rate_limit_next(RETRY_AFTER)
    else:
        platform.break_next({"timeout": "silence"}.get(fault, fault), True)  # carried out, then answered badly


@pytest.mark.parametrize("fault", ["429", "500", "timeout", "malformed"])
@pytest.mark.parametrize("platform_name", ["slack", "discord"])
async def test_a_platform_in_trouble_loses_nothing_doubles_nothing_and_says_so(
        platform_name, fault, tmp_path, monkeypatch, log_lines):
    expected = EXPECTED[platform_name, fault]
    opened = slack_platform(tmp_path) if platform_name == "slack" else discord_platform(tmp_path, monkeypatch)
    async with opened as platform:
        for name in CIRCLES:
            platform.say("mod", f"new {name} starter Europe/London tue 17:00")
        await platform.deliver()
        platform.assert_each_message_once_in_order()  # the spaces are open, the welcomes out

        failed_before = sample(deliveries("failed", platform_name))
        metric_before = sample(expected.metric)
        strike(platform, fault)
        for name in CIRCLES:
            platform.say("ann", f"join {name.lower()}")
            platform.say("bob", f"join {name.lower()}")
        started, now = time.monotonic(), platform.clock.now()
        await platform.deliver()  # raises nothing, whatever the platform said

        waiting = [row for row in platform.rows() if row.status != "sent"]
        if expected.retried_by_outbox:
            struck = min((row for row in waiting if row.attempts == 1), key=lambda row: row.id)
            # Only the struck circle waits (its later post behind its first); the others went at once.
            assert {row.circle_id for row in waiting} == {struck.circle_id}, waiting
            bound = timedelta(seconds=RETRY_AFTER) if fault == "429" else BACKOFF[0]
            assert timedelta(0) < struck.not_before - now <= bound
            assert sample(deliveries("failed", platform_name)) - failed_before == 1
            await platform.deliver(after=struck.not_before - now)
        else:
            assert waiting == [] and sample(deliveries("failed", platform_name)) == failed_before
            keyed = {line["key"] for line in log_lines.lines if "key" in line}
            (struck,) = [row for row in platform.message_rows() if row.key in keyed]

        platform.assert_each_message_once_in_order()
        took = time.monotonic() - started
        assert took < REAL_TIME_BOUND, f"delivery took {took:.1f} s to resume"
        assert sample(expected.metric) > metric_before, f"{expected.metric} did not move"
        said = log_lines.about(struck.key)
        assert said and all(line["circle"] == struck.circle_id for line in said), log_lines.lines
        assert platform.violations() == []

        # And it goes on serving: a command now is delivered at once.
        platform.say("cat", "join aspen")
        await platform.deliver()
        platform.assert_each_message_once_in_order()


async def test_a_resend_minutes_later_still_finds_the_post_in_slacks_history(tmp_path, log_lines):
    """The post is made but never answered; the first resend cannot read the history; the next is minutes later."""
    async with slack_platform(tmp_path) as platform:
        platform.say("mod", "new Aspen starter Europe/London tue 17:00")
        await platform.deliver()
        platform.break_next("silence", True)
        platform.fake.fault("conversations.history", "500", carried_out=False)
        platform.say("ann", "join aspen")
        await platform.deliver()  # posted, unanswered: timed out
        await platform.deliver(after=BACKOFF[0])  # the resend's look at the history fails
        (struck,) = [row for row in platform.rows() if row.attempts == 2]
        assert struck.status == "sending"  # a resend still: the first attempt may have gone out
        await platform.deliver(after=BACKOFF[1])  # minutes after the post: the history is read from when it was queued
        platform.assert_each_message_once_in_order()
        failures = [line for line in log_lines.about(struck.key) if line["logger"] == "scheduler.delivery"]
        assert len(failures) == 2 and all("as a resend" in line["message"] for line in failures), failures


@pytest.mark.parametrize("fault", ["500", "malformed"])
async def test_a_command_is_carried_out_and_answered_while_slack_cannot_say_who_asks(fault, tmp_path, log_lines):
    """``users.info`` (the person's zone and language) answers badly: the command goes on with what the request says."""
    fake = FakeSlack(spec_path("slack/web_api_openapi_v2.json")).start()
    fake.add_user("U0ALICE", "alice", "Europe/London")
    world = await SlackWorld.start(fake, f"sqlite:///{tmp_path}/commands.db", datetime.now(UTC))
    kind = {"500": "5xx", "malformed": "unreadable"}[fault]
    before = sample(platform_errors("slack", kind))
    try:
        fake.fault("users.info", fault)
        sent = await world.command("U0ALICE", 'new "Crew" starter Europe/London tue 17:00')
        assert "Circle formed" in world.answers(sent)
        assert [c.name for c in fake.channels.values() if not c.is_im] == ["crew"]  # (the guide goes by DM)
        assert any(line["message"].startswith("users.info failed") for line in log_lines.lines)
        assert sample(platform_errors("slack", kind)) - before == 1
        assert fake.violations == []
    finally:
        await world.close()
        fake.stop()


@pytest.fixture
async def discord_bot(tmp_path, monkeypatch):
    """The Discord bot (its interaction router) in-process, connected to the fake; yields (fake, client, wiring)."""
    async with FakeDiscord() as fake:
        engine = make_engine(f"sqlite:///{tmp_path}/interactions.db")
        upgrade(engine)
        app = wire(engine, builtin_kits(), timedelta(hours=6))
        client = CircleClient(app.commands, sorted(app.kits), Lookups(app.store), lambda: datetime.now(UTC),
                              http_trace=platform_trace())
        async with connected(fake, client, monkeypatch):
            yield fake, client, app
        engine.dispose()
        assert fake.violations == []


@pytest.mark.parametrize(("fault", "kind"), [("500", "5xx"), ("malformed", "unreadable"), ("silence", "timeout")])
async def test_a_discord_command_goes_on_when_its_deferral_is_answered_badly(fault, kind, discord_bot, log_lines):
    """Discord takes the "thinking" deferral, then answers it badly: the command is carried out once and answered."""
    fake, _client, app = discord_bot
    before = sample(platform_errors("discord", kind))
    fake.fault_next("POST", "/interactions/{interaction_id}/{interaction_token}/callback", fault)
    asked = await fake.slash("alice", "new", name="Crew", kit="starter", timezone="UTC", day="tue", time="17:00")
    (answer, *_more) = await fake.followup(asked, timeout=30)
    assert "Circle formed" in answer["content"]
    with app.store.transaction() as tx:
        assert tx.find("discord", str(fake.guild_id), "crew") is not None
    assert len(fake.threads()) == 0 and app.outbox.counts() == {"pending": 3}  # queued once: the space, the welcome, the guide
    assert sample(platform_errors("discord", kind)) > before
    assert any("deferral" in line["message"] for line in log_lines.lines)
