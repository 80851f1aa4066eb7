"""The repository: load and save circles, and queue their deliveries, in one transaction."""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import lru_cache
from itertools import count

from sqlalchemy import (
    ColumnElement,
    Engine,
    Integer,
    Update,
    bindparam,
    cast,
    delete,
    distinct,
    func,
    literal,
    or_,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from bot.circle import Circle, UserRef
from bot.directory import MINUTES_A_WEEK, Search, meeting_columns
from bot.effects import Delivery, DirectMessage
from bot.forming import joinable
from bot.state import State
from bot.stats import MIN_PEOPLE, Counted, Share, Tally, WeekFigures, graduated, same_week_figures, started, week_figures
from storage.codec import dump_circle, dump_delivery, dump_text, load_circle
from storage.commands_open import CommandsOpen, SharedCommandsOpen
from storage.models import (
    JOINABLE_ONLY,
    CalendarFeedRow,
    CircleRow,
    CircleWeekRow,
    FormDraftRow,
    HandledRequestRow,
    InvolvementRow,
    KeptValueRow,
    MatchScheduleRow,
    MembershipRow,
    OutboxRow,
    PersonRow,
    SignupRow,
    SpaceRow,
    WorkspaceCountRow,
)
from storage.outbox import CANCELLED, PENDING, SKIPPED, lane_of


#: User keys in one ``IN (...)`` list: SQLite binds at most 32,766 values a statement.
KEYS_AT_ONCE = 5000
#: Handles a new circle's name might take, looked up at once.
HANDLE_PAGE = 20
#: The indexes that lead with (platform, workspace), for the circles and the weeks they held.
GROUP_INDEXES = ("ix_circles_place_tally", "ix_circle_weeks_place_week")
#: Circles whose members are read to find :data:`~bot.stats.MIN_PEOPLE` different people before counting them all.
CIRCLE_SAMPLE = 20
#: How long a background transaction waits for commands before it starts, and between its circles (seconds).
BACKGROUND_WAIT, IN_TRANSACTION_WAIT = 1.0, 0.1


class StaleCircle(Exception):
    """Someone else saved the circle first; the caller should try again."""


def circle_columns(circle: Circle) -> dict:
    """The circle row's values: its JSON, and the columns commands find and count circles by."""
    utc_offset, minute = meeting_columns(circle)
    return dict(
        platform=circle.platform,
        workspace=circle.workspace,
        handle=circle.handle,
        name=circle.name,
        state=circle.state.value,
        open_seats=circle.open_seats,
        started=started(circle),
        graduated=graduated(circle),
        next_wake_at=circle.next_wake,
        revision=circle.revision,
        kit_id=circle.kit_id,
        locale=circle.locale,
        week=circle.week,
        utc_offset=utc_offset,
        week_minute=minute,
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


def same_counts(before: Circle, after: Circle) -> bool:
    """Whether ``after`` surely adds what ``before`` did to the running counts, told without counting."""
    return (
        same_week_figures(before, after)
        and before.state is after.state
        and before.capacity == after.capacity
        and before.seat_offers is after.seat_offers  # a held seat is not joinable
        and started(before) == started(after)
        and graduated(before) == graduated(after)
    )


def workspace_counts(circle: Circle) -> Counter[str]:
    """What ``circle`` adds to its workspace's running counts (``workspace_counts``, read by ``list`` and ``stats``)."""
    counts = Counter({
        "circles": 1,
        f"state:{circle.state.value}": 1,
        "started": int(started(circle)),
        "graduated": int(started(circle) and graduated(circle)),
        "joinable": int(joinable(circle)),
    })
    for week in week_figures(circle):
        for name in ("circles", "places", "checked_in", "coming"):
            counts[f"week:{week.week}:{name}"] = 1 if name == "circles" else getattr(week, name)
    return counts


def put(session: Session, model: type, values: dict) -> None:
    """Insert a row, or update the one with its primary key: one statement, so two replicas cannot collide."""
    table = model.__table__
    keys = [c.name for c in table.primary_key.columns]
    insert = (pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert)(table)
    rest = {name: insert.excluded[name] for name in values if name not in keys}
    session.exec(insert.values(**values).on_conflict_do_update(index_elements=keys, set_=rest))


def home_key(circle_id: str) -> str:
    """The kept value naming where a circle's space opens."""
    return f"home:{circle_id}"


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
    #: Changes to workspace_counts, written once at the end in key order (no deadlocks between transactions).
    count_changes: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    _updates: list[dict] = field(default_factory=list)
    _week_rows: dict[str, list[dict]] = field(default_factory=dict)  # circle id -> its circle_weeks rows
    _deliveries: list[dict] = field(default_factory=list)
    _people: dict[str, PersonRow | None] = field(default_factory=dict)  # user key -> their settings, once read

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

    def handles(self, platform: str, workspace: str, base: str) -> set[str]:
        """Which of ``base``, ``base-2``, ``base-3``, ... this workspace has taken, up to the first free one.

        Exact handles, looked up on the unique index a page at a time: a prefix search (LIKE)
        would walk every handle of the workspace under PostgreSQL's collations.
        """
        self.flush()
        c = CircleRow.__table__.c
        taken: set[str] = set()
        for first in count(1, HANDLE_PAGE):
            candidates = [base if n == 1 else f"{base}-{n}" for n in range(first, first + HANDLE_PAGE)]
            query = select(c.handle).where(c.platform == platform, c.workspace == workspace, c.handle.in_(candidates))
            found = set(self.session.exec(query).all())
            taken |= found
            if len(found) < len(candidates):
                return taken

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

    def directory(self, user: UserRef, search: Search, limit: int) -> tuple[list[Circle], Search]:
        """Up to ``limit`` circles of ``user``'s workspace they could join that ``search`` finds, by handle.

        Circles ``user`` is in are left out. The page walks the partial index of joinable circles,
        which holds every column ``search`` reads, and decodes only the circles on it.

        Returns:
            The circles, and the search for the next page: ``after`` the last of them (``None``: there is none).
        """
        self.flush()
        c = CircleRow.__table__.c
        where = [c.platform == user.platform, c.workspace == user.workspace, JOINABLE_ONLY,
                 c.id.not_in(self._theirs(user))]
        if search.after is not None:
            where.append(c.handle > search.after)
        if search.kit is not None:
            where.append(c.kit_id == search.kit)
        if search.locales:
            named = [locale for locale in search.locales if locale is not None]
            where.append(or_(c.locale.in_(named), *([c.locale.is_(None)] if None in search.locales else [])))
        if search.offsets:
            where.append(or_(*(c.utc_offset.between(low, high - 1) for low, high in search.offsets)))
        if search.minutes:
            # Without the reader's zone, the day is the circle's own: its meeting's local minute of the week.
            minute = (c.week_minute + c.utc_offset + MINUTES_A_WEEK) % MINUTES_A_WEEK if search.local else c.week_minute
            where.append(or_(*(minute.between(low, high - 1) for low, high in search.minutes)))
        query = select(c.id, c.handle).where(*where).order_by(c.handle).limit(limit + 1)
        found = self.session.execute(query).all()
        page = found[:limit]
        by_id = {circle.id: circle for circle in self.load_many([row.id for row in page])}
        after = page[-1].handle if len(found) > limit else None
        return [by_id[row.id] for row in page if row.id in by_id], replace(search, after=after)

    def joinable_count(self, user: UserRef) -> int:
        """How many circles of ``user``'s workspace they could join: the running count, less their own joinable ones."""
        self.flush()
        c = CircleRow.__table__.c
        where = (c.platform == user.platform, c.workspace == user.workspace, JOINABLE_ONLY,
                 c.id.in_(self._theirs(user)))
        own = self.session.exec(select(func.count()).select_from(CircleRow.__table__).where(*where)).one()
        return self._counts(user.platform, user.workspace)["joinable"] - own

    def _theirs(self, user: UserRef) -> list[str]:
        """The circles ``user`` is in, as a list: the planner then checks their few ids on an index, not by a join."""
        return list(self.session.exec(select(MembershipRow.circle_id).where(MembershipRow.user_key == user.key)).all())

    def merge_candidates(self, circle: Circle, limit: int) -> list[Circle]:
        """Running circles of ``circle``'s workspace, kit and week with a free place for each of its members, by handle.

        On the partial index of joinable circles, which holds the kit; a workspace has few of them.
        """
        self.flush()
        c = CircleRow.__table__.c
        where = (c.platform == circle.platform, c.workspace == circle.workspace, JOINABLE_ONLY,
                 c.state == State.ACTIVE.value, c.kit_id == circle.kit_id, c.week == circle.week,
                 c.open_seats >= len(circle.members), c.id != circle.id)
        return [load_circle(data) for data in self.session.exec(select(c.data).where(*where).order_by(c.handle).limit(limit))]

    def tally(self, platform: str, workspace: str) -> Tally:
        """The workspace's statistics, from its running counts (no circle is read)."""
        self.flush()
        counts = self._counts(platform, workspace)
        c, cw = CircleRow.__table__.c, CircleWeekRow.__table__.c
        here, weeks_here = (c.platform == platform, c.workspace == workspace), (cw.platform == platform, cw.workspace == workspace)
        states = [state for state in State if counts[f"state:{state.value}"]]
        held = {int(figure.split(":")[1]) for figure in counts if figure.startswith("week:")}
        weeks = sorted(week for week in held if counts[f"week:{week}:circles"])
        enough = self._enough_people({
            "circles": (c.id, here),
            "started": (c.id, (*here, c.started)),
            **{state.value: (c.id, (*here, c.state == state.value)) for state in states},
            **{f"week {week}": (cw.circle_id, (*weeks_here, cw.week == week)) for week in weeks},
        })
        return Tally(
            circles=Counted(counts["circles"], "circles" in enough),
            by_state=tuple((state, Counted(counts[f"state:{state.value}"], state.value in enough)) for state in states),
            completion=Counted(Share(counts["graduated"], counts["started"]), "started" in enough),
            weeks=tuple(
                Counted(
                    WeekFigures(week, *(counts[f"week:{week}:{name}"] for name in ("places", "checked_in", "coming"))),
                    f"week {week}" in enough,
                )
                for week in weeks
            ),
        )

    def _counts(self, platform: str, workspace: str) -> Counter[str]:
        w = WorkspaceCountRow.__table__.c
        rows = self.session.exec(select(w.figure, w.count).where(w.platform == platform, w.workspace == workspace))
        return Counter(dict(rows.all()))

    def _enough_people(self, groups: dict[str, tuple[ColumnElement, tuple[ColumnElement, ...]]]) -> set[str]:
        """The groups of circles (name: their id column and conditions) with :data:`MIN_PEOPLE` different members.

        The members of a few circles of each group usually show it: the first circles of every
        group in one query, their members in a second. Only a group whose first circles share
        the same few people is counted in full.
        """
        m = MembershipRow.__table__.c
        samples = []
        for number, (circle_id, where) in enumerate(groups.values()):
            # In the order of the index on (platform, workspace, ...): SQLite plans by statistics, perhaps
            # gathered when every circle was active, and would scan the whole table for a rare state.
            index = next(i for i in circle_id.table.indexes if i.name in GROUP_INDEXES)
            leading = list(index.columns)[:3]  # (platform, workspace, state) or (platform, workspace, week)
            first = select(cast(literal(number), Integer).label("grp"), circle_id.label("circle_id"))
            samples.append(first.where(*where).order_by(*leading).limit(CIRCLE_SAMPLE).subquery())
        sampled = self.session.execute(union_all(*(select(s.c.grp, s.c.circle_id) for s in samples))).all()
        people: dict[str, set[str]] = {}
        for circle_id, user_key in self.session.execute(select(m.circle_id, m.user_key).where(m.circle_id.in_({i for _, i in sampled}))):
            people.setdefault(circle_id, set()).add(user_key)
        enough = set()
        for number, (name, (circle_id, where)) in enumerate(groups.items()):
            circles = [i for group, i in sampled if group == number]
            if len(set().union(*(people.get(i, set()) for i in circles))) >= MIN_PEOPLE:
                enough.add(name)
            elif len(circles) == CIRCLE_SAMPLE:
                everyone = select(func.count(distinct(m.user_key))).join_from(circle_id.table, MembershipRow.__table__, m.circle_id == circle_id)
                if self.session.exec(everyone.where(*where)).one() >= MIN_PEOPLE:
                    enough.add(name)
        return enough

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
        before = None if previous_revision is None else self.known.get(circle.id) or self.load(circle.id)
        if previous_revision is None:
            self.session.add(CircleRow(id=circle.id, **values))
            self.session.flush()  # before the rows that refer to it
        else:
            # Held for one Core executemany at flush: the ORM-enabled UPDATE spends more than the database does.
            self._updates.append(dict(values, b_id=circle.id, b_revision=previous_revision))
        self._count(circle, before)
        self.known[circle.id] = circle
        # Someone waiting for a seat is in the circle's data too: export and forget-me find it by this row.
        waiting = {w.user.key for w in circle.waitlist} - ({w.user.key for w in before.waitlist} if before else set())
        self._insert_new_rows(InvolvementRow, [dict(user_key=key, circle_id=circle.id) for key in sorted(waiting)])
        if not members_changed:
            return
        wanted = {m.user.key for m in circle.members}
        stored: set[str] = set()  # a new circle has no members stored yet: nothing to read
        if previous_revision is not None:
            self.flush()
            self.session.flush()
            query = select(MembershipRow.user_key).where(MembershipRow.circle_id == circle.id)
            stored = set(self.session.exec(query).all())
        for key in stored - wanted:
            self.session.delete(self.session.get(MembershipRow, (circle.id, key)))
            # Someone who left or was removed gets no more of this circle's queued DMs.
            self.session.exec(
                update(OutboxRow)
                .where(OutboxRow.circle_id == circle.id, OutboxRow.recipient == key, OutboxRow.status == PENDING)
                .values(status=CANCELLED)
            )
        joined = [dict(circle_id=circle.id, user_key=key) for key in sorted(wanted - stored)]
        if joined:  # one executemany, not a flush of one ORM object each
            self.session.exec(self._insert(MembershipRow.__table__), params=joined)
        self._insert_new_rows(InvolvementRow, [dict(user_key=key, circle_id=circle.id) for key in wanted - stored])

    def _count(self, circle: Circle, before: Circle | None) -> None:
        """Keep the workspace's running counts, and ``circle``'s rows in circle_weeks, in step with it.

        Args:
            before: the circle as stored until now; ``None`` for a new one.
        """
        if before is not None and same_counts(before, circle):
            return  # a clock tick, mostly: told without counting anything twice
        counts, earlier = workspace_counts(circle), workspace_counts(before) if before else Counter()
        for figure in counts.keys() | earlier.keys():
            self.count_changes[(circle.platform, circle.workspace, figure)] += counts[figure] - earlier[figure]
        if before is not None and same_week_figures(before, circle):
            return
        weeks = week_figures(circle)
        if weeks != (week_figures(before) if before else ()):
            self._week_rows[circle.id] = [
                dict(vars(week), circle_id=circle.id, platform=circle.platform, workspace=circle.workspace) for week in weeks
            ]

    def write_counts(self) -> None:
        """Add this transaction's changes to the workspaces' running counts (once, at the end, in key order).

        One executemany: a member leaving changes some thirty counts (every held week's places).
        """
        changes = [
            dict(platform=platform, workspace=workspace, figure=figure, count=change)
            for (platform, workspace, figure), change in sorted(self.count_changes.items()) if change
        ]
        self.count_changes.clear()
        if changes:
            insert = self._insert(WorkspaceCountRow.__table__)
            added = insert.on_conflict_do_update(
                index_elements=["platform", "workspace", "figure"],
                set_={"count": WorkspaceCountRow.__table__.c.count + insert.excluded.count},
            )
            self.session.exec(added, params=changes)

    def forget_involvements(self, user: UserRef) -> None:
        """Forget which circles ``user`` was in: after ``forget-me`` none holds anything about them."""
        self.flush()
        self.session.exec(delete(InvolvementRow.__table__).where(InvolvementRow.__table__.c.user_key == user.key))

    def enqueue(
        self,
        deliveries: Iterable[Delivery],
        now: datetime,
        *,
        platform: str = "",
        reader: Callable[[Delivery], tuple[str, str]] = lambda effect: ("en", "UTC"),
    ) -> None:
        """Queue deliveries; one whose key is already queued is left as it is.

        Args:
            platform: the adapter that delivers them (the circle's platform).
            reader: each delivery's reader's language and zone.
        """
        rows = []
        for effect in deliveries:
            kind, payload = dump_delivery(effect)
            direct = isinstance(effect, DirectMessage)
            locale, tz = reader(effect)
            rows.append(
                dict(key=effect.key, circle_id=effect.circle_id, kind=kind, payload=payload, status=PENDING,
                     recipient=effect.to.key if direct else None, lane=lane_of(effect), attempts=0,
                     not_before=(effect.not_before if direct else None) or now, created_at=now,
                     platform=platform, locale=locale, reader_tz=tz)
            )
        self._insert_new(rows)

    def first_time(self, request_key: str, now: datetime) -> bool:
        """Record a platform request as handled; false when it was handled before (a retry).

        Recorded in the command's own transaction: if the command fails, the retry runs it.
        """
        table = HandledRequestRow.__table__
        statement = (
            self._insert(table)
            .values(id=request_key[:300], handled_at=now)
            .on_conflict_do_nothing(index_elements=["id"])
            .returning(table.c.id)
        )
        return self.session.exec(statement).first() is not None

    def person(self, user: UserRef) -> PersonRow | None:
        return self.session.get(PersonRow, user.key)

    def people(self, users: Iterable[UserRef]) -> dict[str, PersonRow]:
        """The people among ``users`` who have settings of their own, by user key.

        Each person is read once a transaction: a tick asks for a whole page's members in
        one query, and each circle's deliveries then cost none.
        """
        keys = {user.key for user in users}
        unread = [key for key in keys if key not in self._people]
        if unread:
            self._people.update(dict.fromkeys(unread))
            rows = self.session.exec(select(PersonRow).where(col(PersonRow.user_key).in_(unread)))
            self._people.update((row.user_key, row) for row in rows)
        return {key: row for key in keys if (row := self._people[key]) is not None}

    def keep_home(self, circle_id: str, channel: str) -> None:
        """Keep where a new circle's space opens (the channel it was formed in), with the circle itself."""
        put(self.session, KeptValueRow, dict(key=home_key(circle_id), value=channel))

    def set_person(self, user: UserRef, *, tz: str | None = None, locale: str | None = None,
                   tz_asked: bool | None = None, dms_refused: bool | None = None,
                   platform_locale: str | None = None, is_admin: bool | None = None) -> None:
        """Change what is given of a person's settings; the rest stays."""
        row = self.person(user) or PersonRow(user_key=user.key)
        row.tz = tz or row.tz
        row.locale = locale or row.locale
        row.tz_asked = row.tz_asked if tz_asked is None else tz_asked
        row.dms_refused = row.dms_refused if dms_refused is None else dms_refused
        row.platform_locale = platform_locale or row.platform_locale
        row.is_admin = row.is_admin if is_admin is None else is_admin
        self.session.add(row)
        self.session.flush()
        self._people[user.key] = row

    def admins(self, platform: str, workspace: str) -> list[UserRef]:
        """The workspace's admins, as the platform last described each person the bot has seen."""
        prefix = UserRef(platform, workspace, "").key
        keys = self.session.exec(select(PersonRow.user_key).where(
            col(PersonRow.is_admin), col(PersonRow.user_key).startswith(prefix, autoescape=True)).order_by(PersonRow.user_key))
        return [UserRef(platform, workspace, key[len(prefix):]) for key in keys]

    def forget_person(self, user: UserRef) -> None:
        """Drop the person's own settings, any form they left half filled in, and their calendar addresses (forget-me)."""
        self.session.exec(delete(PersonRow.__table__).where(PersonRow.__table__.c.user_key == user.key))
        self.session.exec(delete(FormDraftRow.__table__).where(FormDraftRow.__table__.c.user_key == user.key))
        self.session.exec(delete(CalendarFeedRow.__table__).where(CalendarFeedRow.__table__.c.user_key == user.key))
        self._people[user.key] = None

    def calendar_token(self, circle_id: str, user: UserRef, now: datetime, *, reset: bool = False) -> str:
        """The token of ``user``'s private calendar address for the circle, made on first use.

        Args:
            reset: replace it with a new one; the old address stops working.
        """
        table = CalendarFeedRow.__table__
        mine = (table.c.circle_id == circle_id) & (table.c.user_key == user.key)
        if reset:
            self.session.exec(delete(table).where(mine))
        else:
            found = self.session.exec(select(CalendarFeedRow.token).where(mine)).first()
            if found:
                return found
        token = secrets.token_urlsafe(32)
        self.session.add(CalendarFeedRow(token=token, circle_id=circle_id, user_key=user.key, created_at=now))
        self.session.flush()
        return token

    def calendar_feed(self, token: str) -> CalendarFeedRow | None:
        """The circle and person a calendar token stands for; ``None`` for a token never given or replaced."""
        return self.session.get(CalendarFeedRow, token)
    # ------------------------------------------------------------ the pool of people asking to be matched

    def signup(self, user: UserRef) -> SignupRow | None:
        return self.session.get(SignupRow, user.key)

    def save_signup(self, row: SignupRow) -> None:
        self.session.merge(row)
        self.session.flush()

    def drop_signups(self, user_keys: Iterable[str]) -> int:
        """Take these people (user keys) out of the pool; returns how many were in it."""
        keys = list(user_keys)
        table = SignupRow.__table__
        return sum(
            self.session.exec(delete(table).where(table.c.user_key.in_(keys[first:first + KEYS_AT_ONCE]))).rowcount
            for first in range(0, len(keys), KEYS_AT_ONCE)
        )

    def pool(self, platform: str, workspace: str) -> list[SignupRow]:
        """Everyone in the workspace's pool, in the order they signed up."""
        query = (
            select(SignupRow)
            .where(SignupRow.platform == platform, SignupRow.workspace == workspace)
            .order_by(col(SignupRow.signed_up_at), col(SignupRow.user_key))
        )
        return list(self.session.exec(query).all())

    def tell(self, told: dict[str, str]) -> None:
        """Note the reason each person (user key) was last told they could not be placed."""
        table = SignupRow.__table__
        if told:
            statement = update(table).where(table.c.user_key == bindparam("k")).values(told=bindparam("reason"))
            self.session.exec(statement, params=[dict(k=key, reason=reason) for key, reason in told.items()])

    def circle_mates(self, user_keys: Iterable[str]) -> list[list[str]]:
        """For each circle any of these people was ever in, its people (user keys): who met whom."""
        self.flush()
        i = InvolvementRow.__table__.c
        keys = list(user_keys)
        by_circle: dict[str, list[str]] = {}
        for first in range(0, len(keys), KEYS_AT_ONCE):
            theirs = select(i.circle_id).where(i.user_key.in_(keys[first:first + KEYS_AT_ONCE]))
            for user_key, circle_id in self.session.execute(select(i.user_key, i.circle_id).where(i.circle_id.in_(theirs))):
                by_circle.setdefault(circle_id, []).append(user_key)
        return [sorted(set(people)) for _, people in sorted(by_circle.items())]

    def match_schedule(self, platform: str, workspace: str) -> MatchScheduleRow | None:
        return self.session.get(MatchScheduleRow, (platform, workspace))

    def set_match_schedule(self, row: MatchScheduleRow | None, platform: str, workspace: str) -> None:
        """Keep ``row`` as the workspace's schedule; ``None`` drops it."""
        if row is None:
            table = MatchScheduleRow.__table__
            self.session.exec(delete(table).where(table.c.platform == platform, table.c.workspace == workspace))
        else:
            self.session.merge(row)
        self.session.flush()

    def due_match_schedules(self, now: datetime) -> list[MatchScheduleRow]:
        query = select(MatchScheduleRow).where(col(MatchScheduleRow.next_run_at) <= now).with_for_update(skip_locked=True)
        return list(self.session.exec(query.order_by(MatchScheduleRow.platform, MatchScheduleRow.workspace)).all())

    def circle_of_space(self, platform: str, channel: str) -> str | None:
        """The circle whose space is ``channel`` on ``platform``, if any."""
        query = select(SpaceRow.circle_id).where(SpaceRow.platform == platform, SpaceRow.channel == channel)
        return self.session.exec(query).first()

    def record_skipped(self, circle_id: str, keys: Iterable[str], now: datetime) -> None:
        """Note occurrences that came due too long ago to send, so the record shows them."""
        self._insert_new(
            dict(key=key, circle_id=circle_id, kind="Skipped", payload="{}", status=SKIPPED, recipient=None, lane="",
                 attempts=0, not_before=now, created_at=now, platform="", locale="en", reader_tz="UTC")
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

    def __init__(self, engine: Engine, commands_open: CommandsOpen | SharedCommandsOpen | None = None):
        self.engine = engine
        #: People's command transactions open now; shared with a ticking process (circlebot/tick_process.py).
        self.commands_open = commands_open or CommandsOpen()

    @contextmanager
    def transaction(self, *, background: bool = False) -> Iterator[Transaction]:
        """One transaction; ``background`` for the clock's, which lets commands go first."""
        if background:
            self.let_commands_first(BACKGROUND_WAIT)
        else:
            self.commands_open.change(+1)
        try:
            with Session(self.engine, expire_on_commit=False) as session:
                with session.begin():
                    tx = Transaction(session)
                    try:
                        yield tx
                        tx.flush()
                        tx.write_counts()
                    finally:
                        # A transaction used after its block would silently open another and hold locks.
                        tx.session = None
        finally:
            if not background:
                self.commands_open.change(-1)
        for callback in dict.fromkeys(tx.after_commit):  # once each, and only once committed
            callback()

    def let_commands_first(self, at_most: float = IN_TRANSACTION_WAIT) -> None:
        """Wait, up to ``at_most`` seconds, while any command's transaction is open.

        Bounded: inside a background transaction that holds a row a command needs
        (PostgreSQL), the command waits for the tick, not the other way round.
        """
        self.commands_open.wait_for_none(at_most)

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

    def forget_old(self, requests_before: datetime, forms_before: datetime) -> tuple[int, int]:
        """In one transaction, drop request ids older than ``requests_before`` (platforms retry within
        minutes, not days) and forms left half filled in since before ``forms_before`` (they hold answers
        nobody sent).

        Returns:
            How many request ids and forms were dropped.
        """
        with Session(self.engine) as session, session.begin():
            requests, forms = HandledRequestRow.__table__, FormDraftRow.__table__
            dropped = session.exec(delete(requests).where(requests.c.handled_at < requests_before)).rowcount
            return dropped, session.exec(delete(forms).where(forms.c.updated_at < forms_before)).rowcount

    def held_form(self, user_key: str, action: str) -> tuple[str, str] | None:
        """A form ``user_key`` is filling in page by page: its JSON and the answers so far (JSON), if held."""
        with Session(self.engine) as session:
            row = session.get(FormDraftRow, (user_key, action))
            return (row.form, row.answers) if row else None

    def hold_form(self, user_key: str, action: str, form: str, answers: str, now: datetime) -> None:
        """Keep (or replace) a form being filled in page by page, with the answers so far."""
        self._put(FormDraftRow, dict(user_key=user_key, action=action, form=form, answers=answers, updated_at=now))

    def drop_form(self, user_key: str, action: str) -> None:
        with Session(self.engine) as session, session.begin():
            table = FormDraftRow.__table__
            session.exec(delete(table).where(table.c.user_key == user_key, table.c.action == action))

    def kept_value(self, key: str) -> str | None:
        """A value an adapter kept (:meth:`keep_value`), or None."""
        with Session(self.engine) as session:
            row = session.get(KeptValueRow, key)
            return row.value if row else None

    def keep_value(self, key: str, value: str) -> None:
        """Keep ``value`` under ``key`` for later runs and the other replicas (replacing what was there)."""
        self._put(KeptValueRow, dict(key=key, value=value))

    def home_of(self, circle_id: str) -> str | None:
        """Where ``circle_id``'s space opens, as kept when it formed (:meth:`Transaction.keep_home`), if known."""
        return self.kept_value(home_key(circle_id))

    def _put(self, model: type, values: dict) -> None:
        with Session(self.engine) as session, session.begin():
            put(session, model, values)

    def next_wake(self) -> datetime | None:
        """The earliest moment any circle needs a tick, or any workspace's pool is to be matched."""
        with Session(self.engine) as session:
            moments = (session.exec(select(func.min(column))).one()
                       for column in (CircleRow.next_wake_at, MatchScheduleRow.next_run_at))
            return min((m for m in moments if m is not None), default=None)
