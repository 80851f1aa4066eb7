"""Two ``circlebot run`` replicas on one PostgreSQL database, the leader killed mid-post, then restarted.

Real processes, each serving Slack over HTTP (and ``/healthz``, ``/metrics``) on
its own port, against one fake Slack. The first leads; the second, started on
the same database, stands by and says so, while still taking commands (their
deliveries go out through the leader). The leader is killed with SIGKILL while
Slack holds the answer to a post it made: the standby takes the lead at its next
heartbeat, resends what the dead leader had claimed (finding that post in the
channel's history rather than posting it again), and ``/healthz`` says it leads.
The killed replica, restarted, stands by. Every post reaches Slack exactly once,
in order per circle; every fault is in the JSON logs and in ``/metrics``.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import aiohttp
import pytest
from dbfixtures import pg_schema, require_postgres  # noqa: F401  (fixtures)
from fakes.slack_api import FakeSlack
from fakes.slack_requests import SignedRequests
from fakes.specs import spec_path
from sqlalchemy import text

from adapters.slack import render as slack_render
from storage.database import make_engine, upgrade
from storage.outbox import SENT, Outbox
from tests.slack_world import SECRET, TOKEN, free_port, text_of

ROOT = Path(__file__).resolve().parents[2]
PEOPLE = {"U0ALICE": "alice", "U0BOB": "bob", "U0CAROL": "carol"}
#: The live scheduler's heartbeat in ``circlebot run``: a standby takes over within one.
HEARTBEAT = 10.0
#: Seconds to start a process on a busy machine (imports, migrations, the first heartbeat).
START_WITHIN = 60.0

pytestmark = pytest.mark.timeout(240)


class Replica:
    """``circlebot run`` in a child process on ``PORT``, its JSON log in a file."""

    def __init__(self, name: str, fake: FakeSlack, database_url: str, tmp_path: Path):
        self.name = name
        self.port = free_port()
        self.log = tmp_path / f"{name}.log"
        self.env = {**os.environ, "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET,
                    "SLACK_API_URL": fake.api_url, "PORT": str(self.port), "DATABASE_URL": database_url,
                    "PYTHONPATH": str(ROOT), "CIRCLEBOT_LOG_LEVEL": "INFO", "CIRCLEBOT_LOG_FORMAT": "json"}
        self.process: subprocess.Popen | None = None
        self.slack = SignedRequests(f"http://127.0.0.1:{self.port}/slack/events", SECRET, fake)

    def start(self) -> None:
        with open(self.log, "ab") as output:
            self.process = subprocess.Popen([sys.executable, "-m", "circlebot.cli", "run"], env=self.env, cwd=ROOT,
                                            stdout=output, stderr=subprocess.STDOUT)

    async def health(self) -> tuple[int, dict]:
        try:
            async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{self.port}/healthz") as got:
                return got.status, json.loads(await got.text())
        except aiohttp.ClientError:
            return 0, {}

    async def metrics(self) -> str:
        async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{self.port}/metrics") as got:
            return await got.text()

    async def until_healthy(self, scheduler: str, within: float) -> float:
        """Wait until ``/healthz`` is 200 with the scheduler ``scheduler``; returns the seconds it took."""
        started = time.monotonic()
        while True:
            assert self.process.poll() is None, f"{self.name} exited:\n{self.output()}"
            status, body = await self.health()
            if status == 200 and body.get("scheduler") == scheduler:
                return time.monotonic() - started
            if time.monotonic() - started > within:
                raise AssertionError(f"{self.name}: /healthz {status} {body} after {within} s, not {scheduler!r}")
            await asyncio.sleep(0.1)

    def kill_9(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        assert self.process.wait(10) == -signal.SIGKILL

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                return self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        return self.process.wait(10)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def lines(self) -> list[dict]:
        return [json.loads(line) for line in self.output().splitlines() if line.startswith("{")]


def metric(page: str, name: str) -> float:
    """The value of one sample line (``name`` with its labels, as Prometheus writes it), 0 if absent."""
    for line in page.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return 0.0


def posts_by_key(fake: FakeSlack) -> list[str]:
    messages = [m for channel in list(fake.channels.values()) for m in list(channel.messages)]
    return [key for m in sorted(messages, key=lambda m: float(m["ts"])) if (key := slack_render.outbox_key(m))]


async def test_a_second_replica_stands_by_then_takes_over_from_a_killed_leader(pg_schema, tmp_path):  # noqa: F811
    require_postgres()
    upgrade(make_engine(pg_schema))  # migrated once: replicas starting on an empty schema race to create it
    fake = FakeSlack(spec_path("slack/web_api_openapi_v2.json")).start()
    for user, name in PEOPLE.items():
        fake.add_user(user, name, "Europe/London")
    engine = make_engine(pg_schema)
    outbox = Outbox(engine)
    first, second = (Replica(name, fake, pg_schema, tmp_path) for name in ("first", "second"))
    try:
        first.start()
        await first.until_healthy("leading", START_WITHIN)
        second.start()
        await second.until_healthy("standing by", START_WITHIN)
        assert metric(await second.metrics(), "circlebot_scheduler_leader") == 0
        assert metric(await first.metrics(), "circlebot_scheduler_leader") == 1

        # A command to the standby: handled there, delivered by the leader within a heartbeat.
        started = time.monotonic()
        await second.slack.command("U0ALICE", 'new "Crew" starter Europe/London tue 17:00')
        await fake.wait_until(lambda: any(c.name == "crew" for c in fake.channels.values()), HEARTBEAT + 10,
                              "the leader to open the circle's channel")
        await fake.wait_until(lambda: set(outbox.counts()) == {SENT}, HEARTBEAT + 10, "the welcome posts")
        print(f"a command to the standby was delivered by the leader in {time.monotonic() - started:.1f} s")
        channel = fake.channel_named("crew")

        # The leader posts Bob's join, but Slack's answer never comes back; the leader dies meanwhile.
        fake.hang("chat.postMessage")
        await first.slack.command("U0BOB", "join crew")
        joined = lambda: [m for m in channel.messages if "bob joined" in text_of(m).lower()]  # noqa: E731
        await fake.wait_until(lambda: len(joined()) == 1, 30, "the join post to reach Slack")
        first.kill_9()
        killed_at = time.monotonic()

        took = await second.until_healthy("leading", HEARTBEAT + 15)
        await fake.wait_until(lambda: set(outbox.counts()) == {SENT}, 15, "the new leader to finish the claims")
        resumed = time.monotonic() - killed_at
        assert resumed < HEARTBEAT + 15, f"delivery resumed {resumed:.1f} s after the kill"
        assert metric(await second.metrics(), "circlebot_scheduler_leader") == 1
        assert len(joined()) == 1, "the killed leader's post was posted again"
        print(f"the standby led {took:.1f} s after the kill; everything was out {resumed:.1f} s after it")

        # The killed replica comes back and stands by; commands go on through either one.
        first.start()
        await first.until_healthy("standing by", START_WITHIN)
        await first.slack.command("U0CAROL", "join crew")
        await fake.wait_until(lambda: any("carol joined" in text_of(m).lower() for m in channel.messages), 15,
                              "carol's join post")
        await fake.wait_until(lambda: set(outbox.counts()) == {SENT}, 15, "every delivery")

        created = posts_by_key(fake)
        assert {k: n for k, n in Counter(created).items() if n > 1} == {}, "a post was made twice"
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT key, kind, lane FROM outbox ORDER BY id")).all()
        queued = [(key, lane) for key, kind, lane in rows if kind in ("PostToCircle", "PostInThread", "DirectMessage")]
        assert sorted(created) == sorted(key for key, _ in queued), "lost or unexpected posts"
        for lane in {lane for _, lane in queued}:  # a circle's space, or one member's DMs, keeps its order
            in_lane = [key for key, each in queued if each == lane]
            assert [key for key in created if key in in_lane] == in_lane, "posts out of order"
        assert fake.violations == []

        second_lines = second.lines()
        assert sum("Another process holds" in line["message"] for line in second_lines) == 1  # said once
        resent = [line for line in second_lines if "already posted" in line["message"]]
        assert resent and all(line.get("circle") and line.get("key") for line in resent), resent
        assert any("Another process holds" in line["message"] for line in first.lines())  # the restart stands by
    finally:
        for replica in (first, second):
            if replica.process is not None:
                replica.stop()
            await replica.slack.close()
        fake.stop()
        engine.dispose()
    for replica in (first, second):
        assert "Traceback" not in replica.output(), replica.output()
        assert TOKEN not in replica.output() and SECRET not in replica.output()
