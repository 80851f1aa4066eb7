"""A chat platform on localhost for crash, replica and load tests.

It accepts ``POST /api/messages`` with ``{"channel", "key", "nonce"}``, enforces a
rate limit the way Discord does (HTTP 429 with ``Retry-After`` and a JSON
``retry_after``), and honours ``enforce_nonce`` as Discord's create-message
does: a second message with a nonce it has seen returns the first one and
creates nothing. It can answer after a random ``latency`` (seconds, low and
high), as a real platform's API takes 100-200 ms, and notes when it created the
first and the last message (``time.monotonic``, comparable across processes on
Linux), so a benchmark counts messages where they arrive. It runs its own event loop in a thread, so tests and other
processes can post to it while the test waits.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections import Counter

from aiohttp import web


class FakePlatform:
    #: Seconds of requests the rate limit lets through at once after a quiet spell.
    BURST_SECONDS = 1.0

    def __init__(self, rate_per_second: float | None = None, latency: tuple[float, float] | None = None):
        self.rate = rate_per_second
        self.latency = latency
        self.first_at: float | None = None
        self.last_at: float | None = None
        self.created: dict[str, dict] = {}  # nonce -> message
        self.order: list[str] = []  # keys in creation order
        self.requests = 0
        self.rejected = 0
        self._tokens = rate_per_second or 0.0
        self._refilled = time.monotonic()
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self.url = ""

    def _allow(self) -> float:
        """0 when a request may pass, else seconds to wait (token bucket, one second of burst)."""
        if not self.rate:
            return 0.0
        now = time.monotonic()
        self._tokens = min(self.rate * self.BURST_SECONDS, self._tokens + (now - self._refilled) * self.rate)
        self._refilled = now
        if self._tokens >= 1:
            self._tokens -= 1
            return 0.0
        return (1 - self._tokens) / self.rate

    async def _create(self, request: web.Request) -> web.Response:
        body = await request.json()
        if self.latency:
            await asyncio.sleep(random.uniform(*self.latency))
        with self._lock:
            self.requests += 1
            wait = self._allow()
            if wait:
                self.rejected += 1
                return web.json_response(
                    {"message": "You are being rate limited.", "retry_after": wait, "global": True},
                    status=429, headers={"Retry-After": f"{wait:.3f}"},
                )
            nonce = body.get("nonce") or f"no-nonce-{self.requests}"
            if body.get("enforce_nonce") and nonce in self.created:
                return web.json_response(self.created[nonce])
            message = {"id": str(len(self.created) + 1), "channel_id": body["channel"], "key": body["key"], "nonce": nonce}
            self.created[nonce] = message
            self.order.append(body["key"])
            self.last_at = time.monotonic()
            self.first_at = self.first_at or self.last_at
        return web.json_response(message)

    def start(self) -> str:
        ready = threading.Event()

        def serve() -> None:
            asyncio.set_event_loop(self._loop)
            app = web.Application()
            app.router.add_post("/api/messages", self._create)
            self._runner = web.AppRunner(app, access_log=None)
            self._loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            self._loop.run_until_complete(site.start())
            port = site._server.sockets[0].getsockname()[1]
            self.url = f"http://127.0.0.1:{port}"
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=serve, daemon=True)
        self._thread.start()
        ready.wait(10)
        return self.url

    def stop(self) -> None:
        async def close() -> None:
            await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def duplicates(self) -> dict[str, int]:
        """Keys created more than once (should be none)."""
        with self._lock:
            return {key: n for key, n in Counter(self.order).items() if n > 1}
