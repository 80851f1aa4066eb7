"""The clock's side of the service: move due circles along their timetables (what the scheduler calls).

Apart from :class:`circlebot.service.CommandService`, so the scheduler needs
nothing of the command path, and a person's command never waits on a whole
page of ticks in the same object.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

from bot.circle import Circle
from bot.engine import tick
from circlebot.logs import about
from circlebot.matchmaker import Matchmaker
from circlebot.service import RETRIES, apply_decision
from kits.schema import Kit
from storage.repository import StaleCircle, Store, Transaction

log = logging.getLogger(__name__)

#: How long a platform's request id is remembered; retries come within minutes.
REQUEST_MEMORY = timedelta(days=1)
#: How long a form filled in page by page waits for its next page before its answers so far are dropped.
FORM_MEMORY = timedelta(days=1)


class Ticker:
    """Moves circles along their timetables.

    Args:
        store: where circles and the outbox live.
        kits: the installed kits by id.
        grace: how late a timetable step may still be sent.
        locale: the language of posts to a circle, and of anyone who has not chosen one.
    """

    def __init__(self, store: Store, kits: Mapping[str, Kit], grace: timedelta, locale: str = "en"):
        self.store = store
        self.kits = kits
        self.grace = grace
        self.locale = locale
        self.matchmaker = Matchmaker(kits, locale, apply_decision)

    def tick(self, circle_id: str, now: datetime) -> None:
        """Move one circle along its timetable up to ``now``."""
        self.tick_many([circle_id], now)

    def tick_many(self, circle_ids: list[str], now: datetime) -> None:
        """Move several circles along in one transaction (a fan-out ticks thousands at once).

        If another process changed one of them meanwhile, each is retried on its own.
        """
        try:
            with self.store.transaction(background=True) as tx:
                circles = tx.load_many(circle_ids, lock=True)
                tx.people(member.user for circle in circles for member in circle.members)  # DMs' readers, one query
                for circle in circles:
                    self.store.let_commands_first()
                    self._tick_one(tx, circle, now)
            return
        except StaleCircle:
            pass
        for circle_id in circle_ids:
            for _attempt in range(RETRIES):
                try:
                    with self.store.transaction(background=True) as tx:
                        for circle in tx.load_many([circle_id], lock=True):
                            self._tick_one(tx, circle, now)
                    break
                except StaleCircle:
                    continue

    def _tick_one(self, tx: Transaction, circle: Circle, now: datetime) -> None:
        kit = self.kits.get(circle.kit_id)
        if kit is None:
            log.warning("tick for circle %s skipped: its kit %s is not installed", circle.id, circle.kit_id,
                        **about(circle.id))
            return
        decision = tick(circle, kit.translated(circle.locale or self.locale), now, self.grace)
        apply_decision(tx, circle, decision, now, self.locale)
        if decision.skipped:
            log.warning("circle %s: %d occurrences too late to send", circle.id, len(decision.skipped),
                        **about(circle.id))
            tx.record_skipped(circle.id, decision.skipped, now)

    def tick_due(self, now: datetime, page: int = 50) -> int:
        """Tick every circle whose next step is due; returns how many were ticked.

        Pages go by circle id, so a circle that stays due (its kit is gone) is
        visited once per call, never in a loop.
        """
        self.store.forget_old(now - REQUEST_MEMORY, now - FORM_MEMORY)
        self.matchmaker.run_due(self.store, now)  # matched circles are due for nothing yet: none to tick
        ticked, after = 0, None
        while True:
            due = self.store.due_circle_ids(now, page, after)
            self.tick_many(due, now)
            ticked += len(due)
            if len(due) < page:
                return ticked
            after = due[-1]
