"""The outbox table's operations: claim what is due, and record how each delivery ended.

A delivery is *claimed* (status ``sending``) before it is sent, with a lease in
``not_before``. If the process dies mid-send, the row stays ``sending``; when the
lease runs out (or a new leader recovers it at once) it is claimed again with
``resend=True``, telling the adapter to send it idempotently.

A claim is atomic: on PostgreSQL its rows are locked (``FOR UPDATE SKIP
LOCKED``) from the read to the write, and on both databases the write takes
only rows that are still due, so a row another claim took in between is left out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, bindparam, delete, func, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from adapters.contract import Outgoing, Receipt
from bot.effects import Delivery, DirectMessage, PostInThread, UpdatePost
from storage.codec import load_delivery
from storage.database import on_a_live_connection
from storage.models import WAITING_ONLY, OutboxRow, PersonRow, SpaceRow

PENDING, SENDING, SENT, PARKED, SKIPPED, CANCELLED = "pending", "sending", "sent", "parked", "skipped", "cancelled"
# Waiting rows are selected with WAITING_ONLY, the partial indexes' own literal condition: a planner uses
# such an index only when the query names the same values. With ``status IN (?, ?)`` SQLite walked the
# whole outbox by id (4 s a claim with 5 million sent rows), and PostgreSQL's generic plans may too.


OUTBOX = OutboxRow.__table__
#: What a claim reads of each row: everything a delivery needs, nothing of its outcome.
CLAIMED_COLUMNS = tuple(OUTBOX.c[name] for name in (
    "id", "circle_id", "lane", "attempts", "not_before", "status", "kind", "payload", "platform", "locale", "reader_tz",
    "created_at"))


def referred_key(effect: Delivery) -> str | None:
    """The key of the earlier post a delivery names: the one it updates or threads under."""
    if isinstance(effect, UpdatePost):
        return effect.original
    if isinstance(effect, PostInThread):
        return effect.parent
    return None


def lane_of(effect: Delivery) -> str:
    """Deliveries in one lane keep their order: the circle's space, or one member's DMs."""
    return f"{effect.circle_id}/{effect.to.key}" if isinstance(effect, DirectMessage) else effect.circle_id


@dataclass(frozen=True)
class Queued:
    """A claimed delivery. ``resend``: an earlier attempt may have reached the platform."""

    id: int
    circle_id: str
    lane: str
    attempts: int
    not_before: datetime
    resend: bool
    effect: Delivery
    platform: str = ""
    locale: str = "en"
    reader_tz: str = "UTC"
    queued_at: datetime | None = None

    def outgoing(self, claimed_at: datetime, space: Receipt | None, earlier: Receipt | None) -> Outgoing:
        return Outgoing(self.effect, self.resend, claimed_at, self.platform, space, earlier, self.locale,
                        self.reader_tz, self.queued_at)


@dataclass(frozen=True)
class Outcome:
    """How one delivery ended: ``status`` is sent, pending (retry at ``not_before``), parked or skipped."""

    id: int
    status: str
    attempts: int
    not_before: datetime
    error: str | None = None
    receipt: Receipt | None = None
    space_of: str | None = None  # the circle whose space this receipt is (an OpenSpace that went out)
    platform: str = ""
    recipient: str | None = None  # a DM's recipient (user key), when it went out or was refused
    dms_refused: bool = False  # the platform refused it: the recipient's DMs are closed


class Outbox:
    def __init__(self, engine: Engine):
        self.engine = engine

    def claim(self, now: datetime, limit: int, lease: timedelta = timedelta(minutes=5)) -> list[Queued]:
        """Take up to ``limit`` due deliveries, oldest first, for ``lease``.

        A delivery waits while an earlier one in its lane (the circle's space, or
        one member's DMs) is still waiting for a retry or in flight, so nothing
        overtakes within a lane.
        """
        with Session(self.engine) as session, session.begin():
            # Two plain queries rather than one anti-join: in a fan-out thousands of rows change
            # status at once, the planner's estimates go stale, and a nested-loop plan over the
            # waiting rows turned a claim from milliseconds into seconds.
            # The held rows (waiting, not due yet) are few, read as a range of (status, not_before). With
            # GROUP BY lane SQLite walked every waiting row in lane order instead, a fan-out's backlog included
            # (30 ms of a claim's CPU with 40,000 waiting behind the rate limit).
            first_held: dict[str, int] = {}
            held = select(OUTBOX.c.lane, OUTBOX.c.id).where(WAITING_ONLY, OUTBOX.c.not_before > now)
            for lane, row_id in session.execute(held):
                first_held[lane] = min(row_id, first_held.get(lane, row_id))
            rows = []
            after = 0
            while len(rows) < limit:
                # Core rows, not ORM objects: a claim reads what it sends and changes it with an UPDATE, so
                # building and tracking an object per row (a third of a claim's CPU) would buy nothing.
                page = session.execute(
                    select(*CLAIMED_COLUMNS)
                    .where(WAITING_ONLY, OUTBOX.c.not_before <= now, OUTBOX.c.id > after)
                    .order_by(OUTBOX.c.id)
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                ).all()
                rows += [row for row in page if row.id < first_held.get(row.lane, row.id + 1)]
                if len(page) < limit:
                    break
                after = page[-1].id
            candidates = [
                Queued(row.id, row.circle_id, row.lane, row.attempts, row.not_before, row.status == SENDING,
                       load_delivery(row.kind, row.payload), row.platform, row.locale, row.reader_tz, row.created_at)
                for row in rows[:limit]
            ]
            if not candidates:
                return []
            # The write checks again that each row is due: one another claim took since the read
            # (SQLite has no row locks) is not due any more, so no delivery is ever claimed twice.
            taken = set(
                session.execute(
                    update(OUTBOX)
                    .where(OUTBOX.c.id.in_([q.id for q in candidates]), WAITING_ONLY, OUTBOX.c.not_before <= now)
                    .values(status=SENDING, not_before=now + lease)
                    .returning(OUTBOX.c.id)
                ).scalars()
            )
            return [queued for queued in candidates if queued.id in taken]

    def context(self, claimed: Iterable[Queued]) -> tuple[dict[str, Receipt], dict[str, Receipt]]:
        """What the claimed deliveries refer to: their circles' spaces, and the receipts of earlier posts they name.

        Returns:
            The spaces by circle id, and the receipts by outbox key; one query each.
        """
        claimed = list(claimed)
        circle_ids = list({q.circle_id for q in claimed})
        keys = list({key for q in claimed if (key := referred_key(q.effect))})
        with Session(self.engine) as session:
            spaces = {
                circle_id: Receipt(channel)
                for circle_id, channel in session.exec(
                    select(SpaceRow.circle_id, SpaceRow.channel).where(col(SpaceRow.circle_id).in_(circle_ids))
                )
            }
            earlier = {}
            if keys:
                rows = session.exec(
                    select(OutboxRow.key, OutboxRow.channel, OutboxRow.message_id).where(
                        col(OutboxRow.key).in_(keys), OutboxRow.status == SENT, col(OutboxRow.channel).is_not(None)
                    )
                )
                earlier = {key: Receipt(channel, message) for key, channel, message in rows}
        return spaces, earlier

    def recover(self, now: datetime) -> int:
        """Make every claimed-but-unfinished delivery due now.

        Only the leader calls it, with no pass in flight (it just took over, or a pass
        failed): every delivery still claimed then is one nobody will finish.
        """

        def write() -> int:
            with Session(self.engine) as session, session.begin():
                return session.exec(update(OutboxRow).where(OutboxRow.status == SENDING).values(not_before=now)).rowcount

        return on_a_live_connection(write, "releasing unfinished deliveries")

    def finish(self, outcomes: Iterable[Outcome], now: datetime) -> None:
        """Record a batch of outcomes in one transaction, again on a fresh connection if it was dropped.

        Losing them would leave deliveries that reached the platform to be sent again.
        """
        outcomes = list(outcomes)
        values = [
            dict(b_id=o.id, b_status=o.status, b_attempts=o.attempts, b_not_before=o.not_before,
                 b_error=o.error[:500] if o.error else None, b_sent_at=now if o.status == SENT else None,
                 b_channel=o.receipt.channel if o.receipt else None,
                 b_message=o.receipt.message if o.receipt else None)
            for o in outcomes
        ]
        if not values:
            return
        statement = (
            update(OUTBOX)
            .where(OUTBOX.c.id == bindparam("b_id"))
            .values(status=bindparam("b_status"), attempts=bindparam("b_attempts"),
                    not_before=bindparam("b_not_before"), last_error=bindparam("b_error"),
                    sent_at=bindparam("b_sent_at"), channel=bindparam("b_channel"), message_id=bindparam("b_message"))
        )
        spaces = [o for o in outcomes if o.space_of and o.receipt]
        dms_refused = {o.recipient: o.dms_refused for o in outcomes if o.recipient}  # each person's last word

        def write() -> None:
            with self.engine.begin() as connection:
                connection.execute(statement, values)
                for outcome in spaces:
                    self._record_space(connection, outcome)
                if dms_refused:
                    self._record_dms(connection, dms_refused)

        on_a_live_connection(write, f"recording {len(values)} delivery outcomes")

    def _record_space(self, connection, outcome: Outcome) -> None:
        """The circle's space is where its OpenSpace landed; a later one (a re-made space) replaces it."""
        table = SpaceRow.__table__
        connection.execute(delete(table).where(table.c.circle_id == outcome.space_of))
        connection.execute(
            table.insert().values(circle_id=outcome.space_of, platform=outcome.platform, channel=outcome.receipt.channel)
        )

    def _record_dms(self, connection, refused: dict[str, bool]) -> None:
        """Flag the people whose DMs the platform refused (the core tells them when they next act); unflag the reached."""
        table = PersonRow.__table__
        reached = [key for key, no in refused.items() if not no]
        if reached:
            connection.execute(update(table).where(table.c.user_key.in_(reached), table.c.dms_refused).values(dms_refused=False))
        closed = [dict(user_key=key, tz_asked=False, dms_refused=True, is_admin=False) for key, no in refused.items() if no]
        if closed:
            insert = (pg_insert if connection.dialect.name == "postgresql" else sqlite_insert)(table)
            connection.execute(insert.on_conflict_do_update(index_elements=["user_key"], set_={"dms_refused": True}), closed)

    def next_due(self) -> datetime | None:
        """When the next delivery can go: the earliest of each lane's first waiting row.

        A row waiting behind an earlier one in its lane does not count, or a lane held
        for a retry would make the scheduler wake again and again for nothing.
        """
        heads = select(func.min(OutboxRow.id)).where(WAITING_ONLY).group_by(OutboxRow.lane)
        with Session(self.engine) as session:
            return session.exec(select(func.min(OutboxRow.not_before)).where(col(OutboxRow.id).in_(heads))).one()

    def counts(self) -> dict[str, int]:
        with Session(self.engine) as session:
            rows = session.exec(select(OutboxRow.status, func.count()).group_by(OutboxRow.status)).all()
            return dict(rows)

    def depth(self) -> dict[str, int]:
        """How many deliveries wait, pending or being sent (read from the status index: sent rows are not counted)."""
        with Session(self.engine) as session:
            query = select(OutboxRow.status, func.count()).where(WAITING_ONLY)
            return dict(session.exec(query.group_by(OutboxRow.status)).all())

    def keys(self, status: str) -> list[str]:
        with Session(self.engine) as session:
            query = select(OutboxRow.key).where(OutboxRow.status == status).order_by(col(OutboxRow.id))
            return list(session.exec(query).all())
