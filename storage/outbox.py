"""The outbox table's operations: what is due, and how each delivery ended."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from bot.effects import Delivery
from storage.codec import load_delivery
from storage.models import OutboxRow

PENDING, SENT, PARKED, SKIPPED, CANCELLED = "pending", "sent", "parked", "skipped", "cancelled"


@dataclass(frozen=True)
class Queued:
    id: int
    circle_id: str
    attempts: int
    not_before: datetime
    effect: Delivery


class Outbox:
    def __init__(self, engine):
        self.engine = engine

    def due(self, now: datetime, limit: int) -> list[Queued]:
        """Pending deliveries whose time has come, oldest first."""
        with Session(self.engine) as session:
            rows = session.exec(
                select(OutboxRow)
                .where(OutboxRow.status == PENDING, col(OutboxRow.not_before) <= now)
                .order_by(col(OutboxRow.id))
                .limit(limit)
            ).all()
            return [
                Queued(row.id, row.circle_id, row.attempts, row.not_before, load_delivery(row.kind, row.payload))
                for row in rows
            ]

    def next_due(self) -> datetime | None:
        with Session(self.engine) as session:
            return session.exec(select(func.min(OutboxRow.not_before)).where(OutboxRow.status == PENDING)).one()

    def _set(self, row_id: int, **values) -> None:
        with Session(self.engine) as session, session.begin():
            session.exec(update(OutboxRow).where(OutboxRow.id == row_id).values(**values))

    def mark_sent(self, row_id: int, now: datetime) -> None:
        self._set(row_id, status=SENT, sent_at=now)

    def retry_later(self, row_id: int, attempts: int, not_before: datetime, error: str) -> None:
        self._set(row_id, attempts=attempts, not_before=not_before, last_error=error[:500])

    def skip(self, row_id: int, reason: str) -> None:
        self._set(row_id, status=SKIPPED, last_error=reason[:500])

    def park(self, row_id: int, attempts: int, error: str) -> None:
        self._set(row_id, status=PARKED, attempts=attempts, last_error=error[:500])

    def counts(self) -> dict[str, int]:
        with Session(self.engine) as session:
            rows = session.exec(select(OutboxRow.status, func.count()).group_by(OutboxRow.status)).all()
            return dict(rows)
