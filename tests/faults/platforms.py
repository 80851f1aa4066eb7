"""The real Slack and Discord adapters against the fake platforms, with the outbox and the runner in one process.

A :class:`Platform` reads like a conversation: people type commands through the
command service (as an adapter would hand them over), :meth:`Platform.deliver`
runs what is due as the live scheduler would, and :meth:`Platform.posted` reads
back, from the fake's own records, which outbox key every message it created
carries (Slack: the message metadata; Discord: the nonce). ``break_next`` makes
the fake answer the next message the way a platform in trouble does.

The clock is simulated but starts at the wall clock's now, so a resend looking
for an earlier post in Slack's history (stamped with real time) finds it.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import discord
import pytest
from fakes.discord_api import FakeDiscord
from fakes.slack_api import FakeSlack
from fakes.specs import spec_path
from sqlalchemy import Engine, text

from adapters.contract import Adapter
from adapters.discord.deliveries import DiscordDeliveries, platform_trace
from adapters.discord.rest import nonce_for
from adapters.slack import render as slack_render
from adapters.slack.app import SlackBot
from adapters.slack.sender import Workspaces
from bot.circle import Actor, UserRef
from bot.inputs import Request, Typed
from circlebot.logs import JsonLines
from circlebot.wiring import Wiring, wire
from kits import builtin_kits
from scheduler.clock import SimulatedClock
from scheduler.delivery import DeliveryReport
from scheduler.pacing import Pacer
from scheduler.runner import Runner
from storage.database import make_engine, upgrade

#: Seconds the adapters wait for an answer here (30 and 60 in production): beyond discord.py's own 1 s wait.
TIMEOUT = 3.0
#: The outbox kinds that make a message on the platform.
MESSAGES = ("PostToCircle", "PostInThread", "DirectMessage", "PostToCommunity")
PEOPLE = ("mod", "ann", "bob", "cat")
SLACK_TOKEN = "xoxb-fake-token"


@dataclass(frozen=True)
class Row:
    id: int
    key: str
    circle_id: str
    kind: str
    status: str
    attempts: int
    not_before: datetime


class LogLines(logging.Handler):
    """Every line at WARNING and above as the JSON ``circlebot run`` writes, parsed back."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.setFormatter(JsonLines())
        self.lines: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))

    def about(self, key: str) -> list[dict]:
        return [line for line in self.lines if line.get("key") == key]


@dataclass
class Platform:
    name: str
    wiring: Wiring
    sender: Adapter
    clock: SimulatedClock
    people: dict[str, Actor]
    #: The outbox keys of the messages the fake created, in creation order.
    created_keys: Callable[[], list[str]]
    #: ``break_next(answer, carried_out)``: the next message the bot sends is answered badly.
    break_next: Callable[[str, bool], None]
    #: ``rate_limit_next(retry_after)``: the next message the bot sends is answered 429.
    rate_limit_next: Callable[[float], None]
    violations: Callable[[], list[str]]
    #: The fake platform itself, for faults beyond the next post.
    fake: FakeSlack | FakeDiscord

    def __post_init__(self):
        self.runner = Runner(self.wiring.ticker, self.wiring.outbox, self.sender)
        self._requests = 0

    @property
    def engine(self) -> Engine:
        return self.wiring.engine

    def say(self, who: str, line: str) -> str:
        """``who`` types ``line``; returns the first reply's text (for a failed command's message)."""
        self._requests += 1
        responses = self.wiring.commands.handle(
            Request(self.people[who], Typed(line), request_id=f"r{self._requests}"), self.clock.now())
        return str(responses[0]) if responses else ""

    async def deliver(self, after: timedelta = timedelta(0)) -> DeliveryReport:
        """Move the clock on by ``after`` and run what is due, as the live scheduler's wake does."""
        self.clock.set(self.clock.now() + after)
        return await self.runner.run_due(self.clock.now())

    def rows(self) -> list[Row]:
        with self.engine.connect() as connection:
            found = connection.execute(text(
                "SELECT id, key, circle_id, kind, status, attempts, not_before FROM outbox ORDER BY id")).all()
        return [Row(*row[:6], _aware(row[6])) for row in found]

    def message_rows(self) -> list[Row]:
        return [row for row in self.rows() if row.kind in MESSAGES]

    def assert_each_message_once_in_order(self) -> None:
        """Every message-making delivery reached the platform exactly once, each lane's in outbox order.

        A lane is a circle's space, or one member's DMs from it (storage/outbox.py): a DM such as the
        new moderator's guide keeps its place among that member's DMs, not among the circle's posts.
        """
        expected = self.message_rows()
        created = self.created_keys()
        assert {k: n for k, n in Counter(created).items() if n > 1} == {}, "a message was created twice"
        assert sorted(created) == sorted(row.key for row in expected), "lost or unexpected messages"
        with self.engine.connect() as connection:
            lanes = dict(connection.execute(text("SELECT key, lane FROM outbox")).all())
        for lane in {lanes[row.key] for row in expected}:
            queued = [row.key for row in expected if lanes[row.key] == lane]
            assert [key for key in created if key in queued] == queued, f"{lane}'s messages out of order"
        assert {row.status for row in self.rows()} == {"sent"}, self.rows()


def _aware(moment: datetime | str) -> datetime:
    if isinstance(moment, str):  # SQLite hands back text
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _wiring(tmp_path: Path) -> Wiring:
    engine = make_engine(f"sqlite:///{tmp_path}/faults.db")
    upgrade(engine)
    return wire(engine, builtin_kits(), timedelta(hours=6))


@asynccontextmanager
async def slack_platform(tmp_path: Path) -> AsyncIterator[Platform]:
    fake = FakeSlack(spec_path("slack/web_api_openapi_v2.json")).start()
    wiring = _wiring(tmp_path)
    clock = SimulatedClock(datetime.now(UTC))
    people = {}
    for name in PEOPLE:
        user = fake.add_user(f"U0{name.upper()}", name, "Europe/London")
        people[name] = Actor(UserRef("slack", fake.team, user.id), name, "Europe/London")
    workspaces = Workspaces(fake.api_url, SLACK_TOKEN, timeout=TIMEOUT)
    bot = SlackBot(wiring.commands, wiring.store, clock, workspaces, pacer=Pacer(per_channel_gap=0.0))

    def created_keys() -> list[str]:
        messages = [m for channel in list(fake.channels.values()) for m in list(channel.messages)]
        return [key for m in sorted(messages, key=lambda m: float(m["ts"])) if (key := slack_render.outbox_key(m))]

    try:
        yield Platform(
            "slack", wiring, bot.sender, clock, people, created_keys,
            lambda answer, carried_out: fake.fault("chat.postMessage", answer, carried_out=carried_out),
            lambda retry_after: fake.rate_limit("chat.postMessage", retry_after),
            lambda: fake.violations, fake,
        )
    finally:
        await workspaces.close()
        fake.stop()
        wiring.engine.dispose()


@asynccontextmanager
async def discord_platform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Platform]:
    fake = await FakeDiscord(PEOPLE).start()
    monkeypatch.setattr(discord.http.Route, "BASE", fake.api_url)
    client = discord.Client(intents=discord.Intents.none(), max_ratelimit_timeout=30, http_trace=platform_trace())
    await client.login("fake-token")
    wiring = _wiring(tmp_path)
    clock = SimulatedClock(datetime.now(UTC))
    people = {name: Actor(UserRef("discord", str(fake.guild_id), str(fake.person(name).id)), name, "UTC")
              for name in PEOPLE}
    messages = "/channels/{channel_id}/messages"

    def created_keys() -> list[str]:
        by_nonce = {nonce_for(row.key): row.key for row in platform.rows()}
        created = sorted((m for channel in list(fake.messages.values()) for m in list(channel)),
                         key=lambda m: int(m["id"]))
        return [by_nonce[m["nonce"]] for m in created if m.get("nonce") in by_nonce]

    platform = Platform(
        "discord", wiring, DiscordDeliveries(client.http, lambda circle: None, timeout=TIMEOUT), clock,
        people, created_keys,
        lambda answer, carried_out: fake.fault_next("POST", messages, answer, carried_out=carried_out),
        lambda retry_after: fake.rate_limit_next("POST", messages, retry_after),
        lambda: fake.violations, fake,
    )
    try:
        yield platform
    finally:
        await client.close()
        await fake.stop()
        wiring.engine.dispose()
