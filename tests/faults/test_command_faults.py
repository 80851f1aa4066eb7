"""The database fails under a command: it is carried out once, or not at all and the person is told so.

The command service runs each command as one transaction. If the server ends
the session in the middle (PostgreSQL's ``pg_terminate_backend``, as a restart
or a failover does), the whole transaction is run again on a fresh connection
and the person gets their usual answer; if the database keeps failing (or
fails in a way retrying cannot help: SQLite's disk I/O error), the transaction
rolls back, nothing is changed or queued, the person reads that nothing
happened and to try again. Either way the log and ``/metrics`` show it
(``circlebot_database_connections_lost_total``; ``circlebot_commands_total``
with ``outcome="failed"``).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import psycopg
from dbfixtures import PG_URL, database_url, engine, pg_schema  # noqa: F401  (fixtures)
from prometheus_client import REGISTRY
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from bot.circle import Actor, UserRef
from bot.effects import Reply
from bot.i18n import render
from bot.inputs import Request, Typed
from circlebot.wiring import Wiring, wire
from kits import builtin_kits
from storage.database import make_engine, upgrade
from storage.outbox import Outbox

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
MOD, ANN, BOB = (Actor(UserRef("slack", "T1", name), name, "UTC") for name in ("mod", "ann", "bob"))
FAILED_JOINS = ("circlebot_commands_total", {"kind": "join", "outcome": "failed"})
CONNECTIONS_LOST = "circlebot_database_connections_lost_total"


def say(app: Wiring, actor: Actor, line: str, request_id: str) -> str:
    responses = app.commands.handle(Request(actor, Typed(line), request_id=request_id), NOW)
    return "\n".join(render(r.message.title or "") + " " + " ".join(map(render, r.message.lines))
                     for r in responses if isinstance(r, Reply))


def test_a_session_ended_mid_command_is_carried_out_once_on_a_fresh_one(pg_schema, caplog):  # noqa: F811
    engine = make_engine(pg_schema)
    upgrade(engine)
    app = wire(engine, builtin_kits(), timedelta(hours=6))
    ended: list[int] = []

    def end_the_session(connection, cursor, statement, parameters, context, executemany):
        if statement.startswith("INSERT INTO outbox") and not ended:  # the join's post, before its commit
            ended.append(cursor.connection.info.backend_pid)
            with psycopg.connect(PG_URL, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (ended[0],))

    try:
        say(app, MOD, "new Crew starter UTC tue 17:00", "r1")
        queued_before = set(Outbox(engine).keys("pending"))
        event.listen(engine, "before_cursor_execute", end_the_session)
        caplog.set_level(logging.WARNING)
        lost_before = REGISTRY.get_sample_value(CONNECTIONS_LOST) or 0.0
        answer = say(app, ANN, "join crew", "r2")
        assert ended, "the test never ended the session"
        assert (REGISTRY.get_sample_value(CONNECTIONS_LOST) or 0.0) - lost_before == 1
        assert "Sorry" not in answer
        with app.store.transaction() as tx:
            crew = tx.find("slack", "T1", "crew")
        assert [m.user for m in crew.members] == [MOD.user, ANN.user]  # joined, once
        ann_queued = set(Outbox(engine).keys("pending")) - queued_before
        assert any("the database connection was lost" in r.getMessage() for r in caplog.records)
        # Asked again (the platform retried the request): seen before, no second effect.
        assert say(app, ANN, "join crew", "r2") == ""
        assert set(Outbox(engine).keys("pending")) - queued_before == ann_queued
        # As much as a join with no fault queues: nothing lost, nothing doubled.
        say(app, BOB, "join crew", "r3")
        bob_queued = set(Outbox(engine).keys("pending")) - queued_before - ann_queued
        assert ann_queued and len(ann_queued) == len(bob_queued)
    finally:
        event.remove(engine, "before_cursor_execute", end_the_session)
        engine.dispose()


def test_a_database_that_keeps_failing_changes_nothing_and_says_so(engine, caplog):  # noqa: F811
    app = wire(engine, builtin_kits(), timedelta(hours=6))

    def fail(connection, cursor, statement, parameters, context, executemany):
        if statement.startswith("INSERT INTO outbox"):
            raise OperationalError(statement, {}, Exception("disk I/O error"))

    say(app, MOD, "new Crew starter UTC tue 17:00", "r1")
    queued_before = Outbox(engine).counts()
    failed_before = REGISTRY.get_sample_value(*FAILED_JOINS) or 0.0
    event.listen(engine, "before_cursor_execute", fail)
    caplog.set_level(logging.WARNING)
    try:
        answer = say(app, ANN, "join crew", "r2")
    finally:
        event.remove(engine, "before_cursor_execute", fail)
    assert "could not reach its database, so nothing was changed" in answer
    with app.store.transaction() as tx:
        crew = tx.find("slack", "T1", "crew")
    assert [m.user for m in crew.members] == [MOD.user]  # rolled back: not half joined
    assert Outbox(engine).counts() == queued_before
    assert (REGISTRY.get_sample_value(*FAILED_JOINS) or 0.0) - failed_before == 1
    assert any(r.levelno == logging.ERROR and "join command" in r.getMessage() for r in caplog.records)

    # The database is back: the same request, asked again, is carried out (it never took effect).
    assert "Sorry" not in say(app, ANN, "join crew", "r2")
    with app.store.transaction() as tx:
        assert [m.user for m in tx.find("slack", "T1", "crew").members] == [MOD.user, ANN.user]
