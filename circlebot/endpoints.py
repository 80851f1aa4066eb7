"""``GET /healthz``, ``GET /metrics`` and ``GET /calendar/<token>.ics``, on the port Slack's events come to (``PORT``).

``/healthz`` answers 200 when the database answers, the scheduler is alive (its
last run ended recently, or one is running, or it stands by because another
replica leads) and every adapter is connected; 503 otherwise. Its JSON body says
which part is not. ``/metrics`` is Prometheus text (see :mod:`circlebot.metrics`).
``/calendar/<token>.ics`` is one member's calendar of one circle (the address
``/circle calendar`` gives them); a token never given, replaced, or of someone who
left is 404, and reading a calendar changes nothing. No token is ever logged.

When Slack serves HTTP, these routes join its web app (one port, one server);
otherwise ``circlebot run`` serves them on their own (:meth:`Endpoints.serve`).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Protocol

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import Engine, text

from circlebot import metrics
from storage.outbox import Outbox

log = logging.getLogger(__name__)

#: How long the database has to answer before ``/healthz`` says it does not.
DATABASE_TIMEOUT = 3.0
#: What a calendar token looks like (``secrets.token_urlsafe(32)``); anything else is not looked up.
CALENDAR_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,64}")


class Scheduler(Protocol):
    """What ``/healthz`` reads of the live scheduler."""

    leading: bool
    standing_by: bool
    last_ok: float | None
    heartbeat: timedelta

    @property
    def running(self) -> bool: ...


class Endpoints:
    """The operator's two endpoints for one process.

    Args:
        engine: the database to ping.
        outbox: counted for ``/metrics``.
        stale_after: seconds after which a scheduler that has not run is dead
            (default: three heartbeats, at least a minute).
        calendar: the iCalendar text behind a calendar token, ``None`` for an unknown one
            (the command service's ``calendar_feed`` at the time now); without it, no calendars.
    """

    def __init__(self, engine: Engine, outbox: Outbox, stale_after: float | None = None,
                 calendar: Callable[[str], str | None] | None = None):
        self.engine = engine
        self.outbox = outbox
        self.stale_after = stale_after
        self.calendar = calendar
        self.scheduler: Scheduler | None = None
        #: Each adapter's name, and how to ask whether it is connected.
        self.adapters: dict[str, Callable[[], Awaitable[bool]]] = {}
        self._asking: dict[str, asyncio.Future] = {}

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/healthz", self.healthz), web.get("/metrics", self.metrics),
                web.get("/calendar/{name}", self.calendar_file)]

    async def serve(self, port: int, host: str = "0.0.0.0") -> web.AppRunner:
        """Serve the endpoints alone (no Slack over HTTP in this process); ``cleanup()`` the result to stop."""
        app = web.Application()
        app.add_routes(self.routes())
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        log.info("health and metrics on port %d (GET /healthz, /metrics)", port)
        return runner

    async def healthz(self, _request: web.Request) -> web.Response:
        database = await self._database()
        scheduler = self._scheduler()
        adapters = {name: "connected" if await self._connected(ask) else "disconnected"
                    for name, ask in self.adapters.items()}
        healthy = database == "ok" and scheduler in ("leading", "standing by", "running") and all(
            state == "connected" for state in adapters.values())
        body = {"status": "ok" if healthy else "unavailable", "database": database, "scheduler": scheduler,
                "adapters": adapters}
        return web.json_response(body, status=200 if healthy else 503)

    async def metrics(self, _request: web.Request) -> web.Response:
        try:
            depth = await self._ask_database("depth", self.outbox.depth)
        except Exception as error:  # the rest of the metrics still count, and show the trouble
            log.warning("outbox depth not counted for /metrics: %s", error.__class__.__name__)
            depth = None
        metrics.refresh(depth, self.scheduler is not None and self.scheduler.leading)
        return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def calendar_file(self, request: web.Request) -> web.Response:
        token = request.match_info["name"].removesuffix(".ics")
        if self.calendar is None or not request.match_info["name"].endswith(".ics") or not CALENDAR_TOKEN.fullmatch(token):
            raise web.HTTPNotFound()
        found = await asyncio.to_thread(self.calendar, token)
        if found is None:
            raise web.HTTPNotFound()
        return web.Response(text=found, content_type="text/calendar", charset="utf-8",
                            headers={"Cache-Control": "private, max-age=300"})

    async def _database(self) -> str:
        def ping() -> None:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))

        try:
            await self._ask_database("ping", ping)
        except Exception as error:  # its message may name the server: the class is enough to say what failed
            return f"unreachable ({error.__class__.__name__})"
        return "ok"

    async def _ask_database(self, question: str, ask: Callable[[], object]) -> object:
        """``ask()`` in a worker thread, waited for at most ``DATABASE_TIMEOUT`` s.

        A database that hangs would hold the thread: while one question is unanswered, the next
        scrape waits for the same one rather than taking another of the threads commands need.
        """
        asking = self._asking.get(question)
        if asking is None or asking.done():
            asking = self._asking[question] = asyncio.ensure_future(asyncio.to_thread(ask))
            asking.add_done_callback(lambda done: done.cancelled() or done.exception())  # seen, if nobody waits now
        return await asyncio.wait_for(asyncio.shield(asking), DATABASE_TIMEOUT)

    def _scheduler(self) -> str:
        scheduler = self.scheduler
        if scheduler is None:
            return "not started"
        if scheduler.running:
            return "running"
        stale = self.stale_after or max(60.0, 3 * scheduler.heartbeat.total_seconds())
        recent = scheduler.last_ok is not None and asyncio.get_running_loop().time() - scheduler.last_ok <= stale
        if not recent:
            return "stale"
        return "leading" if scheduler.leading else "standing by"

    @staticmethod
    async def _connected(ask: Callable[[], Awaitable[bool]]) -> bool:
        try:
            return await asyncio.wait_for(ask(), DATABASE_TIMEOUT)
        except Exception:
            return False
