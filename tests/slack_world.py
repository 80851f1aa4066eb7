"""A whole Slack deployment in one test: the fake Slack, the real bolt app over HTTP, the runner on a simulated clock.

Reads like a conversation: ``await world.command("U0ALICE", "new ...")`` sends a
signed slash command to the app's ``/slack/events``, waits for its work (answers
after the acknowledgement included), then runs what became due, as the live
scheduler would. :meth:`SlackWorld.advance` moves the clock through every due
moment on the way.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from datetime import datetime, timedelta

from adapters.slack.app import RunningSlack, SlackBot, start_slack
from adapters.slack.sender import Workspaces
from circlebot.config import Settings
from circlebot.wiring import Wiring, build
from scheduler.clock import SimulatedClock
from scheduler.pacing import Pacer
from scheduler.runner import Runner
from tests.fakes.slack_api import Channel, FakeSlack
from tests.fakes.slack_requests import Sent, SignedRequests
from tests.fakes.specs import spec_path

SECRET = "test-signing-secret"
TOKEN = "xoxb-fake-token"
CLIENT_ID = "1234.5678"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def no_wait(seconds: float) -> None:
    return None


def slack_settings(fake: FakeSlack, database_url: str, *, oauth: bool = False) -> Settings:
    """One workspace with a bot token, or (``oauth``) installs through OAuth with their tokens encrypted."""
    values = {"SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": fake.api_url, "PORT": free_port(),
              "DATABASE_URL": database_url}
    if oauth:
        values |= {"SLACK_CLIENT_ID": CLIENT_ID, "SLACK_CLIENT_SECRET": "client-secret",
                   "secret_key": "sixteen or more characters"}
    else:
        values["SLACK_BOT_TOKEN"] = TOKEN
    return Settings(_env_file=None, **values)


@dataclass
class SlackWorld:
    fake: FakeSlack
    settings: Settings
    wiring: Wiring
    bot: SlackBot
    running: RunningSlack
    runner: Runner
    clock: SimulatedClock
    slack: SignedRequests

    @classmethod
    async def start(cls, fake: FakeSlack, database_url: str, start: datetime, *, oauth: bool = False) -> SlackWorld:
        settings = slack_settings(fake, database_url, oauth=oauth)
        wiring = build(settings)
        clock = SimulatedClock(start)
        # No real-time waits: the simulated clock moves weeks in a second, and the outbox waits out a 429.
        workspaces = Workspaces(settings.slack_api_url, None if oauth else TOKEN)
        bot = SlackBot(wiring.commands, wiring.store, clock, workspaces, pacer=Pacer(per_channel_gap=0.0, sleep=no_wait))
        running = await start_slack(settings, bot, host="127.0.0.1")
        slack = SignedRequests(f"http://127.0.0.1:{settings.port}/slack/events", SECRET, fake)
        return cls(fake, settings, wiring, bot, running, wiring.runner(bot.sender), clock, slack)

    async def settle(self) -> None:
        """The app's work is done and everything due now is delivered."""
        await self.bot.idle()
        await self.runner.run_due(self.clock.now())

    async def command(self, user: str, text: str, channel: str = "C0GENERAL", **kwargs) -> Sent:
        sent = await self.slack.command(user, text, channel, **kwargs)
        await self.settle()
        return sent

    async def press(self, user: str, where: dict, label: str, channel: str | None = None, **kwargs) -> Sent:
        sent = await self.slack.press(user, where, label, channel=channel, **kwargs)
        await self.settle()
        return sent

    async def shortcut(self, user: str, message: dict, channel: str, callback_id: str) -> Sent:
        sent = await self.slack.shortcut(user, message, channel, callback_id)
        await self.settle()
        return sent

    async def submit(self, user: str, view_id: str, answers: list[str], **kwargs) -> Sent:
        sent = await self.slack.submit(user, view_id, answers, **kwargs)
        await self.settle()
        return sent

    async def advance(self, delta: timedelta) -> None:
        await self.runner.advance(self.clock, self.clock.now() + delta)

    def answers(self, sent: Sent) -> str:
        """Everything the person saw in answer to one request: the acknowledgement and response_url posts."""
        parts = [sent.body] if sent.body else []
        if sent.response_url:
            parts += [str(body) for body in self.fake.responses_to(sent.response_url)]
        return "\n".join(parts)

    def posts(self, channel: Channel, title: str | None = None) -> list[dict]:
        """Top-level bot messages in ``channel``, or those whose header starts with ``title``."""
        found = [m for m in channel.messages if m.get("thread_ts", m["ts"]) == m["ts"]]
        if title is None:
            return found
        return [m for m in found if header_of(m).startswith(title)]

    def thread(self, channel: Channel, parent: dict) -> list[dict]:
        return [m for m in channel.messages if m.get("thread_ts") == parent["ts"] and m["ts"] != parent["ts"]]

    async def close(self) -> None:
        await self.bot.idle()
        await self.slack.close()
        await self.running.stop()
        self.wiring.engine.dispose()


def header_of(message: dict) -> str:
    return next((b["text"]["text"] for b in message.get("blocks", []) if b["type"] == "header"), "")


def text_of(message: dict) -> str:
    """Every text a person sees in a message or view: header, sections, context, button labels."""
    parts = []
    for block in message.get("blocks", []):
        if "text" in block and isinstance(block["text"], dict):
            parts.append(block["text"]["text"])
        for element in block.get("elements", []):
            parts.append(element["text"]["text"] if isinstance(element.get("text"), dict) else element.get("text", ""))
        if block.get("label"):
            parts.append(block["label"]["text"])
    return "\n".join(parts) or message.get("text", "")


@contextmanager
def spec_checked_slack() -> Iterator[FakeSlack]:
    """A fake Slack that checks every call; on the way out, no call may have broken the spec."""
    fake = FakeSlack(spec_path("slack/web_api_openapi_v2.json")).start()
    try:
        yield fake
    finally:
        fake.stop()
    assert fake.violations == [], "calls outside the spec, the allow-list or Block Kit's limits"


@asynccontextmanager
async def world_on(fake: FakeSlack, folder: Path, start: datetime) -> AsyncIterator[SlackWorld]:
    """A :class:`SlackWorld` on a SQLite file in ``folder``, closed on the way out."""
    world = await SlackWorld.start(fake, f"sqlite:///{folder}/slack.db", start)
    try:
        yield world
    finally:
        await world.close()
