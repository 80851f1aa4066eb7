"""Which replica runs the scheduler. APScheduler 3 cannot share a job store between
processes, so exactly one process schedules and delivers; the others stand by.

With PostgreSQL the leader holds a session-level advisory lock on a connection it
keeps open. If that process dies, PostgreSQL drops the connection and the lock,
and the next replica to ask (every few seconds) takes over.
"""

from __future__ import annotations

import logging

from sqlalchemy import Connection, Engine, func, select, text
from sqlalchemy.exc import DBAPIError

log = logging.getLogger(__name__)

#: Replicas agree on the lock by naming it after the schema they share, so two
#: deployments (or test runs) in one database, in different schemas, do not block each other.
LOCK_NAME = "SELECT hashtext('circlebot-scheduler:' || current_schema())"


class SingleProcessLeader:
    """SQLite serves one process, which always leads."""

    def acquire(self) -> bool:
        return True

    def release(self) -> None:
        pass


class PostgresLeader:
    def __init__(self, engine: Engine, lock_id: int | None = None):
        self.engine = engine
        self.lock_id = lock_id
        self._connection: Connection | None = None

    def acquire(self) -> bool:
        """True while this process holds the lock; tries to take it when it does not."""
        try:
            if self._connection is not None:
                self._connection.execute(select(1))  # still connected, so still holding it
                return True
            connection = self.engine.connect()
            if self.lock_id is None:
                self.lock_id = connection.execute(text(LOCK_NAME)).scalar()
            if connection.execute(select(func.pg_try_advisory_lock(self.lock_id))).scalar():
                connection.commit()
                self._connection = connection
                log.info("this process now runs the scheduler")
                return True
            connection.close()
            return False
        except DBAPIError as error:
            log.warning("lost the scheduler lock: %s", error.__class__.__name__)
            self._drop()
            return False

    def release(self) -> None:
        self._drop()

    def _drop(self) -> None:
        if self._connection is not None:
            # Invalidate rather than close: a pooled connection would keep holding the lock.
            self._connection.invalidate()
            self._connection = None


def leader_for(engine: Engine) -> SingleProcessLeader | PostgresLeader:
    return PostgresLeader(engine) if engine.dialect.name == "postgresql" else SingleProcessLeader()
