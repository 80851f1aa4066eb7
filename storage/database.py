"""Create the engine for ``DATABASE_URL``, bring its schema up to date with alembic, and
write through a dropped connection."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DBAPIError

from circlebot import metrics

log = logging.getLogger(__name__)
T = TypeVar("T")

MIGRATIONS = Path(__file__).parent / "migrations"


def normalise_url(url: str) -> str:
    """Use the psycopg 3 driver for plain ``postgres://`` / ``postgresql://`` URLs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def make_engine(url: str) -> Engine:
    """An engine for ``url``. Its errors never show the statement's parameters: they hold what members wrote."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # pragma: no cover - trivial
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            # In WAL mode, NORMAL syncs at checkpoints instead of at every commit: a killed process loses
            # nothing, and only a power cut can lose the last commits (never corrupting the file). A commit
            # holds the one write lock for its fsync, so each one (11 ms here, far more on a busy disk)
            # made every other writer wait: ticks, outcomes, and people's commands.
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, hide_parameters=True)


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection_engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply every migration up to ``revision``."""
    command.upgrade(alembic_config(engine), revision)


def on_a_live_connection(write: Callable[[], T], what: str, pauses: tuple[float, ...] = (0.1, 0.5, 1.0, 2.0)) -> T:
    """Run ``write`` (one whole transaction); if the server dropped its connection, run it again.

    A dropped connection (the server restarted, or ended the session) makes
    SQLAlchemy invalidate the pool, so the next attempt gets a fresh connection.
    ``write`` must be safe to repeat: its first attempt may have committed before
    the answer was lost. Other errors are raised at once.
    """
    for pause in pauses:
        try:
            return write()
        except DBAPIError as error:
            if not error.connection_invalidated:
                raise
            metrics.connection_lost()
            log.warning("%s: the database connection was lost (%s); trying again on a fresh one",
                        what, error.orig.__class__.__name__)
        time.sleep(pause)
    return write()
