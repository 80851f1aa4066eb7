"""Interaction round trips through the Discord gateway, circlebot against a bare discord.py bot that only answers.

Both run as their own processes, connected to the same local fake Discord
(``tests/fakes/discord_api.py``) in the same run:

* **circlebot**: ``circlebot run`` with ``DISCORD_TOKEN``, ``DISCORD_API_URL`` and
  ``DISCORD_GATEWAY_URL``; each ``/circle info circle:bench`` goes through the
  router, the command service and the database, and is answered with the rendered
  circle info.
* **bare**: an ``AutoShardedClient`` with the same intents whose ``on_interaction``
  only answers with an ephemeral "ok".

The fake sends INTERACTION_CREATE over the gateway and times each until the
interaction's callback arrives over REST; ``--concurrency`` (50) are in flight
at a time. Each round measures both, alternating which goes first. The report
gives p50 and p99 for each and their ratio (circlebot / bare), per round and the
median over rounds. Goal: p99 ratio <= 1.2. Run from the repository root::

    .venv/bin/python -m bench.discord_interactions [--requests 1000] [--rounds 3] [--concurrency 50]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

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


async def load(fake: FakeDiscord, count: int, concurrency: int) -> list[float]:
    """``count`` /circle info interactions, ``concurrency`` in flight; each one's round trip in seconds."""
    latencies: list[float] = []
    left = list(range(count))
    people = list(fake.people)

    async def worker() -> None:
        while left:
            n = left.pop()
            interaction = await fake.slash(people[n % PEOPLE], "info", circle="bench")
            await fake.answered(interaction, timeout=30)
            if interaction.responses[0]["type"] not in (4, 5):
                raise RuntimeError(f"unexpected answer {interaction.responses[0]}")
            latencies.append(interaction.answered_at - interaction.sent_at)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


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
            rounds = []
            for index in range(args.rounds):
                order = ("bare", "circlebot") if index % 2 == 0 else ("circlebot", "bare")
                figures: dict = {}
                for name in order:
                    fake.target = sessions[name]
                    await load(fake, args.concurrency * 2, args.concurrency)  # warm up
                    latencies = await load(fake, args.requests, args.concurrency)
                    figures[name] = {"p50_ms": percentile(latencies, 50) * 1000,
                                     "p99_ms": percentile(latencies, 99) * 1000}
                figures["p50_ratio"] = figures["circlebot"]["p50_ms"] / figures["bare"]["p50_ms"]
                figures["p99_ratio"] = figures["circlebot"]["p99_ms"] / figures["bare"]["p99_ms"]
                rounds.append(figures)
                print(f"round {index + 1}: bare p50 {figures['bare']['p50_ms']:.1f} ms p99 {figures['bare']['p99_ms']:.1f} ms;"
                      f" circlebot p50 {figures['circlebot']['p50_ms']:.1f} ms p99 {figures['circlebot']['p99_ms']:.1f} ms;"
                      f" ratio p50 {figures['p50_ratio']:.2f} p99 {figures['p99_ratio']:.2f}", flush=True)
            if fake.violations:
                raise RuntimeError(f"requests outside the spec: {fake.violations[:3]}")
            return {"rounds": rounds, "p50_ratio": statistics.median(r["p50_ratio"] for r in rounds),
                    "p99_ratio": statistics.median(r["p99_ratio"] for r in rounds),
                    "requests": args.requests, "concurrency": args.concurrency, "loadavg": os.getloadavg()}
        finally:
            for process in (p for p in (ours, bare) if p is not None):
                process.terminate()
                process.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=1000, help="interactions per bot per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--db", help="database URL for circlebot (default: a fresh SQLite file)")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--bare", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare:
        bare_bot()
        return
    result = asyncio.run(measure(args))
    print(f"median over {args.rounds} rounds: p50 ratio {result['p50_ratio']:.2f}, p99 ratio {result['p99_ratio']:.2f}"
          f" (goal p99 <= 1.2); load average {result['loadavg'][0]:.1f}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
