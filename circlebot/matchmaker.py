"""The pool's side of the service: sign-ups kept in storage, and matching runs, by a command or on a schedule.

:class:`Matchmaker` joins the pure parts (:mod:`bot.matching` groups people,
:mod:`bot.pool` says what each is told and forms their circle) with storage, in
the caller's transaction. ``/circle match`` runs it for one workspace; the
scheduler runs it for each workspace whose admin set a weekly time.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime

from bot import commands as c
from bot import pool
from bot.circle import Actor, Slot, UserRef
from bot.decision import Decision
from bot.effects import Reply, Response
from bot.errors import CircleError
from bot.forming import slug
from bot.i18n import language
from bot.matching import Result, Signup, match, met_from, parse_hours
from kits.schema import Kit
from storage.models import MatchScheduleRow, SignupRow
from storage.repository import Store, Transaction

log = logging.getLogger(__name__)


def _signup(row: SignupRow) -> Signup:
    user = UserRef(row.platform, row.workspace, row.user_id)
    return Signup(user, row.name, row.kit, row.tz, parse_hours(row.hours), row.language, row.strangers, row.moderate,
                  row.signed_up_at)


class Matchmaker:
    """Keeps the pool and matches it.

    Args:
        kits: the installed kits by id.
        locale: the bot's default language.
        apply: saves a decision and queues its deliveries (``circlebot.service.apply_decision``).
    """

    def __init__(self, kits: Mapping[str, Kit], locale: str, apply):
        self.kits = kits
        self.locale = locale
        self.apply = apply

    def command(self, tx: Transaction, actor: Actor, command: c.Command, now: datetime) -> list[Response]:
        """Carry out a pool command: sign up, see or leave one's place, match, or set the schedule."""
        user = actor.user
        if isinstance(command, c.SignUp):
            return [Reply(user, self._sign_up(tx, actor, command, now))]
        if isinstance(command, c.MySignup):
            row = tx.signup(user)
            message = pool.signup_message(_signup(row), self.kits[row.kit], pool.SHOWN) if row and row.kit in self.kits \
                else pool.not_signed_up()
            return [Reply(user, message)]
        if isinstance(command, c.LeavePool):
            tx.drop_signups([user.key])
            return [Reply(user, pool.left_pool())]
        if not actor.is_admin:
            raise CircleError(pool.ADMINS_ONLY)
        if isinstance(command, c.Match):
            return [Reply(user, self.run(tx, user.platform, user.workspace, now))]
        assert isinstance(command, c.MatchSchedule)
        return [Reply(user, self._schedule(tx, actor, command, now))]

    def exported(self, tx: Transaction, user: UserRef) -> dict | None:
        """The person's sign-up as ``export`` shows it (``None``: they are not in the pool)."""
        row = tx.signup(user)
        if row is None:
            return None
        return {"kit": row.kit, "hours": row.hours, "tz": row.tz, "language": row.language,
                "prefers": "strangers" if row.strangers else "people they know", "moderate": row.moderate,
                "signed_up_at": row.signed_up_at.isoformat()}

    def _sign_up(self, tx: Transaction, actor: Actor, command: c.SignUp, now: datetime):
        kit = pool.require_kit(command.kit, self.kits)
        tz = command.tz or actor.tz
        if tz is None:
            raise CircleError(pool.which_zone(command.kit))
        before = tx.signup(actor.user)
        row = SignupRow(
            user_key=actor.user.key, platform=actor.user.platform, workspace=actor.user.workspace,
            user_id=actor.user.id, name=actor.name, kit=kit.id, tz=tz,
            hours=", ".join(str(w) for w in command.hours),
            language=language(command.language or actor.locale or self.locale),
            strangers=command.strangers, moderate=command.moderate,
            # Changing a sign-up keeps one's place in line.
            signed_up_at=before.signed_up_at if before else now, told=None,
        )
        tx.save_signup(row)
        title = pool.UPDATED if before else pool.SIGNED_UP
        return pool.signup_message(_signup(row), kit.translated(row.language), title)

    def run(self, tx: Transaction, platform: str, workspace: str, now: datetime):
        """Match the workspace's pool now: form a circle for each group, tell the others why; the admin's summary."""
        rows = [row for row in tx.pool(platform, workspace) if row.kit in self.kits]
        signups = [_signup(row) for row in rows]
        met = met_from(tx.circle_mates(row.user_key for row in rows))
        sizes = {kit_id: kit.size.places for kit_id, kit in self.kits.items()}
        result: Result = match(signups, met, now, sizes)
        handles = []
        for group in result.groups:
            kit = self.kits[group.kit].translated(group.language)
            name = pool.circle_name(group, kit)
            decision: Decision = pool.form_group(group, kit, now, tx.handles(platform, workspace, slug(name)))
            self.apply(tx, None, decision, now, self.locale)
            handles.append(decision.circle.handle)
        tx.drop_signups(s.user.key for g in result.groups for s in g.members)
        told = {row.user_key: row.told for row in rows}
        news = [u for u in result.unplaced if told.get(u.signup.user.key) != u.reason.value]
        # Told once for each reason: a weekly run does not repeat the same news.
        readers = {u.signup.user.key: (u.signup.language, u.signup.tz) for u in news}
        tx.enqueue([pool.unplaced_dm(u.signup, u.reason, now) for u in news], now, platform=platform,
                   reader=lambda dm: readers[dm.to.key])
        tx.tell({u.signup.user.key: u.reason.value for u in news})
        log.info("matched a pool: %d circles, %d people stay", len(result.groups), len(result.unplaced))
        return pool.match_report(result, handles)

    def _schedule(self, tx: Transaction, actor: Actor, command: c.MatchSchedule, now: datetime):
        user = actor.user
        if command.slot is None:
            tx.set_match_schedule(None, user.platform, user.workspace)
            return pool.schedule_message(None, "UTC", None)
        tz = command.tz or actor.tz or "UTC"
        upcoming = pool.next_run(command.slot, tz, now)
        row = MatchScheduleRow(platform=user.platform, workspace=user.workspace, weekday=command.slot.weekday,
                               at=command.slot.at.strftime("%H:%M"), tz=tz, next_run_at=upcoming)
        tx.set_match_schedule(row, user.platform, user.workspace)
        return pool.schedule_message(command.slot, tz, upcoming)

    def run_due(self, store: Store, now: datetime) -> int:
        """Match every workspace whose scheduled time has come; returns how many were matched."""
        with store.transaction(background=True) as tx:
            due = tx.due_match_schedules(now)
            for row in due:
                self.run(tx, row.platform, row.workspace, now)
                slot = Slot(row.weekday, datetime.strptime(row.at, "%H:%M").time())
                row.next_run_at = pool.next_run(slot, row.tz, now)
                tx.set_match_schedule(row, row.platform, row.workspace)
        return len(due)
