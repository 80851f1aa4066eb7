"""``/circle info`` through the Slack HTTP path, against a bare slack-bolt app that only acknowledges.

Both run as their own processes on the same machine and in the same run:

* **circlebot**: ``circlebot run`` with ``SLACK_BOT_TOKEN``, ``SLACK_SIGNING_SECRET`` and
  ``SLACK_API_URL`` pointing at the local fake Slack. It verifies the signature and
  acknowledges at once, then looks the person up (``users.info``, cached), runs
  ``info`` through the command service and the database, and posts the rendered
  answer to the request's ``response_url`` (the fake Slack notes when it arrives).
* **bare**: an ``AsyncApp`` with the same token, secret and fake Slack whose
  ``/circle`` listener only calls ``ack()``.

Each round sends the same signed slash commands to both, ``--concurrency`` at a
time (50 people by default, each sending the next command once the last one is
answered), alternating which goes first. Two latencies are measured from sending
a request: to its acknowledgement (what Slack's 3 seconds apply to), and, for
circlebot, to its answer reaching ``response_url`` (what the person waits for).
With ``--burst`` circlebot's people send again as soon as they are acknowledged,
like the bare app's: the acknowledgements then meet the full load, and the
answers queue behind the database. The report gives p50 and p99 of each as a ratio to the bare app's
acknowledgement, per round and the median over rounds. Goal: acknowledgement
p99 ratio ≤ 1.2. Run from the repository root::

    .venv/bin/python -m bench.slack_http [--requests 1000] [--rounds 3] [--concurrency 50]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import aiohttp

from bench.against_bare import alternate, arguments, percentile, report, summary
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


def command_body(fake: FakeSlack, user: str, text: str) -> tuple[bytes, str]:
    """A slash command's form body, and its response_url."""
    response_url = fake.response_url()
    form = {
        "token": "unused", "team_id": fake.team, "team_domain": "bench", "channel_id": "C0GENERAL",
        "channel_name": "general", "user_id": user, "user_name": user.lower(), "command": "/circle", "text": text,
        "api_app_id": "AFAKE", "is_enterprise_install": "false", "response_url": response_url,
        "trigger_id": fake.new_trigger(),
    }
    return urlencode(form).encode(), response_url


async def load(
    url: str, requests: list[tuple[bytes, str]], concurrency: int, fake: FakeSlack | None = None
) -> dict[str, tuple[float, float]]:
    """Send every request (signed just before) as ``concurrency`` people, each waiting for their answer.

    With ``fake``, a person waits for the answer to reach response_url before the next command
    (circlebot); without, the acknowledgement is the answer (the bare app).

    Returns:
        For each response_url: when its request was sent and how long its acknowledgement took (perf_counter).
    """
    timings: dict[str, tuple[float, float]] = {}
    queue = list(reversed(requests))
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            while queue:
                body, response_url = queue.pop()
                headers = {"Content-Type": "application/x-www-form-urlencoded", **signature_headers(SECRET, body)}
                started = time.perf_counter()
                async with session.post(url, data=body, headers=headers) as response:
                    text = await response.text()
                timings[response_url] = (started, time.perf_counter() - started)
                if response.status != 200:
                    raise RuntimeError(f"{url}: HTTP {response.status} {text[:200]}")
                while fake is not None and response_url not in fake.answered_at:
                    await asyncio.sleep(0.002)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return timings


async def answered(fake: FakeSlack, timings: dict[str, tuple[float, float]]) -> list[float]:
    """How long each request took to be answered through its response_url (waits for the last)."""
    await fake.wait_until(lambda: all(u in fake.answered_at for u in timings), timeout=120, what="every answer")
    return [fake.answered_at[u] - started for u, (started, _ack) in timings.items()]


def spread(seconds: list[float]) -> dict[str, float]:
    return {"p50_ms": percentile(seconds, 50) * 1000, "p99_ms": percentile(seconds, 99) * 1000}


async def seed(fake: FakeSlack, url: str) -> None:
    """One running circle whose info everyone asks for; its answer must really be the circle's info."""
    requests = SignedRequests(url, SECRET, fake)
    try:
        await requests.command("U00", 'new "Bench" starter Europe/London tue 17:00')
        for n in range(1, 4):
            await requests.command(f"U{n:02}", "join bench")
        await requests.command("U00", "start #bench")
        asked = await requests.command("U07", "info #bench")
        await fake.wait_until(lambda: "Bench" in str(fake.responses_to(asked.response_url)), what="info's answer")
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
        answers: list[list[float]] = []  # circlebot's answer latencies, one list per round

        async def measure_one(name: str) -> list[float]:
            """Acknowledgement latencies; for circlebot, its answer latencies are kept in ``answers``."""
            requests = [command_body(fake, f"U{n % PEOPLE:02}", "info #bench") for n in range(args.requests)]
            waits_for = fake if name == "circlebot" and not args.burst else None
            await load(urls[name], requests[: args.concurrency * 2], args.concurrency, waits_for)  # warm up
            timings = await load(urls[name], requests[args.concurrency * 2:], args.concurrency, waits_for)
            if name == "circlebot":
                answers.append(await answered(fake, timings))
            return [ack for _started, ack in timings.values()]

        rounds = await alternate(args.rounds, measure_one)
        if fake.violations:
            raise RuntimeError(f"calls outside the spec: {fake.violations[:3]}")
        for figures, latencies in zip(rounds, answers):
            figures["answer"] = spread(latencies)
            for p in ("p50", "p99"):
                figures[f"answer_{p}_ratio"] = figures["answer"][f"{p}_ms"] / figures["bare"][f"{p}_ms"]
        result = summary(rounds, args)
        for p in ("p50", "p99"):
            result[f"answer_{p}_ratio"] = statistics.median(r[f"answer_{p}_ratio"] for r in rounds)
        return result
    finally:
        for process in (ours, bare):
            process.terminate()
            process.wait(30)
        fake.stop()


def main() -> None:
    parser = arguments(__doc__.split("\n")[0], "requests")
    parser.add_argument("--burst", action="store_true",
                        help="circlebot's people send again once acknowledged, not answered (answers queue up)")
    parser.add_argument("--bare", nargs=2, metavar=("PORT", "API_URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare:
        bare_app(int(args.bare[0]), args.bare[1])
        return
    result = asyncio.run(measure(args))
    for index, figures in enumerate(result["rounds"], start=1):
        print(f"round {index}: answered p50 {figures['answer']['p50_ms']:.1f} ms p99 {figures['answer']['p99_ms']:.1f} ms")
    print(f"answers reached response_url: median p50 ratio {result['answer_p50_ratio']:.2f},"
          f" p99 ratio {result['answer_p99_ratio']:.2f} (to the bare app's acknowledgement)")
    report(result, args)


if __name__ == "__main__":
    main()
