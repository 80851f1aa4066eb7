"""The repository and outbox on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

import pytest
from dbfixtures import database_url, engine, pg_schema  # noqa: F401  (fixtures)
from sqlalchemy import inspect

from bot.circle import Circle, Kind, Member, Occurrence, Role, Slot, UserRef
from bot.directory import Search
from bot.effects import DirectMessage, Message, PostToCircle
from bot.i18n import _
from bot.state import State
from storage.outbox import PARKED, PENDING, SENT, Outbox, Outcome
from storage.repository import StaleCircle, Store

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ALICE = UserRef("slack", "T1", "U1")
BOB = UserRef("slack", "T1", "U2")
CAROL = UserRef("slack", "T1", "U3")


def make_circle(circle_id: str = "crew", **changes) -> Circle:
    circle = Circle(
        id=circle_id, handle=circle_id, platform="slack", workspace="T1", name="Crew", kit_id="career", tz="Europe/London",
        slot=Slot(1, time(17)), created_at=T0, revision=1,
        members=(Member(ALICE, "Alice", Role.MODERATOR, T0),),
    )
    return replace(circle, **changes)


def post(key: str, circle_id: str = "crew") -> PostToCircle:
    return PostToCircle(key, circle_id, Message((_("hello {name}", name="you"),)))


def test_migrations_create_every_table(engine):
    assert {"circles", "memberships", "outbox", "alembic_version"} <= set(inspect(engine).get_table_names())


def test_circle_round_trip_keeps_every_field(engine):
    store = Store(engine)
    circle = make_circle(
        state=State.ACTIVE, week=3, done=frozenset({"exercise:1"}),
        plan=(Occurrence(Kind.REMINDER, 3, T0 + timedelta(days=2)),),
    )
    with store.transaction() as tx:
        tx.save(circle, previous_revision=None)
    with store.transaction() as tx:
        assert tx.load("crew") == circle
        assert tx.load("nope") is None


def test_stale_revision_is_refused_and_nothing_changes(engine):
    store = Store(engine)
    with store.transaction() as tx:
        tx.save(make_circle(), previous_revision=None)
    with pytest.raises(StaleCircle):
        with store.transaction() as tx:
            tx.save(make_circle(name="Other", revision=3), previous_revision=2)
    with store.transaction() as tx:
        assert tx.load("crew").name == "Crew"


def test_a_batch_of_updates_with_one_stale_circle_changes_nothing(engine):
    store = Store(engine)
    with store.transaction() as tx:
        for circle_id in ("a", "b", "c"):
            tx.save(make_circle(circle_id), previous_revision=None)
    with pytest.raises(StaleCircle):
        with store.transaction() as tx:
            tx.save(make_circle("a", name="A2", revision=2), previous_revision=1)
            tx.save(make_circle("b", name="B2", revision=3), previous_revision=2)  # b is at revision 1
            tx.enqueue([post("a/exercise:1/0", "a")], T0)
    with store.transaction() as tx:
        assert [c.name for c in tx.load_many(["a", "b"])] == ["Crew", "Crew"]
    assert Outbox(engine).counts() == {}


def test_held_writes_are_seen_by_later_queries_in_the_transaction(engine):
    store = Store(engine)
    with store.transaction() as tx:
        tx.save(make_circle(), previous_revision=None)
    with store.transaction() as tx:
        tx.save(make_circle(name="Renamed", revision=2), previous_revision=1)
        tx.enqueue([DirectMessage("crew/exercise:1/dm", "crew", BOB, Message(("hi",)))], T0)
        assert tx.load("crew").name == "Renamed"
        assert tx.erase_from_outbox(["crew"], BOB, []) == 1


def test_membership_index_follows_the_members(engine):
    store = Store(engine)
    with store.transaction() as tx:
        tx.save(make_circle(), previous_revision=None)
        tx.save(make_circle("other", state=State.CLOSED), previous_revision=None)
    with store.transaction() as tx:
        assert tx.circle_ids_of(ALICE) == ["crew"]  # the closed circle is not offered
        circle = tx.load("crew")
        bob = Member(BOB, "Bob", Role.MEMBER, T0)
        tx.save(replace(circle.with_member(bob), revision=2), previous_revision=1)
    with store.transaction() as tx:
        assert tx.circle_ids_of(BOB) == ["crew"]
        tx.save(replace(tx.load("crew").without_member(BOB), revision=3), previous_revision=2)
    with store.transaction() as tx:
        assert tx.circle_ids_of(BOB) == []


def test_the_running_counts_follow_every_save_and_vanish_with_a_rollback(engine):
    store = Store(engine)
    with store.transaction() as tx:
        tx.save(make_circle(), previous_revision=None)
        tx.save(make_circle("other", state=State.CLOSED), previous_revision=None)
    with store.transaction() as tx:  # saved without being read first: the stored version is read to count the change
        tx.save(make_circle(revision=2, members=(Member(ALICE, "Alice", Role.MODERATOR, T0), Member(BOB, "Bob", Role.MEMBER, T0))), previous_revision=1)
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.save(replace(tx.load("crew"), state=State.CLOSED, revision=3), previous_revision=2)
        raise RuntimeError("rolled back")
    with store.transaction() as tx:
        tally = tx.tally("slack", "T1")
        (joinable, _next), total = tx.directory(CAROL, Search(), 20), tx.joinable_count(CAROL)
    assert tally.circles.value == 2 and [(s, n.value) for s, n in tally.by_state] == [(State.FORMING, 1), (State.CLOSED, 1)]
    assert [c.handle for c in joinable] == ["crew"] and total == 1


def test_due_circles_and_next_wake(engine):
    store = Store(engine)
    soon, later = T0 + timedelta(hours=1), T0 + timedelta(days=1)
    with store.transaction() as tx:
        tx.save(make_circle("a", plan=(Occurrence(Kind.EXERCISE, 1, later),)), previous_revision=None)
        tx.save(make_circle("b", plan=(Occurrence(Kind.EXERCISE, 1, soon),)), previous_revision=None)
        tx.save(make_circle("c"), previous_revision=None)
    assert store.next_wake() == soon
    assert store.due_circle_ids(T0) == []
    assert store.due_circle_ids(later) == ["a", "b"]
    assert store.due_circle_ids(later, limit=1) == ["a"]
    assert store.due_circle_ids(later, limit=1, after="a") == ["b"]


def test_enqueue_is_idempotent_per_key(engine):
    store, outbox = Store(engine), Outbox(engine)
    with store.transaction() as tx:
        tx.save(make_circle(), previous_revision=None)
        tx.enqueue([post("crew/exercise:1/0"), DirectMessage("crew/exercise:1/dm", "crew", BOB, Message(("hi",)))], T0)
    with store.transaction() as tx:
        tx.enqueue([post("crew/exercise:1/0")], T0)
        tx.record_skipped("crew", ["crew/reminder:1"], T0)
    assert outbox.counts() == {"pending": 2, "skipped": 1}
    due = outbox.claim(T0, 10)
    assert [q.effect.key for q in due] == ["crew/exercise:1/0", "crew/exercise:1/dm"]
    assert due[1].effect.to == BOB


def test_outbox_outcomes(engine):
    store, outbox = Store(engine), Outbox(engine)
    with store.transaction() as tx:
        tx.save(make_circle(), previous_revision=None)
        tx.enqueue([post("k1"), post("k2"), post("k3")], T0)
    first, second, third = outbox.claim(T0, 10)
    assert outbox.claim(T0, 10) == []  # claimed rows are not handed out twice
    outbox.finish([
        Outcome(first.id, SENT, 1, T0),
        Outcome(second.id, PENDING, 1, T0 + timedelta(minutes=5), "boom"),
        Outcome(third.id, PARKED, 6, T0, "gone"),
    ], T0)
    assert outbox.claim(T0, 10) == []
    assert outbox.next_due() == T0 + timedelta(minutes=5)
    assert [q.effect.key for q in outbox.claim(T0 + timedelta(minutes=5), 10)] == ["k2"]
    assert outbox.counts() == {"sent": 1, "sending": 1, "parked": 1}
    assert outbox.keys(PARKED) == ["k3"]


def test_an_unfinished_claim_comes_back_as_a_resend(engine):
    store, outbox = Store(engine), Outbox(engine)
    with store.transaction() as tx:
        tx.save(make_circle(), previous_revision=None)
        tx.enqueue([post("k1")], T0)
    [first] = outbox.claim(T0, 10, lease=timedelta(minutes=5))
    assert first.resend is False
    assert outbox.claim(T0 + timedelta(minutes=4), 10) == []
    [again] = outbox.claim(T0 + timedelta(minutes=5), 10)  # the lease ran out: the sender died
    assert (again.id, again.resend) == (first.id, True)
    assert outbox.recover(T0 + timedelta(minutes=6)) == 1  # a new leader takes it at once
    assert [q.resend for q in outbox.claim(T0 + timedelta(minutes=6), 10)] == [True]


def test_migrations_match_the_models(engine):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert diff == [], "add an alembic migration for these model changes"


def test_a_leavers_queued_dms_are_cancelled(engine):
    store, outbox = Store(engine), Outbox(engine)
    bob = Member(BOB, "Bob", Role.MEMBER, T0)
    with store.transaction() as tx:
        tx.save(make_circle().with_member(bob), previous_revision=None)
        tx.enqueue([DirectMessage("dm-bob", "crew", BOB, Message(("hi",))), DirectMessage("dm-alice", "crew", ALICE, Message(("hi",)))], T0)
    with store.transaction() as tx:
        tx.save(replace(tx.load("crew").without_member(BOB), revision=2), previous_revision=1)
    assert outbox.counts() == {"pending": 1, "cancelled": 1}
    assert [q.effect.key for q in outbox.claim(T0, 10)] == ["dm-alice"]


def test_a_dm_waits_for_its_not_before(engine):
    store, outbox = Store(engine), Outbox(engine)
    morning = T0 + timedelta(hours=10)
    with store.transaction() as tx:
        tx.save(make_circle(), previous_revision=None)
        tx.enqueue([DirectMessage("late", "crew", ALICE, Message(("hi",)), not_before=morning)], T0)
    assert outbox.claim(T0, 10) == []
    assert [q.effect.key for q in outbox.claim(morning, 10)] == ["late"]


def _upgrade(url: str) -> None:
    from storage.database import make_engine, upgrade

    upgrade(make_engine(url))


def test_replicas_migrating_at_once_do_not_collide(pg_schema):
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_upgrade, args=(pg_schema,)) for _ in range(3)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(60)
    assert [p.exitcode for p in processes] == [0, 0, 0]
