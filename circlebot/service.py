"""The service: one command or tick = load the circle, ask the core, save, queue deliveries.

Adapters call :meth:`CircleService.run` with the text a person typed (or the
command a button carries) and render the responses it returns. Deliveries
(posts, DMs, channel changes) are queued in the outbox in the same transaction
as the circle's new state, so a crash can lose or double neither.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from bot import commands as c
from bot import privacy
from bot.circle import Actor, Circle
from bot.effects import DELIVERY_TYPES, RESPONSE_TYPES, SCHEDULING_TYPES, Message, Reply, Response
from bot.engine import Decision, create_circle, forget, handle, list_message, tick
from bot.forming import LIST_PAGE, form_again, slug
from bot.errors import CircleError
from bot.grammar import PREFIX, parse
from bot.i18n import _, join
from bot.messages import help_message, plain
from bot.stats import require_admin, stats_message, workspace_stats
from kits.schema import Kit
from storage.repository import StaleCircle, Store, Transaction

log = logging.getLogger(__name__)

#: How often a command is retried when another process changed the circle meanwhile.
RETRIES = 3


def error_message(error: CircleError) -> Message:
    return plain(error.text, title=_("Sorry"))


class CircleService:
    """Joins the core, the kits and storage.

    Args:
        store: where circles and the outbox live.
        kits: the installed kits by id.
        grace: how late a timetable step may still be sent.
        on_change: called once a command's change is committed, when it queued
            deliveries or moved the circle's next wake (the live scheduler's ``poke``).
    """

    def __init__(
        self, store: Store, kits: Mapping[str, Kit], grace: timedelta, on_change: Callable[[], None] | None = None
    ):
        self.store = store
        self.kits = kits
        self.grace = grace
        self.on_change = on_change

    def run(self, actor: Actor, text: str, now: datetime, *, where: str | None = None) -> list[Response]:
        """Carry out one ``/circle`` command typed by ``actor``.

        Args:
            actor: who typed it.
            text: the command line, with or without the ``/circle`` prefix.
            now: the current time.
            where: the circle whose space the command was typed in, if any.

        Returns:
            The responses for ``actor`` (a reply or a form); deliveries went to the outbox.
        """
        try:
            command = parse(text)
            for attempt in range(RETRIES):
                try:
                    return self._run(actor, command, now, where)
                except StaleCircle:
                    log.info("circle changed meanwhile; retrying (%d)", attempt + 1)
            raise CircleError(_("The circle is busy right now; please try again in a moment."))
        except CircleError as error:
            return [Reply(actor.user, error_message(error))]

    def _run(self, actor: Actor, command: c.Command, now: datetime, where: str | None) -> list[Response]:
        if isinstance(command, c.Help):
            return [Reply(actor.user, help_message())]
        with self.store.transaction() as tx:
            user = actor.user
            if isinstance(command, c.ListCircles):
                joinable, total = tx.joinable(user, LIST_PAGE)
                mine = tx.load_many(tx.circle_ids_of(user, closed=True))
                return [Reply(user, list_message(mine, joinable, total - len(joinable), self.kits))]
            if isinstance(command, c.Stats):
                require_admin(actor)
                return [Reply(user, stats_message(workspace_stats(tx.tally(user.platform, user.workspace))))]
            if isinstance(command, c.Export):
                return [privacy.export_file(tx.load_many(tx.involved_circle_ids(user)), user, now)]
            if isinstance(command, c.ForgetMe):
                return self._forget(tx, actor, command, now)
            if isinstance(command, c.NewCircle):
                taken = tx.handles(user.platform, user.workspace, slug(command.name))
                return self._apply(tx, None, create_circle(command, actor, now, self.kits, taken), now)
            circle = self._resolve(tx, actor, command, where)
            if isinstance(command, c.Again):
                return self._again(tx, circle, command, actor, now)
            decision = handle(circle, command, actor, now, self._kit(circle))
            return self._apply(tx, circle, decision, now)

    def _again(self, tx: Transaction, old: Circle, command: c.Again, actor: Actor, now: datetime) -> list[Response]:
        taken = tx.handles(old.platform, old.workspace, slug(old.name))
        announced, formed = form_again(old, command, actor, now, self.kits, taken)
        self._apply(tx, old, announced, now)
        return self._apply(tx, None, formed, now)

    def _forget(self, tx: Transaction, actor: Actor, command: c.ForgetMe, now: datetime) -> list[Response]:
        """Erase ``actor`` from every circle of their workspace that holds anything about them, in one transaction.

        Circles they left count too: their old answers are still in them.
        """
        user = actor.user
        involved = tx.involved_circle_ids(user)
        circles = [circle for circle in tx.load_many(involved, lock=True) if privacy.holds(circle, user)]
        # Decided before anything is shown, so a moderator who must hand over first hears it at once.
        # The stand-in's token is random and kept nowhere: nothing leads from it back to the person.
        decisions = [
            forget(circle, user, privacy.stand_in(user, secrets.token_hex(8)), now, self.kits.get(circle.kit_id))
            for circle in circles
        ]
        if not command.confirmed:
            return [Reply(user, privacy.forget_preview(circles, user))]
        # Every circle they were ever in: one they joined and left in silence still announced "Bob joined".
        texts = privacy.traces(circles, user) | {actor.name}
        erased = tx.erase_from_outbox(involved, user, texts)
        for before, decision in zip(circles, decisions):
            self._apply(tx, before, decision, now)
        tx.forget_involvements(user)
        log.info("forgot a person: %d circles, %d outbox rows", len(circles), erased)
        return [Reply(user, privacy.forgotten_message(len(circles)))]

    def tick(self, circle_id: str, now: datetime) -> None:
        """Move one circle along its timetable up to ``now``."""
        self.tick_many([circle_id], now)

    def tick_many(self, circle_ids: list[str], now: datetime) -> None:
        """Move several circles along in one transaction (a fan-out ticks thousands at once).

        If another process changed one of them meanwhile, each is retried on its own.
        """
        try:
            with self.store.transaction(background=True) as tx:
                for circle in tx.load_many(circle_ids, lock=True):
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
            log.warning("tick for circle %s skipped: its kit %s is not installed", circle.id, circle.kit_id)
            return
        decision = tick(circle, kit, now, self.grace)
        self._apply(tx, circle, decision, now, from_clock=True)
        if decision.skipped:
            log.warning("circle %s: %d occurrences too late to send", circle.id, len(decision.skipped))
            tx.record_skipped(circle.id, decision.skipped, now)

    def tick_due(self, now: datetime, page: int = 50) -> int:
        """Tick every circle whose next step is due; returns how many were ticked.

        Pages go by circle id, so a circle that stays due (its kit is gone) is
        visited once per call, never in a loop.
        """
        ticked, after = 0, None
        while True:
            due = self.store.due_circle_ids(now, page, after)
            self.tick_many(due, now)
            ticked += len(due)
            if len(due) < page:
                return ticked
            after = due[-1]

    def _apply(
        self, tx: Transaction, before: Circle | None, decision: Decision, now: datetime, *, from_clock: bool = False
    ) -> list[Response]:
        after = decision.circle
        if before is None or after.revision != before.revision:
            members_changed = before is None or [m.user for m in before.members] != [m.user for m in after.members]
            tx.save(after, previous_revision=before.revision if before else None, members_changed=members_changed)
        tx.enqueue([e for e in decision.effects if isinstance(e, DELIVERY_TYPES)], now)
        # A tick runs inside the scheduler, which re-arms itself; a command must tell it.
        if self.on_change and not from_clock and any(isinstance(e, SCHEDULING_TYPES) for e in decision.effects):
            tx.after_commit.append(self.on_change)
        return [e for e in decision.effects if isinstance(e, RESPONSE_TYPES)]

    def _kit(self, circle: Circle) -> Kit:
        kit = self.kits.get(circle.kit_id)
        if kit is None:
            raise CircleError(_("This circle's kit \u201c{kit}\u201d is not installed here; ask an admin.", kit=circle.kit_id))
        return kit

    def _resolve(self, tx: Transaction, actor: Actor, command: c.CircleCommand, where: str | None) -> Circle:
        """The circle a command is about: named, the space it was typed in, or the actor's only one."""
        user = actor.user
        if command.circle:
            circle = tx.find(user.platform, user.workspace, command.circle.lower().lstrip("#"), lock=True)
            if circle is None:
                raise CircleError(
                    _("There is no circle \u201c{name}\u201d here. See {command}.", name=command.circle, command=f"{PREFIX} list")
                )
            return circle
        if where:
            circle = tx.load(where, lock=True)
            if circle is None or (circle.platform, circle.workspace) != (user.platform, user.workspace):
                raise CircleError(_("This space belongs to no circle here. See {command}.", command=f"{PREFIX} list"))
            return circle
        if isinstance(command, c.Join):
            raise CircleError(_("Which circle? {usage}. See {command} for open ones.", usage=f"{PREFIX} join <circle>", command=f"{PREFIX} list"))
        # A circle still running is meant before a closed one; a closed one still answers `info`.
        mine = tx.circle_ids_of(actor.user) or tx.circle_ids_of(actor.user, closed=True)
        if len(mine) == 1:
            circle = tx.load(mine[0], lock=True)
            assert circle is not None
            return circle
        if not mine:
            raise CircleError(
                _("You are not in a circle yet. Join one ({list}) or form your own ({new}).", list=f"{PREFIX} list", new=f"{PREFIX} new")
            )
        handles = sorted(circle.handle for circle in tx.load_many(mine))
        raise CircleError(_("You are in several circles; name one, e.g. #{first}. Yours: {ids}.", first=handles[0], ids=join([f"#{h}" for h in handles])))
