"""Ticking in a process of its own: a fan-out's ticks do not take turns with sending and commands.

One interpreter runs one thread of Python at a time. In a synchronized fan-out
(35,000 circles due at once) ticking is a few minutes of CPU-bound work; in the
same process it takes the interpreter's turns from the event loop that sends,
from the claims, and from every person's command, which then waits for its
turns (command p99 of 200-600 ms during a fan-out, against 20 ms without one).
:class:`TickProcess` keeps the :class:`~circlebot.ticker.Ticker`'s interface
for the :class:`~scheduler.runner.Runner` but ticks in a child process on its
own connection to the same database, where the outbox already carries what the
ticks queue to the process that delivers it. ``circlebot run`` uses it when this
process may use two CPUs or more (``CIRCLEBOT_TICK_PROCESS`` overrides): on this
2-CPU machine a 35,000-circle fan-out at 1,000 messages a second (SQLite, platform
latency) took 1.05 of its floor with ticks in their own process against 1.36 in a
thread, and commands' p99 during it fell from about 135 ms to 79 (``bench/README.md``). On SQLite people's commands
still go first: the parent's store counts its open command transactions in shared
memory (:class:`~storage.commands_open.SharedCommandsOpen`), and the child's ticks
wait on that count as in-process ticks do, so the file's one writer is theirs. On
PostgreSQL, which locks rows, the child does not wait: the two processes share no
interpreter and no lock a command needs but its own circle's.

The child is started on first use and again if it died (the call that found it
dead fails, as a failed tick would, and the scheduler runs again). Its log
records come back to this process's handlers, so they are formatted, redacted
and captured as this process's own. It ends when this process ends: it reads
its orders from a pipe, and a pipe whose other end is gone ends it.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import threading
import time
from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy.engine import URL

from circlebot.ticker import Ticker
from storage.commands_open import SharedCommandsOpen
from kits.schema import Kit

log = logging.getLogger(__name__)

#: How long the child may take to start (imports, the database engine) before the tick fails.
START_TIMEOUT = 60.0


def _serve(
    orders, records, commands_open: SharedCommandsOpen, url: str, kits: Mapping[str, Kit], grace: timedelta,
    locale: str, level: int,
) -> None:
    """The child: tick at each moment it is sent, answer (ok, ticked or error, CPU seconds); stop on None or EOF."""
    import logging.handlers

    root = logging.getLogger()
    root.handlers[:] = [logging.handlers.QueueHandler(records)]
    root.setLevel(level)
    from scheduler.live import settle_collector
    from storage.database import make_engine
    from storage.repository import Store

    engine = make_engine(url)
    # Commands first where the two processes share something a command waits for: SQLite's one writer.
    # PostgreSQL locks rows, not the database, and a tick that paused between circles would only hold its
    # page's rows longer (a fan-out at 1,000/s ticked in 59-70 s without them, 71-80 s with them).
    ticker = Ticker(Store(engine, commands_open if engine.dialect.name == "sqlite" else None), kits, grace, locale)
    settle_collector()
    orders.send("ready")
    while True:
        try:
            now = orders.recv()
        except EOFError:  # the parent is gone
            break
        if now is None:
            break
        cpu = time.process_time()
        try:
            answer = (True, ticker.tick_due(now))
        except Exception as error:  # the parent raises it; the traceback is logged here, where it happened
            logging.getLogger(__name__).exception("ticking failed")
            answer = (False, f"{error.__class__.__name__}: {error}")
        orders.send((*answer, time.process_time() - cpu))
    engine.dispose()
    records.put(None)


def separable(url: URL) -> bool:
    """Whether another process can open the database at ``url``: not an in-memory SQLite one."""
    return url.get_backend_name() != "sqlite" or url.database not in (None, "", ":memory:")


def wanted(setting: bool | None, url: URL) -> bool:
    """Whether to tick in a process of its own: as set, else when this process may use two CPUs or more.

    On one CPU the two processes would only take turns; on two, a fan-out's ticks run beside the
    sending and people's commands (measured in ``bench/README.md``).
    """
    several = len(os.sched_getaffinity(0)) > 1 if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1) > 1
    return separable(url) and (several if setting is None else setting)


class TickProcess:
    """``ticker``'s work, done by a child process on the database at ``url``.

    Args:
        ticker: the in-process ticker whose kits, grace and language the child uses;
            its store answers :meth:`Store.next_wake` here, and from now on counts its
            open commands where the child sees them (make this before any command runs).
        url: the database's URL (a file or a server, see :func:`separable`: the child opens its own connection).

    Attributes:
        cpu_seconds: the child's CPU time spent ticking, over every call.
    """

    def __init__(self, ticker: Ticker, url: URL | str):
        self.store = ticker.store
        self.grace = ticker.grace
        url = url if isinstance(url, str) else url.render_as_string(hide_password=False)
        self._settings = (url, dict(ticker.kits), ticker.grace, ticker.locale)
        self._lock = threading.Lock()  # one tick at a time, as with one ticker
        self._context = multiprocessing.get_context("spawn")  # a fresh interpreter: no threads or locks inherited
        self._commands_open = self.store.commands_open = SharedCommandsOpen(self._context)
        self._process = None
        self._orders = None
        self._forwarding: threading.Thread | None = None
        self._ready = False  # the child said so
        self.cpu_seconds = 0.0

    def start(self, wait: bool = False) -> None:
        """Start the child now (else the first tick starts it); the first tick waits until it is ready, or this does with ``wait``."""
        with self._lock:
            self._start()
            if wait:
                self._wait_until_ready()

    def _start(self) -> None:
        if self._process is not None and self._process.is_alive():
            return
        self._ready = False
        self._stop_forwarding()
        self._orders, child_end = self._context.Pipe()
        records = self._context.Queue()
        self._process = self._context.Process(
            target=_serve, args=(child_end, records, self._commands_open, *self._settings, logging.getLogger().getEffectiveLevel()),
            name="circlebot-ticks", daemon=True,
        )
        self._process.start()
        child_end.close()
        self._forwarding = threading.Thread(target=_forward, args=(records, self._process), name="tick-process-logs", daemon=True)
        self._forwarding.start()
        log.info("ticking in process %d", self._process.pid)

    def _wait_until_ready(self) -> None:
        if not self._ready:
            if not self._orders.poll(START_TIMEOUT) or self._orders.recv() != "ready":
                raise RuntimeError("the ticking process did not start")
            self._ready = True

    @property
    def pid(self) -> int | None:
        """The child's process id, while it runs."""
        return self._process.pid if self._process is not None and self._process.is_alive() else None

    def tick_due(self, now: datetime) -> int:
        """Tick every due circle (in the child); returns how many were ticked.

        Raises:
            RuntimeError: ticking failed in the child, or the child died.
        """
        with self._lock:
            self._start()
            try:
                self._wait_until_ready()
                self._orders.send(now)
                ok, result, cpu = self._orders.recv()
            except (EOFError, OSError):
                self._process.join(1)
                raise RuntimeError(f"the ticking process died (exit code {self._process.exitcode})") from None
            self.cpu_seconds += cpu
            if not ok:
                raise RuntimeError(f"ticking failed in its process: {result}")
            return result

    def close(self) -> None:
        """Stop the child once its tick is done."""
        with self._lock:
            if self._process is not None and self._process.is_alive():
                try:
                    self._orders.send(None)
                except OSError:
                    pass
                self._process.join(10)
            if self._process is not None and self._process.is_alive():
                self._process.kill()
                self._process.join(5)
            self._process = None
            self._stop_forwarding()

    def _stop_forwarding(self) -> None:
        if self._forwarding is not None:
            self._forwarding.join(1)
            self._forwarding = None


def _forward(records, process) -> None:
    """Hand the child's log records to this process's handlers, until it says it is done or dies."""
    while True:
        try:
            record = records.get(timeout=0.5)
        except queue.Empty:
            if process.is_alive():
                continue
            return
        if record is None:
            return
        logging.getLogger(record.name).handle(record)
