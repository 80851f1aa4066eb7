"""Two people take a circle's last seat at the same moment: one gets it, the other the waitlist.

Real concurrent transactions through the command service, each thread on its own
connection, on SQLite and on PostgreSQL (``database_url``; under ``CI=true`` an
unreachable PostgreSQL fails rather than skips). A command loads its circle with
``SELECT ... FOR UPDATE``: on PostgreSQL the test proves the second command really
waited on the first one's row lock. Without the lock (a load that forgets it), the
circle's revision is the backstop: both read the circle before either commits, the
second's save finds the revision moved, and the service runs it again on the new state.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from requesting import run
from sqlalchemy import func, select, text

from bot.circle import Actor, UserRef
from bot.effects import Reply
from bot.forming import circle_id
from bot.i18n import render
from circlebot.wiring import wire
from dbfixtures import PG_URL, database_url, pg_schema  # noqa: F401  (fixtures)
from kits import builtin_kits
from storage.database import make_engine, upgrade
from storage.models import MembershipRow
from storage.repository import Transaction

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
MAYA, BEN, CLEO, DEV = (Actor(UserRef("slack", "T1", n), n.title(), "UTC") for n in ("maya", "ben", "cleo", "dev"))
CREW = circle_id("slack", "T1", "crew")
#: Long enough for a slow machine; a working lock is seen at once.
PATIENCE = 20.0


@pytest.fixture
def app(database_url):
    engine = make_engine(database_url)
    upgrade(engine)
    app = wire(engine, builtin_kits(), timedelta(hours=6))
    run(app.commands, MAYA, '/circle new "Crew" starter UTC tue 17:00 3', T0)
    run(app.commands, BEN, "/circle join crew", T0)  # one seat left
    yield app
    engine.dispose()


def blocked_by(pid: int) -> bool:
    """Whether a PostgreSQL backend is waiting for a lock the backend ``pid`` holds, within :data:`PATIENCE`."""
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        deadline = time.monotonic() + PATIENCE
        while time.monotonic() < deadline:
            query = "SELECT count(*) FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))"
            if conn.execute(query, (pid,)).fetchone()[0]:
                return True
            time.sleep(0.02)
    return False


def at_once(app, line: str) -> dict[str, list]:
    """Cleo and Dev type ``line`` at the same moment, each in a thread of their own; what each was answered."""
    start = threading.Barrier(2, timeout=PATIENCE)

    def attempt(person: Actor) -> list:
        start.wait()
        return run(app.commands, person, line, T0)

    with ThreadPoolExecutor(2) as pool:
        answers = dict(zip(("cleo", "dev"), pool.map(attempt, (CLEO, DEV))))
    return answers


def outcome(app, answers: dict[str, list]) -> None:
    """Exactly one of them is in, the circle never above its places, and the other is first in line and told so."""
    with app.store.transaction() as tx:
        circle = tx.load(CREW)
        stored = tx.session.exec(select(func.count()).where(MembershipRow.circle_id == CREW)).scalar_one()
    assert len(circle.members) == circle.capacity == stored == 3  # no lost update, never above capacity
    [winner] = [name for name in answers if circle.member(UserRef("slack", "T1", name))]
    [loser] = [name for name in answers if name != winner]
    [told] = [render(r.message.lines[0]) for r in answers[loser] if isinstance(r, Reply)]
    assert [w.user.id for w in circle.waitlist] == [loser] and not circle.seat_offers
    assert told == "\u201cCrew\u201d is full (3 people), so you are now number 1 in line for a seat."


def test_two_people_taking_the_last_seat_at_once_one_gets_it_the_other_the_waitlist(app, database_url, monkeypatch):
    loaded, first = Transaction.load_many, []
    proved: list[bool] = []

    def load_many(tx, circle_ids, *, lock=False):
        circles = loaded(tx, circle_ids, lock=lock)
        postgres = tx.session.get_bind().dialect.name == "postgresql"
        if postgres and lock and CREW in circle_ids and not first:
            first.append(threading.current_thread())
            # Hold the row until the other command is seen waiting for it: the two really overlap.
            proved.append(blocked_by(tx.session.exec(text("SELECT pg_backend_pid()")).one()[0]))
        return circles

    monkeypatch.setattr(Transaction, "load_many", load_many)
    outcome(app, at_once(app, "/circle join crew"))
    if database_url.startswith("postgresql"):
        assert proved == [True], "the second command did not wait for the first one's lock"


def test_without_the_row_lock_the_revision_check_runs_the_second_again(app, database_url, monkeypatch):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer: the second command waits for it before it reads anything")
    loaded, both_read = Transaction.load_many, threading.Barrier(2, timeout=PATIENCE)
    reads: dict[str, int] = {}

    def load_many(tx, circle_ids, *, lock=False):
        circles = loaded(tx, circle_ids, lock=False)  # the lock forgotten
        name = threading.current_thread().name
        if CREW in circle_ids and name.startswith("ThreadPoolExecutor"):
            reads[name] = reads.get(name, 0) + 1
            if reads[name] == 1:
                both_read.wait()  # both have read the circle with its one free seat; neither has committed
        return circles

    monkeypatch.setattr(Transaction, "load_many", load_many)
    outcome(app, at_once(app, "/circle join crew"))
    assert sorted(reads.values()) == [1, 2]  # the second ran again, on the circle as the first left it
