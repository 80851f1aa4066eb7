"""Which process runs the scheduler and delivers: exactly one per database at a time.

APScheduler 3 cannot share a job store between processes, and two processes
claiming from one outbox would race, so exactly one process schedules and
delivers; the others stand by, and say so.

* PostgreSQL: the leader holds a session-level advisory lock on a connection it
  keeps open. If that process dies, PostgreSQL drops the connection and the
  lock, and the next replica to ask (every few seconds) takes over.
* A SQLite file: the leader holds an exclusive ``flock`` on ``<file>.lock`` beside
  the database. The kernel drops it when the process dies, however it dies.
* An in-memory SQLite database belongs to one process, which always leads.
"""

from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path
from typing import Protocol

from sqlalchemy import Connection, Engine, func, select, text
from sqlalchemy.exc import DBAPIError

log = logging.getLogger(__name__)

#: Replicas agree on the lock by naming it after the schema they share, so two
#: deployments (or test runs) in one database, in different schemas, do not block each other.
LOCK_NAME = "SELECT hashtext('circlebot-scheduler:' || current_schema())"


class Leader(Protocol):
    #: What another process holds when this one cannot lead, for the people reading the log.
    holds: str
    #: Counts the times this process took the lead: when it changes, another process may
    #: have led in between, and left deliveries claimed.
    term: int

    def acquire(self) -> bool:
        """True while this process leads; tries to take the lead when it does not."""

    def release(self) -> None: ...


class SingleProcessLeader:
    """An in-memory SQLite database serves one process, which always leads."""

    holds = "the database"
    term = 1

    def acquire(self) -> bool:
        return True

    def release(self) -> None:
        pass


class FileLockLeader:
    """Leads while it holds an exclusive lock on ``path`` (for a SQLite file: ``<file>.lock``).

    ``flock`` locks belong to an open file, so even two leaders in one process
    exclude each other, and the lock goes when the process does.
    """

    def __init__(self, path: Path):
        self.path = path
        self.holds = f"the database (lock file {path})"
        self.term = 0
        self._fd: int | None = None

    def acquire(self) -> bool:
        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        self.term += 1
        log.info("this process now runs the scheduler (holding %s)", self.path)
        return True

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the file drops its lock
            self._fd = None


class PostgresLeader:
    def __init__(self, engine: Engine, lock_id: int | None = None):
        self.engine = engine
        self.lock_id = lock_id
        self.holds = "the database's scheduler lock"
        self.term = 0
        self._connection: Connection | None = None

    def acquire(self) -> bool:
        if self._connection is not None:
            try:
                self._connection.execute(select(1))  # still connected, so still holding it
                return True
            except DBAPIError as error:
                # The server ended the session, and the lock with it: try to take it again at once.
                log.warning("lost the scheduler lock with its connection: %s", error.__class__.__name__)
                self._drop()
        connection = self.engine.connect()  # a database that cannot be reached raises; the caller tries again
        try:
            if self.lock_id is None:
                self.lock_id = connection.execute(text(LOCK_NAME)).scalar()
            taken = connection.execute(select(func.pg_try_advisory_lock(self.lock_id))).scalar()
            connection.commit()
        except BaseException:
            connection.invalidate()
            raise
        if not taken:
            connection.close()
            return False
        self._connection = connection
        self.term += 1
        log.info("this process now runs the scheduler")
        return True

    def release(self) -> None:
        self._drop()

    def _drop(self) -> None:
        if self._connection is not None:
            # Invalidate rather than close: a pooled connection would keep holding the lock.
            self._connection.invalidate()
            self._connection = None


def leader_for(engine: Engine) -> Leader:
    if engine.dialect.name == "postgresql":
        return PostgresLeader(engine)
    database = engine.url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        return FileLockLeader(Path(f"{Path(database).resolve()}.lock"))
    return SingleProcessLeader()
