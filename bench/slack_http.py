"""``/circle info`` through the Slack HTTP path, against a bare slack-bolt app that only acknowledges.

Both run as their own processes on the same machine and in the same run:

* **circlebot**: ``circlebot run`` with ``SLACK_BOT_TOKEN``, ``SLACK_SIGNING_SECRET`` and
  ``SLACK_API_URL`` pointing at the local fake Slack; it verifies the signature,
  looks the person up (``users.info``, cached), runs ``info`` through the command
  service and the database, and acknowledges with the rendered answer.
* **bare**: an ``AsyncApp`` with the same token, secret and fake Slack whose
  ``/circle`` listener only calls ``ack()``.

Each round sends the same signed slash commands to both, ``--concurrency`` at a
time (50 by default), alternating which goes first; latency is measured from
sending a request to reading its response. The report gives p50 and p99 for
each and their ratio (circlebot ÷ bare), per round and the median over rounds.
Goal: p99 ratio ≤ 1.2. Run from the repository root::

    .venv/bin/python -m bench.slack_http [--requests 1000] [--rounds 3] [--concurrency 50]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import aiohttp

from bench.against_bare import alternate, arguments, report, summary
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_requests import SignedRequests, signature_headers
from tests.fakes.specs import ROOT, spec_path

SECRET = "bench-signing-secret"
TOKEN = "xoxb-fake-token"
PEOPLE = 50


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def wait_listening(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{process.args} exited with {process.returncode}")
            try:
                async with session.post(url, data=b"") as response:
                    await response.read()
                    return
            except aiohttp.ClientError:
                await asyncio.sleep(0.2)
    raise RuntimeError(f"nothing listens at {url}")


def bare_app(port: int, api_url: str) -> None:
    """The baseline: slack-bolt, the same token and secret, a listener that only acknowledges."""
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    app = AsyncApp(client=AsyncWebClient(token=TOKEN, base_url=api_url), signing_secret=SECRET)

    @app.command("/circle")
    async def circle(ack):
        await ack()

    app.start(port=port, host="127.0.0.1")


def command_body(fake: FakeSlack, user: str, text: str) -> bytes:
    form = {
        "token": "unused", "team_id": fake.team, "team_domain": "bench", "channel_id": "C0GENERAL",
        "channel_name": "general", "user_id": user, "user_name": user.lower(), "command": "/circle", "text": text,
        "api_app_id": "AFAKE", "is_enterprise_install": "false", "response_url": fake.response_url(),
        "trigger_id": fake.new_trigger(),
    }
    return urlencode(form).encode()


async def load(url: str, bodies: list[bytes], concurrency: int) -> list[float]:
    """Send every body (signed just before), ``concurrency`` at a time; each one's latency in seconds."""
    latencies: list[float] = []
    queue = list(reversed(bodies))
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            while queue:
                body = queue.pop()
                headers = {"Content-Type": "application/x-www-form-urlencoded", **signature_headers(SECRET, body)}
                started = time.perf_counter()
                async with session.post(url, data=body, headers=headers) as response:
                    text = await response.text()
                latencies.append(time.perf_counter() - started)
                if response.status != 200:
                    raise RuntimeError(f"{url}: HTTP {response.status} {text[:200]}")

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies



async def seed(fake: FakeSlack, url: str) -> None:
    """One running circle whose info everyone asks for; its answer must really be the circle's info."""
    requests = SignedRequests(url, SECRET, fake)
    try:
        await requests.command("U00", 'new "Bench" starter Europe/London tue 17:00')
        for n in range(1, 4):
            await requests.command(f"U{n:02}", "join bench")
        await requests.command("U00", "start #bench")
        answer = await requests.command("U07", "info #bench")
        if "Bench" not in answer.body:
            raise RuntimeError(f"/circle info did not answer with the circle: {answer.body[:300]}")
    finally:
        await requests.close()


async def measure(args: argparse.Namespace) -> dict:
    fake = FakeSlack(spec_path("slack/web_api_openapi_v2.json")).start()
    for n in range(PEOPLE):
        fake.add_user(f"U{n:02}", f"person{n}", "Europe/London")
    folder = Path(tempfile.mkdtemp(prefix="circlebot-bench-slack-"))
    ours_port, bare_port = free_port(), free_port()
    env = {**os.environ, "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": fake.api_url,
           "PORT": str(ours_port), "DATABASE_URL": args.db or f"sqlite:///{folder}/bench.db",
           "CIRCLEBOT_LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT)}
    ours = subprocess.Popen([sys.executable, "-m", "circlebot.cli", "run"], env=env, cwd=ROOT)
    bare = subprocess.Popen([sys.executable, "-m", "bench.slack_http", "--bare", str(bare_port), fake.api_url],
                            env=env, cwd=ROOT)
    urls = {"circlebot": f"http://127.0.0.1:{ours_port}/slack/events",
            "bare": f"http://127.0.0.1:{bare_port}/slack/events"}
    try:
        for name, process in (("circlebot", ours), ("bare", bare)):
            await wait_listening(urls[name], process)
        await seed(fake, urls["circlebot"])
        async def measure_one(name: str) -> list[float]:
            bodies = [command_body(fake, f"U{n % PEOPLE:02}", "info #bench") for n in range(args.requests)]
            await load(urls[name], bodies[: args.concurrency * 2], args.concurrency)  # warm up
            return await load(urls[name], bodies, args.concurrency)

        rounds = await alternate(args.rounds, measure_one)
        if fake.violations:
            raise RuntimeError(f"calls outside the spec: {fake.violations[:3]}")
        return summary(rounds, args)
    finally:
        for process in (ours, bare):
            process.terminate()
            process.wait(30)
        fake.stop()


def main() -> None:
    parser = arguments(__doc__.split("\n")[0], "requests")
    parser.add_argument("--bare", nargs=2, metavar=("PORT", "API_URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare:
        bare_app(int(args.bare[0]), args.bare[1])
        return
    report(asyncio.run(measure(args)), args)


if __name__ == "__main__":
    main()
