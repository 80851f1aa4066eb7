"""``circlebot run`` serves a circle through a fake Discord, end to end, and survives ``kill -9``.

The bot is a real subprocess running the real discord.py client against
:class:`fakes.discord_api.FakeDiscord`, which checks every REST request against
Discord's OpenAPI spec. The circle is seeded through the command service with
its week-1 exercise due the moment the bot starts: the weekly post (with its
*Check in* button and "Week 1 of 4") goes out at once, into the circle's
private thread.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from discordfixtures import fake  # noqa: F401  (fixtures)
from fakes.discord_api import FakeDiscord

from bot.circle import Actor, UserRef
from bot.inputs import Request, Typed
from circlebot.config import Settings
from circlebot.wiring import build

ROOT = Path(__file__).resolve().parents[1]
WEEK_1 = "Week 1 of 4"

pytestmark = pytest.mark.timeout(240)


class Bot:
    """``circlebot run`` as a subprocess, its output in a file printed when a test fails."""

    def __init__(self, fake: FakeDiscord, tmp_path: Path):
        self.fake = fake
        self.tmp_path = tmp_path
        self.db = f"sqlite:///{tmp_path}/circlebot.db"
        self.env = {**os.environ, "DISCORD_TOKEN": "fake-token", "DISCORD_API_URL": fake.api_url,
                    "DISCORD_GATEWAY_URL": fake.gateway_url, "DATABASE_URL": self.db, "PYTHONPATH": str(ROOT),
                    "CIRCLEBOT_LOG_LEVEL": "INFO", "PYTHONFAULTHANDLER": "1"}
        self.process: subprocess.Popen | None = None
        self.runs = 0

    async def start(self) -> None:
        self.runs += 1
        sessions = len(self.fake.sessions)
        with open(self.tmp_path / f"bot-{self.runs}.log", "wb") as output:
            self.process = subprocess.Popen([sys.executable, "-m", "circlebot.cli", "run"], env=self.env,
                                            cwd=self.tmp_path, stdout=output, stderr=subprocess.STDOUT)
        await self.fake.wait_for(lambda: len(self.fake.sessions) > sessions or self.process.poll() is not None, 60)
        assert self.process.poll() is None, self.logs()
        await self.fake.wait_connected()

    def kill(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    async def stop(self) -> None:
        """SIGTERM, waiting without blocking the loop: the fake must keep answering what the bot finishes."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        for _ in range(300):
            if self.process.poll() is not None:
                return
            await asyncio.sleep(0.1)
        self.process.send_signal(signal.SIGABRT)  # the faulthandler writes every thread's stack to the log
        self.process.wait(10)
        raise AssertionError("circlebot run did not stop within 30 s of SIGTERM")

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.tmp_path.glob("bot-*.log")))


@pytest.fixture
async def bot(fake, tmp_path):
    bot = Bot(fake, tmp_path)
    yield bot
    try:
        await bot.stop()
    finally:
        print(bot.logs())


def seed_due_circle(bot: Bot, fake: FakeDiscord) -> None:
    """alice forms "Crew" (starter, 4 weeks) and starts it with bob and carol; week 1's exercise is due now.

    The meeting slot is chosen so that the exercise fell due at the last full
    minute, well within the grace window: a bot starting now sends it at once.
    """
    due = datetime.now(UTC).replace(second=0, microsecond=0)
    commands = build(Settings(database_url=bot.db)).commands
    lead = timedelta(hours=commands.kits["starter"].timing.exercise_lead_hours)
    meeting = due + lead
    slot = f"{meeting.strftime('%a').lower()} {meeting.strftime('%H:%M')}"
    then = due - timedelta(minutes=1)

    def say(who: str, line: str, n: int) -> None:
        person = fake.person(who)
        actor = Actor(UserRef("discord", str(fake.guild_id), str(person.id)), who, "UTC", locale="en-GB")
        commands.handle(Request(actor, Typed(line), request_id=f"seed-{n}"), then)

    say("alice", f"new Crew starter UTC {slot}", 1)
    say("bob", "join crew", 2)
    say("carol", "join crew", 3)
    say("alice", "start #crew", 4)


def weekly_posts(fake: FakeDiscord) -> list[dict]:
    return [m for t in fake.threads() for m in fake.channel_messages(int(t["id"])) if WEEK_1 in m["content"]]


async def check_in(fake: FakeDiscord, who: str, post: dict, answers: list[str]) -> dict:
    """``who`` presses the post's Check in button and submits the form; returns the modal they saw."""
    pressed = await fake.click(who, post)
    opened = await fake.answered(pressed)
    assert opened["type"] == 9, opened  # the form opened as the first answer, within 3 s
    form = opened["data"]
    submitted = await fake.submit(who, form, answers[: len(form["components"])], channel=int(post["channel_id"]))
    await fake.answered(submitted)
    return form


async def test_a_circle_runs_through_discord(fake, bot):
    seed_due_circle(bot, fake)
    await bot.start()

    (post,) = await fake.wait_for(lambda: weekly_posts(fake), 60)
    assert "scope=bot+applications.commands&permissions=" in bot.logs()  # the invite URL, printed on start
    (thread,) = fake.threads()
    assert thread["type"] == 12 and thread["parent_id"] == str(fake.channel_id)
    members = {fake.person(name).id for name in ("alice", "bob", "carol")}
    in_thread = fake.thread_members[int(thread["id"])]
    assert members <= in_thread and fake.people["dan"].id not in in_thread
    assert "Check in" in [b["label"] for row in post["components"] for b in row["components"]]

    form = await check_in(fake, "bob", post, ["Met everyone", "Curiosity", "Finish the draft by Monday"])
    assert 1 <= len(form["components"]) <= 5
    assert all(len(row["components"][0]["label"]) <= 45 for row in form["components"])
    checked_in = await fake.wait_for(
        lambda: [m for m in fake.channel_messages(int(thread["id"])) if "Finish the draft by Monday" in m["content"]])
    assert "bob" in checked_in[0]["content"]

    # Someone outside the circle presses the same button: a polite refusal only they see.
    pressed = await fake.click("dan", post)
    refused = await fake.followup(pressed)
    assert refused[0]["flags"] & 64 and "Crew" in refused[0]["content"]

    # Typed commands go through the same grammar; a new circle's thread opens where it was formed.
    info = await fake.slash("carol", "info")
    assert "Crew" in (await fake.followup(info))[0]["content"]
    formed = await fake.slash("dan", "new", name="Night owls", kit="career", timezone="Asia/Tokyo", day="wed",
                              time="21:30")
    assert "Night owls" in (await fake.followup(formed))[0]["content"]
    await fake.wait_for(lambda: len(fake.threads()) == 2
                        and fake.people["dan"].id in fake.thread_members[int(fake.threads()[1]["id"])])


async def test_killed_mid_post_the_bot_restarts_and_an_old_button_still_works(fake, bot):
    seed_due_circle(bot, fake)
    fake.stall = lambda message: WEEK_1 in message["content"]
    await bot.start()
    (post,) = await fake.wait_for(lambda: weekly_posts(fake), 60)
    bot.kill()  # the post exists, but the bot died before Discord's answer reached it

    await bot.start()
    nonce = post["nonce"]

    def attempts() -> int:
        return sum(1 for r in fake.requests if isinstance(r[2], dict) and r[2].get("nonce") == nonce)

    await fake.wait_for(lambda: attempts() >= 2, 60)
    assert len(weekly_posts(fake)) == 1  # the resend carried the same nonce: Discord returned the first post

    await check_in(fake, "carol", post, ["Hello all", "A friend", "Walk every day"])
    thread = int(post["channel_id"])
    await fake.wait_for(lambda: [m for m in fake.channel_messages(thread) if "Walk every day" in m["content"]])
    assert len(weekly_posts(fake)) == 1


async def test_sign_ups_are_matched_into_a_private_thread_through_discord(fake, bot):
    await bot.start()
    hours = {"alice": "starter tue 17-20 tz Europe/London moderate yes", "bob": "starter tue 18-19 tz Europe/Berlin",
             "carol": "starter tue 12-14 tz America/New_York", "dan": "starter tue 22:30-23:30 tz Asia/Kolkata"}
    for who, text in hours.items():
        signed = await fake.slash(who, "signup", hours=text)
        assert "You are in the pool" in (await fake.followup(signed))[0]["content"]
    refused = await fake.slash("bob", "match", "admin")
    assert "Only a workspace admin" in (await fake.followup(refused))[0]["content"]
    matched = await fake.slash("alice", "match", "admin")  # alice has Manage Server
    assert "1 new circles for 4 people" in (await fake.followup(matched))[0]["content"]
    everyone = {fake.person(name).id for name in hours}
    (thread,) = await fake.wait_for(lambda: [t for t in fake.threads() if everyone <= fake.thread_members[int(t["id"])]], 60)
    assert thread["type"] == 12  # private
