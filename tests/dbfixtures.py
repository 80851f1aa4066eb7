"""Database fixtures: every storage test runs on SQLite and again on PostgreSQL.

PostgreSQL is used when reachable (``CIRCLEBOT_TEST_POSTGRES_URL``, default the
local server's ``test`` database). Each test gets its own schema, dropped after.
Under CI (``CI=true``) an unreachable server is a failure, not a skip.
"""

from __future__ import annotations

import os
import uuid
from functools import lru_cache

import psycopg
import pytest
from sqlalchemy import Engine, MetaData

from storage.database import make_engine, upgrade

PG_URL = os.environ.get("CIRCLEBOT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@lru_cache(maxsize=1)
def postgres_problem() -> str | None:
    try:
        psycopg.connect(PG_URL, connect_timeout=3).close()
    except psycopg.Error as error:
        return f"PostgreSQL not reachable at {PG_URL}: {error}".strip()
    return None


def require_postgres() -> None:
    problem = postgres_problem()
    if problem:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{problem} (CI must run the PostgreSQL tests)")
        pytest.skip(problem)


def postgres_schema_url(schema: str) -> str:
    return f"{PG_URL}?options=-csearch_path%3D{schema}"


@pytest.fixture
def pg_schema():
    """A fresh PostgreSQL schema for one test; yields its URL."""
    require_postgres()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield postgres_schema_url(schema)
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/circlebot.db"
    return request.getfixturevalue("pg_schema")


@pytest.fixture
def engine(database_url) -> Engine:
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


def stored_rows(engine: Engine, tables: MetaData | None = None, leave_out: tuple[str, ...] = ()) -> dict[str, list[str]]:
    """Every row of every table (but those named in ``leave_out``), sorted: compare before and after a refusal.

    Args:
        tables: the reflected schema, when a test compares many times (reflecting takes a while).
    """
    if tables is None:
        tables = MetaData()
        tables.reflect(engine)
    with engine.connect() as connection:
        # repr of plain tuples: a Row's own str cuts long values (a circle's JSON) short, hiding a change.
        return {t.name: sorted(repr(tuple(row)) for row in connection.execute(t.select())) for t in tables.sorted_tables
                if t.name not in leave_out}
