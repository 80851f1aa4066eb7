"""Interaction round trips through the Discord gateway, circlebot against a bare discord.py bot that only answers.

Both run as their own processes, connected to the same local fake Discord
(``tests/fakes/discord_api.py``) in the same run:

* **circlebot**: ``circlebot run`` with ``DISCORD_TOKEN``, ``DISCORD_API_URL`` and
  ``DISCORD_GATEWAY_URL``; each ``/circle info circle:bench`` is deferred at once,
  then goes through the router, the command service and the database, and the
  rendered circle info follows up.
* **bare**: an ``AutoShardedClient`` with the same intents whose ``on_interaction``
  only answers with an ephemeral "ok".

The fake sends INTERACTION_CREATE over the gateway and times each until the
interaction's callback arrives over REST (the answer Discord needs within 3 s:
circlebot defers at once, the bare bot answers with its message);
``--concurrency`` (50) are in flight at a time. It also reports, for both, the
time until the person can read the answer (circlebot's follow-up). Each round
measures both, alternating which goes first. The report gives p50 and p99 for
each and their ratio (circlebot / bare), per round and the median over rounds.
Goal: p99 ratio <= 1.2. Run from the repository root::

    .venv/bin/python -m bench.discord_interactions [--requests 1000] [--rounds 3] [--concurrency 50]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.against_bare import alternate, arguments, percentile, report, summary
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.specs import ROOT

PEOPLE = 50
TOKEN = "fake-token"


def bare_bot() -> None:
    """The baseline: discord.py, the same fake and intents, a handler that only answers."""
    import discord

    from adapters.discord.app import point_at

    point_at(os.environ["DISCORD_API_URL"], os.environ["DISCORD_GATEWAY_URL"])
    client = discord.AutoShardedClient(intents=discord.Intents(guilds=True))

    @client.event
    async def on_interaction(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("ok", ephemeral=True)

    client.run(os.environ["DISCORD_TOKEN"], log_handler=None)


async def connect(fake: FakeDiscord, process: subprocess.Popen, before: int) -> object:
    """The gateway session of the bot just started (the ``before``-th one to identify)."""
    async def identified():
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} exited with {process.returncode}")
        sessions = list(fake.sessions.values())
        return sessions[before] if len(sessions) > before and sessions[before].ws is not None else None

    for _ in range(600):
        session = await identified()
        if session is not None:
            await asyncio.sleep(0.5)  # GUILD_CREATE processed
            return session
        await asyncio.sleep(0.1)
    raise RuntimeError("the bot did not connect")


async def load(fake: FakeDiscord, count: int, concurrency: int) -> tuple[list[float], list[float]]:
    """``count`` /circle info interactions, ``concurrency`` in flight.

    Returns:
        Each one's round trip to its answer (the callback Discord needs within 3 s, a message or a
        deferral), and to the message the person reads (the same callback, or the follow-up), in seconds.
    """
    answered: list[float] = []
    said: list[float] = []
    left = list(range(count))
    people = list(fake.people)

    async def worker() -> None:
        while left:
            n = left.pop()
            interaction = await fake.slash(people[n % PEOPLE], "info", circle="bench")
            await fake.wait_for(lambda: interaction.said_at, timeout=30)
            if interaction.responses[0]["type"] not in (4, 5):
                raise RuntimeError(f"unexpected answer {interaction.responses[0]}")
            answered.append(interaction.answered_at - interaction.sent_at)
            said.append(interaction.said_at - interaction.sent_at)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return answered, said


async def seed(fake: FakeDiscord) -> None:
    """One running circle whose info everyone asks for; the answer must really be the circle's info."""
    people = list(fake.people)
    formed = await fake.slash(people[0], "new", name="Bench", kit="starter", timezone="Europe/London", day="tue",
                              time="17:00")
    await fake.followup(formed)
    for person in people[1:4]:
        await fake.followup(await fake.slash(person, "join", circle="bench"))
    await fake.followup(await fake.slash(people[0], "start", "mod", circle="bench"))
    (answer,) = await fake.followup(await fake.slash(people[7], "info", circle="bench"))
    if "Bench" not in answer["content"]:
        raise RuntimeError(f"/circle info did not answer with the circle: {answer['content'][:300]}")


async def measure(args: argparse.Namespace) -> dict:
    async with FakeDiscord(tuple(f"person{n}" for n in range(PEOPLE))) as fake:
        folder = Path(tempfile.mkdtemp(prefix="circlebot-bench-discord-"))
        env = {**os.environ, "DISCORD_TOKEN": TOKEN, "DISCORD_API_URL": fake.api_url,
               "DISCORD_GATEWAY_URL": fake.gateway_url, "DATABASE_URL": args.db or f"sqlite:///{folder}/bench.db",
               "CIRCLEBOT_LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT)}
        bare = subprocess.Popen([sys.executable, "-m", "bench.discord_interactions", "--bare"], env=env, cwd=ROOT)
        ours = None
        try:
            sessions = {"bare": await connect(fake, bare, 0)}
            ours = subprocess.Popen([sys.executable, "-m", "circlebot.cli", "run"], env=env, cwd=folder)
            sessions["circlebot"] = await connect(fake, ours, 1)
            fake.target = sessions["circlebot"]
            await seed(fake)
            said: dict[str, list[float]] = {"bare": [], "circlebot": []}

            async def measure_one(name: str) -> list[float]:
                fake.target = sessions[name]
                await load(fake, args.concurrency * 2, args.concurrency)  # warm up
                answered, shown = await load(fake, args.requests, args.concurrency)
                said[name] += shown
                return answered

            rounds = await alternate(args.rounds, measure_one)
            read = {name: {"p50_ms": percentile(v, 50) * 1000, "p99_ms": percentile(v, 99) * 1000}
                    for name, v in said.items()}
            print(f"until the answer is read, all rounds: bare p50 {read['bare']['p50_ms']:.1f} ms p99"
                  f" {read['bare']['p99_ms']:.1f} ms; circlebot p50 {read['circlebot']['p50_ms']:.1f} ms p99"
                  f" {read['circlebot']['p99_ms']:.1f} ms", flush=True)
            if fake.violations:
                raise RuntimeError(f"requests outside the spec: {fake.violations[:3]}")
            return {**summary(rounds, args), "read": read}
        finally:
            for process in (p for p in (ours, bare) if p is not None):
                process.terminate()
                process.wait(30)


def main() -> None:
    parser = arguments(__doc__.split("\n")[0], "interactions")
    parser.add_argument("--bare", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare:
        bare_bot()
        return
    report(asyncio.run(measure(args)), args)


if __name__ == "__main__":
    main()
