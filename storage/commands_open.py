"""How many people's command transactions are open now, so the clock's transactions let them go first.

A person is waiting for a command; the clock can wait a few milliseconds. A tick
that waits while a command's transaction is open neither holds SQLite's one
write lock nor takes the interpreter's turns from it.

:class:`CommandsOpen` counts within one process. :class:`SharedCommandsOpen`
counts in shared memory, for ticks in a process of their own
(:mod:`circlebot.tick_process`): there, a tick and a command meet only at the
database (SQLite's one writer), and the ticking process must see the commands
of the process that serves people.
"""

from __future__ import annotations

import threading
import time
from multiprocessing.context import BaseContext

#: How often a process waiting on another's commands looks again (seconds): well under a command's few ms of writing.
SHARED_POLL = 0.002


class CommandsOpen:
    """Open command transactions in this process."""

    def __init__(self) -> None:
        self._count = 0
        self._changed = threading.Condition()

    def change(self, by: int) -> None:
        """A command's transaction opened (+1) or ended (-1)."""
        with self._changed:
            self._count += by
            if not self._count:
                self._changed.notify_all()

    def wait_for_none(self, at_most: float) -> None:
        """Wait, up to ``at_most`` seconds, while any is open."""
        with self._changed:
            self._changed.wait_for(lambda: self._count == 0, timeout=at_most)


class SharedCommandsOpen:
    """Open command transactions in any process holding this (it is passed to a child process whole).

    A waiting process polls: a condition variable across processes would make every
    command pay for waking the ticker, and the poll costs the ticker nothing while no command runs.
    """

    def __init__(self, context: BaseContext) -> None:
        self._count = context.Value("i", 0)

    def change(self, by: int) -> None:
        with self._count.get_lock():
            self._count.value += by

    def wait_for_none(self, at_most: float) -> None:
        deadline = time.monotonic() + at_most
        while self._count.value > 0 and time.monotonic() < deadline:
            time.sleep(SHARED_POLL)
