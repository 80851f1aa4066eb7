"""``circlebot run`` as a real process against the fake Slack: it serves, and a crash mid-post posts nothing twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from storage.database import make_engine
from storage.outbox import SENT, Outbox
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_requests import SignedRequests
from tests.fakes.specs import spec_path
from tests.slack_world import SECRET, TOKEN, free_port, text_of

ROOT = Path(__file__).resolve().parents[1]
ALICE, BOB = "U0ALICE", "U0BOB"


@pytest.fixture
def fake():
    fake = FakeSlack(spec_path("slack/web_api_openapi_v2.json")).start()
    fake.add_user(ALICE, "alice", "Europe/London")
    fake.add_user(BOB, "bob", "Europe/London")
    yield fake
    fake.stop()
    assert fake.violations == []


class Bot:
    """``circlebot run`` in a child process, with Slack's settings pointing at the fake."""

    def __init__(self, fake: FakeSlack, database_url: str):
        self.port = free_port()
        self.env = {**os.environ, "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET,
                    "SLACK_API_URL": fake.api_url, "PORT": str(self.port), "DATABASE_URL": database_url,
                    "PYTHONPATH": str(ROOT), "CIRCLEBOT_LOG_LEVEL": "INFO"}
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/slack/events"

    async def start(self, fake: FakeSlack) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "circlebot.cli", "run"], env=self.env, cwd=ROOT,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        await fake.wait_until(lambda: self._listening() or self.process.poll() is not None, timeout=120,
                              what="circlebot run to listen")
        assert self.process.poll() is None, self.process.stdout.read()

    def _listening(self) -> bool:
        import socket

        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", self.port)) == 0

    def stop(self, signum: int = signal.SIGTERM) -> str:
        self.process.send_signal(signum)
        output, _ = self.process.communicate(timeout=30)
        return output


async def test_circlebot_run_serves_slack_and_stops_cleanly(fake, tmp_path):
    bot = Bot(fake, f"sqlite:///{tmp_path}/run.db")
    await bot.start(fake)
    slack = SignedRequests(bot.url, SECRET, fake)
    try:
        formed = await slack.command(ALICE, 'new "Crew" starter Europe/London tue 17:00')
        await fake.wait_until(lambda: "Circle formed" in str(fake.responses_to(formed.response_url)), what="the answer")
        await fake.wait_until(lambda: any(c.name == "crew" for c in fake.channels.values()), what="the circle's channel")
        await slack.command(BOB, "join crew")
        channel = fake.channel_named("crew")
        await fake.wait_until(lambda: any("bob joined" in text_of(m).lower() for m in channel.messages),
                              what="the join post")
        assert channel.members == {"UBOT", ALICE, BOB}
    finally:
        await slack.close()
        output = bot.stop()
    assert bot.process.returncode == 0, output
    assert "Traceback" not in output and TOKEN not in output and SECRET not in output


async def test_killed_between_a_post_and_its_record_the_post_appears_once(fake, tmp_path):
    url = f"sqlite:///{tmp_path}/crash.db"
    bot = Bot(fake, url)
    await bot.start(fake)
    slack = SignedRequests(bot.url, SECRET, fake)
    outbox = Outbox(make_engine(url))
    try:
        await slack.command(ALICE, 'new "Crew" starter Europe/London tue 17:00')
        # Everything the new circle queued is out, so the post held below is Bob's.
        await fake.wait_until(lambda: any(c.name == "crew" for c in fake.channels.values()), what="the channel")
        await fake.wait_until(lambda: set(outbox.counts()) == {SENT}, timeout=120, what="the circle's first posts")
        channel = fake.channel_named("crew")
        fake.hang("chat.postMessage")  # Slack takes the post, the answer never comes back
        await slack.command(BOB, "join crew")
        joined = lambda: [m for m in channel.messages if "bob joined" in text_of(m).lower()]  # noqa: E731
        await fake.wait_until(lambda: len(joined()) == 1, timeout=120, what="the join post to reach Slack")
        bot.stop(signal.SIGKILL)  # before the outbox could record it

        restarted = Bot(fake, url)
        await restarted.start(fake)
        await fake.wait_until(lambda: set(outbox.counts()) == {SENT}, timeout=120, what="the resend to finish")
        output = restarted.stop()
    finally:
        await slack.close()
    assert len(joined()) == 1, "posted twice"
    looked = [c.params for c in fake.called("conversations.history")]
    assert looked and all(p.get("include_all_metadata") in (True, "true", "1", 1) for p in looked)
    assert "already posted" in output


def test_circlebot_run_with_no_platform_says_what_to_set_and_points_to_the_console(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_", "CIRCLEBOT_"))}
    result = subprocess.run([sys.executable, "-m", "circlebot.cli", "run"], env={**env, "PYTHONPATH": str(ROOT)},
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET" in result.stderr and "circlebot console" in result.stderr
    assert "Traceback" not in result.stderr


def test_circlebot_run_names_a_missing_slack_setting(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_", "CIRCLEBOT_"))}
    env |= {"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "x", "SLACK_SIGNING_SECRET": "y", "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-m", "circlebot.cli", "run"], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "CIRCLEBOT_SECRET_KEY is missing" in result.stderr
    short = subprocess.run([sys.executable, "-m", "circlebot.cli", "run"], env={**env, "CIRCLEBOT_SECRET_KEY": "short"},
                           cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert short.returncode == 2 and "SECRET_KEY" in short.stderr and "short" not in short.stderr.replace("SECRET", "")
