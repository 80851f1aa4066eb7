"""The repository: load and save circles, and queue their deliveries, in one transaction."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Engine, bindparam, delete, func, or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from bot.circle import Circle, UserRef
from bot.effects import Delivery, DirectMessage
from storage.codec import dump_circle, dump_delivery, dump_text, load_circle
from storage.models import CircleRow, MembershipRow, OutboxRow
from storage.outbox import CANCELLED, PENDING, SKIPPED, lane_of


#: How long a background transaction waits for commands before it starts, and between its circles (seconds).
BACKGROUND_WAIT, IN_TRANSACTION_WAIT = 1.0, 0.1


class StaleCircle(Exception):
    """Someone else saved the circle first; the caller should try again."""


_CIRCLES = CircleRow.__table__
#: The columns ``save`` writes; each is bound by its own name, the key and the revision checked by ``b_``-names.
_SAVED = ("platform", "workspace", "name", "state", "next_wake_at", "revision", "data", "updated_at")
#: One statement for every update of a transaction, run as executemany.
_UPDATE_CIRCLE = (
    update(_CIRCLES)
    .where(_CIRCLES.c.id == bindparam("b_id"), _CIRCLES.c.revision == bindparam("b_revision"))
    .values({name: bindparam(name) for name in _SAVED})
)


@dataclass
class Transaction:
    """Everything done to storage for one command or tick; commits or rolls back whole.

    Updates of existing circles and new deliveries are held until :meth:`flush`
    (before the commit, or before a query that could see them): a tick of many
    circles then writes them with one executemany each, and on SQLite holds the
    single write lock only for those statements and the commit, not while it
    computes.
    """

    session: Session
    after_commit: list[Callable[[], None]] = field(default_factory=list)
    _updates: list[dict] = field(default_factory=list)
    _deliveries: list[dict] = field(default_factory=list)

    def flush(self) -> None:
        """Write the held circle updates and deliveries.

        Raises:
            StaleCircle: a circle's stored revision was no longer the one it was loaded at.
        """
        if self._updates:
            updates, self._updates = self._updates, []
            result = self.session.exec(_UPDATE_CIRCLE, params=updates)
            if result.rowcount != len(updates):
                raise StaleCircle(", ".join(u["b_id"] for u in updates))
        if self._deliveries:
            rows, self._deliveries = self._deliveries, []
            dialect = self.session.get_bind().dialect.name
            insert = pg_insert if dialect == "postgresql" else sqlite_insert
            # executemany of one cached statement; a multi-row VALUES is compiled afresh on every call.
            statement = insert(OutboxRow.__table__).on_conflict_do_nothing(index_elements=["key"])
            self.session.exec(statement, params=rows)

    def load(self, circle_id: str, *, lock: bool = False) -> Circle | None:
        found = self.load_many([circle_id], lock=lock)
        return found[0] if found else None

    def circle_ids(self, prefix: str = "") -> set[str]:
        """The circle ids that start with ``prefix`` (the candidates a new id must avoid)."""
        self.flush()
        query = select(CircleRow.id).where(col(CircleRow.id).startswith(prefix, autoescape=True))
        return set(self.session.exec(query).all())

    def circles_in(self, platform: str, workspace: str) -> list[Circle]:
        rows = self.session.exec(
            select(CircleRow).where(CircleRow.platform == platform, CircleRow.workspace == workspace).order_by(CircleRow.id)
        )
        return [load_circle(row.data) for row in rows]

    def workspaces(self) -> list[tuple[str, str]]:
        """Every (platform, workspace) that has a circle, in order."""
        query = select(CircleRow.platform, CircleRow.workspace).distinct().order_by(CircleRow.platform, CircleRow.workspace)
        return [(platform, workspace) for platform, workspace in self.session.exec(query)]

    def circle_ids_of(self, user: UserRef, *, closed: bool = False) -> list[str]:
        """The circles ``user`` belongs to; closed ones only when ``closed`` is true."""
        query = (
            select(MembershipRow.circle_id)
            .join(CircleRow, CircleRow.id == MembershipRow.circle_id)
            .where(MembershipRow.user_key == user.key)
            .order_by(MembershipRow.circle_id)
        )
        if not closed:
            query = query.where(CircleRow.state != "closed")
        return list(self.session.exec(query).all())

    def load_many(self, circle_ids: Iterable[str], *, lock: bool = False) -> list[Circle]:
        """The circles with these ids (those that exist), in one query, by id.

        Only the JSON column is read: no ORM object to build, or to keep in step with save's UPDATE.
        """
        self.flush()
        query = select(CircleRow.data).where(col(CircleRow.id).in_(list(circle_ids))).order_by(CircleRow.id)
        if lock:
            query = query.with_for_update()
        return [load_circle(data) for data in self.session.exec(query).all()]

    def save(self, circle: Circle, *, previous_revision: int | None, members_changed: bool = True) -> None:
        """Insert a new circle (``previous_revision=None``) or update one.

        Args:
            members_changed: false when the caller knows the members are as stored,
                which spares the membership index a query (every clock tick).

        Raises:
            StaleCircle: the stored revision is no longer ``previous_revision`` (here
                or, for an update, when the transaction flushes).
        """
        values = dict(
            platform=circle.platform,
            workspace=circle.workspace,
            name=circle.name,
            state=circle.state.value,
            next_wake_at=circle.next_wake,
            revision=circle.revision,
            data=dump_circle(circle),
            updated_at=datetime.now(UTC),
        )
        if previous_revision is None:
            self.session.add(CircleRow(id=circle.id, **values))
        else:
            # Held for one Core executemany at flush: the ORM-enabled UPDATE spends more than the database does.
            self._updates.append(dict(values, b_id=circle.id, b_revision=previous_revision))
        if not members_changed:
            return
        self.flush()
        self.session.flush()
        wanted = {m.user.key for m in circle.members}
        stored = set(self.session.exec(select(MembershipRow.user_key).where(MembershipRow.circle_id == circle.id)).all())
        for key in stored - wanted:
            self.session.delete(self.session.get(MembershipRow, (circle.id, key)))
            # Someone who left or was removed gets no more of this circle's queued DMs.
            self.session.exec(
                update(OutboxRow)
                .where(OutboxRow.circle_id == circle.id, OutboxRow.recipient == key, OutboxRow.status == PENDING)
                .values(status=CANCELLED)
            )
        for key in wanted - stored:
            self.session.add(MembershipRow(circle_id=circle.id, user_key=key))

    def enqueue(self, deliveries: Iterable[Delivery], now: datetime) -> None:
        """Queue deliveries; one whose key is already queued is left as it is."""
        rows = []
        for effect in deliveries:
            kind, payload = dump_delivery(effect)
            direct = isinstance(effect, DirectMessage)
            rows.append(
                dict(key=effect.key, circle_id=effect.circle_id, kind=kind, payload=payload, status=PENDING,
                     recipient=effect.to.key if direct else None, lane=lane_of(effect), attempts=0,
                     not_before=(effect.not_before if direct else None) or now, created_at=now)
            )
        self._insert_new(rows)

    def record_skipped(self, circle_id: str, keys: Iterable[str], now: datetime) -> None:
        """Note occurrences that came due too long ago to send, so the record shows them."""
        self._insert_new(
            dict(key=key, circle_id=circle_id, kind="Skipped", payload="{}", status=SKIPPED, recipient=None, lane="",
                 attempts=0, not_before=now, created_at=now)
            for key in keys
        )

    def erase_from_outbox(self, circle_ids: Iterable[str], user: UserRef, texts: Iterable[str]) -> int:
        """Delete every delivery of these circles that is for ``user`` or carries one of ``texts``.

        Queued and sent ones alike: a person who asked to be forgotten leaves no
        words, name or id behind in the record either. ``texts`` are whole values
        (an answer, a name), matched as the JSON strings the payloads hold them as.

        Returns:
            How many deliveries were deleted.
        """
        self.flush()
        table = OutboxRow.__table__.c
        mentions = [table.payload.contains(dump_text(text), autoescape=True) for text in texts]
        result = self.session.exec(
            delete(OutboxRow.__table__).where(
                table.circle_id.in_(list(circle_ids)),
                or_(table.recipient == user.key, table.key.contains(user.key, autoescape=True), *mentions),
            )
        )
        return result.rowcount

    def _insert_new(self, rows: Iterable[dict]) -> None:
        """Hold ``rows`` for the outbox; at flush, one whose key is already there is left as it is."""
        self._deliveries.extend(rows)


class Store:
    """Opens transactions on one database engine.

    People's commands go first: a clock tick (``background=True``) waits while a
    command's transaction is open, before it starts and between circles
    (:meth:`let_commands_first`). A person is waiting for the command; the
    clock can wait a few milliseconds. The tick then neither holds SQLite's one
    write lock nor takes the interpreter's turns while a command runs.
    """

    def __init__(self, engine: Engine):
        self.engine = engine
        self._commands = 0  # command transactions open now
        self._commands_changed = threading.Condition()

    @contextmanager
    def transaction(self, *, background: bool = False) -> Iterator[Transaction]:
        """One transaction; ``background`` for the clock's, which lets commands go first."""
        if background:
            self.let_commands_first(BACKGROUND_WAIT)
        else:
            self._count_command(+1)
        try:
            with Session(self.engine, expire_on_commit=False) as session:
                with session.begin():
                    tx = Transaction(session)
                    try:
                        yield tx
                        tx.flush()
                    finally:
                        # A transaction used after its block would silently open another and hold locks.
                        tx.session = None
        finally:
            if not background:
                self._count_command(-1)
        for callback in dict.fromkeys(tx.after_commit):  # once each, and only once committed
            callback()

    def let_commands_first(self, at_most: float = IN_TRANSACTION_WAIT) -> None:
        """Wait, up to ``at_most`` seconds, while any command's transaction is open.

        Bounded: inside a background transaction that holds a row a command needs
        (PostgreSQL), the command waits for the tick, not the other way round.
        """
        with self._commands_changed:
            self._commands_changed.wait_for(lambda: self._commands == 0, timeout=at_most)

    def _count_command(self, change: int) -> None:
        with self._commands_changed:
            self._commands += change
            if not self._commands:
                self._commands_changed.notify_all()

    def due_circle_ids(self, now: datetime, limit: int = 1000, after: str | None = None) -> list[str]:
        """Up to ``limit`` circles due at ``now``, by id, starting after the id ``after`` (paging)."""
        with Session(self.engine) as session:
            query = (
                select(CircleRow.id)
                .where(col(CircleRow.next_wake_at).is_not(None), col(CircleRow.next_wake_at) <= now)
                .order_by(col(CircleRow.id))
                .limit(limit)
            )
            if after is not None:
                query = query.where(CircleRow.id > after)
            return list(session.exec(query).all())

    def next_wake(self) -> datetime | None:
        """The earliest moment any circle needs a tick."""
        with Session(self.engine) as session:
            return session.exec(select(func.min(CircleRow.next_wake_at))).one()
