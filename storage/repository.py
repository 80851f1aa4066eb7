"""The repository: load and save circles, and queue their deliveries, in one transaction."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache

from sqlalchemy import ColumnElement, Engine, Update, bindparam, delete, distinct, func, or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from bot.circle import Circle, UserRef
from bot.effects import Delivery, DirectMessage
from bot.state import State
from bot.stats import MIN_PEOPLE, Counted, Share, Tally, WeekFigures, graduated, started, week_figures
from storage.codec import dump_circle, dump_delivery, dump_text, load_circle
from storage.models import (
    JOINABLE_ONLY,
    CircleRow,
    CircleWeekRow,
    InvolvementRow,
    MembershipRow,
    OutboxRow,
    WorkspaceWeekRow,
)
from storage.outbox import CANCELLED, PENDING, SKIPPED, lane_of


#: Membership rows read to find :data:`~bot.stats.MIN_PEOPLE` different people before counting them all.
PEOPLE_SAMPLE = 25
#: How long a background transaction waits for commands before it starts, and between its circles (seconds).
BACKGROUND_WAIT, IN_TRANSACTION_WAIT = 1.0, 0.1


class StaleCircle(Exception):
    """Someone else saved the circle first; the caller should try again."""


def circle_columns(circle: Circle) -> dict:
    """The circle row's values: its JSON, and the columns commands find and count circles by."""
    return dict(
        platform=circle.platform,
        workspace=circle.workspace,
        handle=circle.handle,
        name=circle.name,
        state=circle.state.value,
        open_seats=circle.capacity - len(circle.members),
        started=started(circle),
        graduated=graduated(circle),
        next_wake_at=circle.next_wake,
        revision=circle.revision,
        data=dump_circle(circle),
    )


@lru_cache(maxsize=None)
def _update_circle(columns: tuple[str, ...]) -> Update:
    """One UPDATE for a batch of circles (executemany): each column bound by its name, id and revision checked."""
    table = CircleRow.__table__
    return (
        update(table)
        .where(table.c.id == bindparam("b_id"), table.c.revision == bindparam("b_revision"))
        .values({name: bindparam(name) for name in columns})
    )


@dataclass
class Transaction:
    """Everything done to storage for one command or tick; commits or rolls back whole.

    Updates of existing circles, their weekly figures and new deliveries are
    held until :meth:`flush` (before the commit, or before a query that could
    see them): a tick of many circles then writes them with one executemany
    each, and on SQLite holds the single write lock only for those statements
    and the commit, not while it computes.
    """

    session: Session
    after_commit: list[Callable[[], None]] = field(default_factory=list)
    #: Each circle as this transaction read or wrote it last, to tell what a save changes.
    known: dict[str, Circle] = field(default_factory=dict)
    #: Changes to workspace_weeks, written once at the end in key order (no deadlocks between transactions).
    week_changes: dict[tuple[str, str, int], list[int]] = field(default_factory=dict)
    _updates: list[dict] = field(default_factory=list)
    _week_rows: dict[str, list[dict]] = field(default_factory=dict)  # circle id -> its circle_weeks rows
    _deliveries: list[dict] = field(default_factory=list)

    def flush(self) -> None:
        """Write the held circle updates, weekly figures and deliveries, one executemany each.

        Raises:
            StaleCircle: a circle's stored revision was no longer the one it was loaded at.
        """
        if self._updates:
            updates, self._updates = self._updates, []
            statement = _update_circle(tuple(name for name in updates[0] if not name.startswith("b_")))
            if self.session.exec(statement, params=updates).rowcount != len(updates):
                raise StaleCircle(", ".join(u["b_id"] for u in updates))
        if self._week_rows:
            weeks, self._week_rows = self._week_rows, {}
            table = CircleWeekRow.__table__
            self.session.exec(delete(table).where(table.c.circle_id.in_(list(weeks))))
            self._insert_new_rows(CircleWeekRow, [row for rows in weeks.values() for row in rows])
        if self._deliveries:
            rows, self._deliveries = self._deliveries, []
            # executemany of one cached statement; a multi-row VALUES is compiled afresh on every call.
            statement = self._insert(OutboxRow.__table__).on_conflict_do_nothing(index_elements=["key"])
            self.session.exec(statement, params=rows)

    def _insert(self, table):
        return (pg_insert if self.session.get_bind().dialect.name == "postgresql" else sqlite_insert)(table)

    def load(self, circle_id: str, *, lock: bool = False) -> Circle | None:
        found = self.load_many([circle_id], lock=lock)
        return found[0] if found else None

    def find(self, platform: str, workspace: str, handle: str, *, lock: bool = False) -> Circle | None:
        """The circle people call ``#handle`` in this workspace."""
        c = CircleRow.__table__.c
        query = select(c.id).where(c.platform == platform, c.workspace == workspace, c.handle == handle)
        circle_id = self.session.exec(query).first()
        return self.load(circle_id, lock=lock) if circle_id else None

    def handles(self, platform: str, workspace: str, prefix: str) -> set[str]:
        """The handles of this workspace that start with ``prefix`` (the candidates a new one must avoid)."""
        self.flush()
        c = CircleRow.__table__.c
        query = select(c.handle).where(c.platform == platform, c.workspace == workspace, c.handle.startswith(prefix, autoescape=True))
        return set(self.session.exec(query).all())

    def workspaces(self) -> list[tuple[str, str]]:
        """Every (platform, workspace) that has a circle, in order."""
        query = select(CircleRow.platform, CircleRow.workspace).distinct().order_by(CircleRow.platform, CircleRow.workspace)
        return [(platform, workspace) for platform, workspace in self.session.exec(query)]

    def circle_ids_of(self, user: UserRef, *, closed: bool = False) -> list[str]:
        """The circles ``user`` belongs to; closed ones only when ``closed`` is true."""
        self.flush()
        query = (
            select(MembershipRow.circle_id)
            .join(CircleRow, CircleRow.id == MembershipRow.circle_id)
            .where(MembershipRow.user_key == user.key)
            .order_by(MembershipRow.circle_id)
        )
        if not closed:
            query = query.where(CircleRow.state != "closed")
        return list(self.session.exec(query).all())

    def involved_circle_ids(self, user: UserRef) -> list[str]:
        """Every circle that holds or held something about ``user``: those they are in, and those they left."""
        query = select(InvolvementRow.circle_id).where(InvolvementRow.user_key == user.key).order_by(InvolvementRow.circle_id)
        return list(self.session.exec(query).all())

    def joinable(self, user: UserRef, limit: int) -> tuple[list[Circle], int]:
        """The first ``limit`` circles of ``user``'s workspace they could join, by handle, and how many there are.

        Circles ``user`` is in are left out. Both queries walk a partial index of joinable circles only.
        """
        self.flush()
        c = CircleRow.__table__.c
        theirs = select(MembershipRow.circle_id).where(MembershipRow.user_key == user.key)
        where = (c.platform == user.platform, c.workspace == user.workspace, JOINABLE_ONLY, c.id.not_in(theirs))
        page = self.session.exec(select(c.data).where(*where).order_by(c.handle).limit(limit)).all()
        total = self.session.exec(select(func.count()).select_from(CircleRow.__table__).where(*where)).one()
        return [load_circle(data) for data in page], total

    def tally(self, platform: str, workspace: str) -> Tally:
        """The workspace's statistics, counted from indexed columns and the weekly totals (no circle is read)."""
        self.flush()
        c = CircleRow.__table__.c
        here = (c.platform == platform, c.workspace == workspace)
        counts = self.session.exec(
            select(c.state, c.started, c.graduated, func.count()).where(*here).group_by(c.state, c.started, c.graduated)
        ).all()
        by_state = {State(state): 0 for state, *_ in counts}
        for state, _started, _graduated, count in counts:
            by_state[State(state)] += count
        started_count = sum(count for _s, was_started, _g, count in counts if was_started)
        graduated_count = sum(count for _s, was_started, did_graduate, count in counts if was_started and did_graduate)
        w = WorkspaceWeekRow.__table__.c
        weeks = self.session.exec(
            select(w.week, w.places, w.checked_in, w.coming).where(w.platform == platform, w.workspace == workspace).order_by(w.week)
        ).all()
        cw = CircleWeekRow.__table__.c
        return Tally(
            circles=Counted(sum(by_state.values()), self._enough_people(c.id, *here)),
            by_state=tuple(
                (state, Counted(by_state[state], self._enough_people(c.id, *here, c.state == state.value)))
                for state in State if state in by_state
            ),
            completion=Counted(Share(graduated_count, started_count), self._enough_people(c.id, *here, c.started)),
            weeks=tuple(
                Counted(WeekFigures(*row), self._enough_people(cw.circle_id, cw.platform == platform, cw.workspace == workspace, cw.week == row[0]))
                for row in weeks
            ),
        )

    def _enough_people(self, circle_id: ColumnElement, *where: ColumnElement) -> bool:
        """Whether the circles whose ``circle_id`` matches ``where`` have :data:`MIN_PEOPLE` different members.

        A few membership rows usually show it (a LIMIT the planner drives from the circles'
        index); only a group whose first rows repeat the same people is counted in full.
        """
        m = MembershipRow.__table__.c
        members = select(m.user_key).join_from(circle_id.table, MembershipRow.__table__, m.circle_id == circle_id).where(*where)
        sample = self.session.exec(members.limit(PEOPLE_SAMPLE)).all()
        if len(set(sample)) >= MIN_PEOPLE or len(sample) < PEOPLE_SAMPLE:
            return len(set(sample)) >= MIN_PEOPLE
        everyone = select(func.count(distinct(m.user_key))).join_from(circle_id.table, MembershipRow.__table__, m.circle_id == circle_id)
        return self.session.exec(everyone.where(*where)).one() >= MIN_PEOPLE

    def load_many(self, circle_ids: Iterable[str], *, lock: bool = False) -> list[Circle]:
        """The circles with these ids (those that exist), in one query, by id.

        Only the JSON column is read: no ORM object to build, or to keep in step with save's UPDATE.
        """
        self.flush()
        query = select(CircleRow.data).where(col(CircleRow.id).in_(list(circle_ids))).order_by(CircleRow.id)
        if lock:
            query = query.with_for_update()
        circles = [load_circle(data) for data in self.session.exec(query).all()]
        self.known.update((circle.id, circle) for circle in circles)
        return circles

    def save(self, circle: Circle, *, previous_revision: int | None, members_changed: bool = True) -> None:
        """Insert a new circle (``previous_revision=None``) or update one.

        Args:
            members_changed: false when the caller knows the members are as stored,
                which spares the membership index a query (every clock tick).

        Raises:
            StaleCircle: the stored revision is no longer ``previous_revision`` (here
                or, for an update, when the transaction flushes).
        """
        values = dict(circle_columns(circle), updated_at=datetime.now(UTC))
        if previous_revision is None:
            self.session.add(CircleRow(id=circle.id, **values))
            self.session.flush()  # before the rows that refer to it
        else:
            # Held for one Core executemany at flush: the ORM-enabled UPDATE spends more than the database does.
            self._updates.append(dict(values, b_id=circle.id, b_revision=previous_revision))
        self._count_weeks(circle, self.known.get(circle.id) if previous_revision is not None else None)
        self.known[circle.id] = circle
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
        self._insert_new_rows(InvolvementRow, [dict(user_key=key, circle_id=circle.id) for key in wanted - stored])

    def _count_weeks(self, circle: Circle, before: Circle | None) -> None:
        """Keep ``circle``'s rows in circle_weeks, and its workspace's totals, in step with it.

        Args:
            before: the circle as stored, if this transaction read it; otherwise its rows are read.
        """
        figures = week_figures(circle)
        if before is not None:
            earlier = week_figures(before)
        else:
            self.flush()
            cw = CircleWeekRow.__table__.c
            stored = select(cw.week, cw.places, cw.checked_in, cw.coming).where(cw.circle_id == circle.id).order_by(cw.week)
            earlier = tuple(WeekFigures(*row) for row in self.session.exec(stored))
        if figures == earlier:
            return
        self._week_rows[circle.id] = [
            dict(vars(f), circle_id=circle.id, platform=circle.platform, workspace=circle.workspace) for f in figures
        ]
        for sign, weeks in ((-1, earlier), (1, figures)):
            for f in weeks:
                change = self.week_changes.setdefault((circle.platform, circle.workspace, f.week), [0, 0, 0])
                for i, value in enumerate((f.places, f.checked_in, f.coming)):
                    change[i] += sign * value

    def write_week_totals(self) -> None:
        """Add this transaction's changes to the workspaces' weekly totals (once, at the end, in key order)."""
        table = WorkspaceWeekRow.__table__
        for (platform, workspace, week), (places, checked_in, coming) in sorted(self.week_changes.items()):
            statement = self._insert(table).values(platform=platform, workspace=workspace, week=week, places=places, checked_in=checked_in, coming=coming)
            self.session.exec(statement.on_conflict_do_update(
                index_elements=["platform", "workspace", "week"],
                set_={name: table.c[name] + statement.excluded[name] for name in ("places", "checked_in", "coming")},
            ))
        self.week_changes.clear()

    def forget_involvements(self, user: UserRef) -> None:
        """Forget which circles ``user`` was in: after ``forget-me`` none holds anything about them."""
        self.flush()
        self.session.exec(delete(InvolvementRow.__table__).where(InvolvementRow.__table__.c.user_key == user.key))

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
        """Delete every delivery for ``user``, and every one of these circles' that names them or carries one of ``texts``.

        Queued and sent ones alike: a person who asked to be forgotten leaves no
        words, name or id behind in the record either. ``texts`` are whole values
        (an answer, a name), matched as the JSON strings the payloads hold them as.

        Returns:
            How many deliveries were deleted.
        """
        self.flush()
        table = OutboxRow.__table__
        # Theirs wherever it is queued: an invitation to a new run lives in a circle they never joined.
        erased = self.session.exec(delete(table).where(table.c.recipient == user.key)).rowcount
        mentions = [table.c.payload.contains(dump_text(text), autoescape=True) for text in texts]
        # Keys are "<circle>/<step>/<suffix>", a suffix being a person's key: whole segments only,
        # so forgetting slack:T:U2 leaves slack:T:U22's DM alone.
        segment = f"/{user.key}"
        names_them = or_(table.c.key.endswith(segment, autoescape=True), table.c.key.contains(f"{segment}/", autoescape=True), *mentions)
        result = self.session.exec(delete(table).where(table.c.circle_id.in_(list(circle_ids)), names_them))
        return erased + result.rowcount

    def _insert_new(self, rows: Iterable[dict]) -> None:
        """Hold ``rows`` for the outbox; at flush, one whose key is already there is left as it is."""
        self._deliveries.extend(rows)

    def _insert_new_rows(self, model: type, rows: list[dict]) -> None:
        """Insert ``rows`` into ``model``'s table, skipping any whose primary key is already there."""
        if rows:
            self.session.exec(self._insert(model.__table__).on_conflict_do_nothing(), params=rows)


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
                        tx.write_week_totals()
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
