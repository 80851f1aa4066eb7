"""The command service: what adapters call. One request = load the circle, ask the core, save, queue deliveries.

Adapters call :meth:`CommandService.handle` (or :meth:`~CommandService.ahandle`
from an event loop) with a :class:`~bot.inputs.Request`: a typed line, a pressed
button or a submitted form, with the platform's id for it. The service decodes
it, checks it against the permission table like any typed command, and returns
the responses for the person. Deliveries (posts, DMs, channel changes) are
queued in the outbox in the same transaction as the circle's new state and the
request's id, so a crash can lose or double none of them, and a retried request
has no second effect. The clock's side is :class:`circlebot.ticker.Ticker`.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import secrets
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError

from bot import commands as c
from bot import directory, privacy
from bot.actions import command_of, decode_action
from bot.circle import Actor, Circle
from bot.effects import (DELIVERY_TYPES, RESPONSE_TYPES, SCHEDULING_TYPES, Delivery, DirectMessage, Message, Reply,
                         Response, ToldOfClosedDms)
from bot.decision import person_tz
from bot.engine import Decision, create_circle, forget, handle, list_message, merge_answered
from bot.errors import CircleError
from bot.directory import LIST_PAGE
from bot.forming import form_again, slug
from bot.grammar import parse
from bot.faq import faq_message
from bot.i18n import _, hint, join, language
from bot.inputs import Pressed, ReportedMessage, Request, Submitted, Typed
from bot.calendar import calendar_ics
from bot.messages import help_message, plain, unavailable_message
from bot.people import person_message, spoken, zone_question
from bot.stats import require_admin, stats_message, workspace_stats
from bot.text import clean
from circlebot import metrics
from circlebot.matchmaker import Matchmaker
from kits.schema import Kit
from storage.database import on_a_live_connection
from storage.repository import StaleCircle, Store, Transaction

log = logging.getLogger(__name__)

#: Display names are cut to this many characters (Slack allows 80, Discord 32).
DISPLAY_NAME_LIMIT = 80
#: How often a command is retried when another process changed the circle meanwhile.
RETRIES = 3
#: Threads for people's commands (the adapters let at most a few into the core at once).
COMMAND_THREADS = 4
#: Commands answered only to the person who typed them, never posted: they read the kit in their own language.
#: Commands about the pool of people asking to be matched, not about one circle.
POOL_COMMANDS = (c.SignUp, c.MySignup, c.LeavePool, c.Match, c.MatchSchedule)
#: How many times ``list`` reads on when the circles storage found were not all shown, to fill its page.
FILL_ROUNDS = 3
ANSWERED_PRIVATELY = (c.Info, c.Next, c.Journal, c.Calendar, c.Faq, c.Guide)


def error_message(error: CircleError) -> Message:
    return plain(error.text, title=_("Sorry"))


def command_of_input(request: Request) -> tuple[c.Command, str | None]:
    """The command a typed line, a pressed button or a submitted form stands for.

    Returns:
        The command, and the id of the circle a button or form is pinned to (``None`` for a typed line,
        whose circle is named by its handle, or found from where it was typed).

    Raises:
        CircleError: malformed, or an action this bot did not make.
    """
    match request.input:
        case Typed(text=text):
            return parse(text), None  # the grammar cleans what it reads
        case Pressed(action=action):
            decoded = decode_action(action)
            return command_of(decoded), decoded.circle_id or None
        case Submitted(action=action, answers=answers):
            decoded = decode_action(action)
            return command_of(decoded, tuple(clean(answer) for answer in answers)), decoded.circle_id or None
        case ReportedMessage(author=author, text=text, link=link):
            # The circle is the one whose space the message is in (see CommandService._dispatch).
            return c.Report(None, author, excerpt=clean(text), link=clean(link)), None
    raise TypeError(f"not an input: {request.input!r}")


class CommandService:
    """Joins the core, the kits and storage for what people do.

    Args:
        store: where circles, people and the outbox live.
        kits: the installed kits by id.
        locale: the language of posts to a circle, and of anyone who has not chosen one.
        on_change: called once a command's change is committed, when it queued
            deliveries or moved the circle's next wake (the live scheduler's ``poke``).
        public_url: where people reach this bot over HTTPS (``CIRCLEBOT_PUBLIC_URL``); with it,
            ``calendar`` gives each member a private subscription address under it.
    """

    def __init__(
        self,
        store: Store,
        kits: Mapping[str, Kit],
        locale: str = "en",
        on_change: Callable[[], None] | None = None,
        public_url: str | None = None,
    ):
        self.store = store
        self.kits = kits
        self.locale = locale
        self.on_change = on_change
        self.public_url = public_url
        self.matchmaker = Matchmaker(kits, locale, apply_decision)
        #: People's commands have threads of their own: one never waits for a thread behind the
        #: scheduler's claims and outcome writes, which use the event loop's default executor.
        self.threads = ThreadPoolExecutor(COMMAND_THREADS, thread_name_prefix="commands")

    async def ahandle(self, request: Request, now: datetime) -> list[Response]:
        """:meth:`handle` in one of the commands' threads, so an adapter's event loop never waits on the database."""
        context = contextvars.copy_context()  # as asyncio.to_thread does
        return await asyncio.get_running_loop().run_in_executor(self.threads, context.run, self.handle, request, now)

    def handle(self, request: Request, now: datetime) -> list[Response]:
        """Carry out one thing a person did.

        Returns:
            The responses for the person (a reply, a form, a file); deliveries went to the
            outbox. A request whose id was handled before returns nothing and changes nothing.
        """
        # A display name is the platform's, but people choose it: it is stored and shown, so it is cleaned too.
        name = clean(request.actor.name[:DISPLAY_NAME_LIMIT]).strip() or request.actor.user.id
        actor = replace(request.actor, name=name)
        request = replace(request, actor=actor)
        with metrics.command(actor.user.platform) as seen:
            try:
                command, pinned = command_of_input(request)
                seen.kind = metrics.kind_of(command)
                for attempt in range(RETRIES):
                    try:
                        # One transaction: run again whole if the server dropped the connection under it.
                        return on_a_live_connection(lambda: self._run(request, command, pinned, now),
                                                    f"handling a {seen.kind} command")
                    except StaleCircle:
                        log.info("circle changed meanwhile; retrying (%d)", attempt + 1)
                raise CircleError(_("The circle is busy right now; please try again in a moment."))
            except CircleError as error:
                seen.outcome = "refused"
                return [Reply(actor.user, error_message(error))]
            except SQLAlchemyError as error:  # its transaction rolled back: nothing changed, nothing queued
                seen.outcome = "failed"
                log.error("a %s command from %s failed: the database did not carry it out (%s)", seen.kind,
                          actor.user.platform, error.__class__.__name__)
                return [Reply(actor.user, unavailable_message())]

    async def areader_locale(self, actor: Actor) -> str:
        """:meth:`reader_locale` in a worker thread. Adapters ask it after a request is handled, so
        ``/circle me language es`` is answered in Spanish."""
        return await asyncio.to_thread(self.reader_locale, actor)

    def reader_locale(self, actor: Actor) -> str:
        """The language to show ``actor`` their responses in: their own choice, the platform's, else the bot's.

        When the database does not answer, the platform's (the answer, "try again later", still reaches them).
        """
        try:
            with self.store.transaction() as tx:
                person = tx.person(actor.user)
        except SQLAlchemyError as error:
            log.warning("%s's language not read: the database did not answer (%s)", actor.user.platform,
                        error.__class__.__name__)
            person = None
        return (person.locale if person else None) or actor.locale or (person.platform_locale if person else None) \
            or self.locale

    def calendar_feed(self, token: str, now: datetime) -> str | None:
        """The calendar behind a private address, as iCalendar text; ``None`` (nothing to show) when the token
        was never given or was replaced, or its member has left the circle. Changes nothing."""
        with self.store.transaction() as tx:
            feed = tx.calendar_feed(token)
            circle = tx.load(feed.circle_id) if feed else None
            member = next((m for m in circle.members if m.user.key == feed.user_key), None) if circle else None
            if member is None:
                return None
            person = tx.person(member.user)
        tz = (person.tz if person else None) or member.tz or circle.tz
        locale = (person.locale or person.platform_locale if person else None) or circle.locale or self.locale
        try:
            kit = self._kit(circle, locale)
        except CircleError:
            return None
        return calendar_ics(circle, kit, tz, locale, now)

    def _run(self, request: Request, command: c.Command, pinned: str | None, now: datetime) -> list[Response]:
        with self.store.transaction() as tx:
            if not tx.first_time(request_key(request), now):
                log.info("request %s seen before; ignored", request.request_id)
                return []
            actor, person = request.actor, tx.person(request.actor.user)
            platform_locale = spoken(actor.locale)
            if platform_locale and (person is None or person.platform_locale != platform_locale):
                # Kept for the DMs the clock sends them later, when no request says their language.
                tx.set_person(actor.user, platform_locale=platform_locale)
            if isinstance(request.input, (Typed, ReportedMessage)) and actor.is_admin != bool(person and person.is_admin):
                # Kept for reports, which reach the workspace's admins. Only where the platform always says:
                # a button pressed in a DM (Discord) tells no guild, so no admin flag.
                tx.set_person(actor.user, is_admin=actor.is_admin)
            if person is not None:  # what they set themselves wins over what the platform says
                actor = replace(actor, tz=person.tz or actor.tz, locale=person.locale or actor.locale,
                                dms_refused=person.dms_refused)
            responses = self._dispatch(tx, actor, command, now, pinned, request.channel, request.home)
            if actor.tz is None and not (person and person.tz_asked) and not isinstance(command, c.Me):
                # The platform tells no zone (Discord): ask once, and never again.
                tx.set_person(actor.user, tz_asked=True)
                responses.append(Reply(actor.user, zone_question()))
        if isinstance(command, c.Match):  # an admin's, and new: its groups are stored one transaction each
            user = actor.user
            responses.insert(0, Reply(user, self.matchmaker.run(self.store, user.platform, user.workspace, now)))
        return responses

    def _dispatch(
        self, tx: Transaction, actor: Actor, command: c.Command, now: datetime, pinned: str | None, channel: str | None,
        home: str | None = None,
    ) -> list[Response]:
        if isinstance(command, c.Help):
            return [Reply(actor.user, help_message())]
        user = actor.user
        if isinstance(command, c.Me):
            return self._me(tx, actor, command)
        if isinstance(command, c.ListCircles):
            return [Reply(user, self._list(tx, actor, command, now))]
        if isinstance(command, c.Stats):
            require_admin(actor)
            return [Reply(user, stats_message(workspace_stats(tx.tally(user.platform, user.workspace))))]
        if isinstance(command, c.Export):
            signup = self.matchmaker.exported(tx, user)
            return [privacy.export_file(tx.load_many(tx.involved_circle_ids(user)), user, now, signup)]
        if isinstance(command, c.ForgetMe):
            return self._forget(tx, actor, command, now)
        if isinstance(command, POOL_COMMANDS):
            return self.matchmaker.command(tx, actor, command, now)
        if isinstance(command, c.Report) and command.link and not (channel and tx.circle_of_space(user.platform, channel)):
            # A reported message is about the circle whose space it is in, never one guessed for it.
            raise CircleError(_("That message is not in a circle's space; only messages in a circle can be reported."))
        if isinstance(command, c.NewCircle):
            taken = tx.handles(user.platform, user.workspace, slug(command.name))
            # The new circle speaks its creator's language, its welcome included.
            kits = {kit_id: kit.translated(actor.locale or self.locale) for kit_id, kit in self.kits.items()}
            return self._apply(tx, None, create_circle(command, actor, now, kits, taken), now, home=home)
        try:
            circle = self._resolve(tx, actor, command, pinned, channel)
        except CircleError:
            # Someone waiting in the pool may ask about the kit they signed up for.
            row = tx.signup(user) if isinstance(command, c.Faq) else None
            if row is None or row.kit not in self.kits:
                raise
            reader = actor.locale or self.locale
            return [Reply(user, faq_message(self.kits[row.kit].translated(reader), command.words, language(reader)))]
        if isinstance(command, c.Again):
            return self._again(tx, circle, command, actor, now, home)
        if isinstance(command, c.Report):
            command = replace(command, admins=tuple(tx.admins(user.platform, user.workspace)))
        if isinstance(command, c.Merge) and not command.other:
            command = replace(command, candidates=tuple(tx.merge_candidates(circle, LIST_PAGE)))
        elif isinstance(command, (c.Merge, c.AnswerMerge)):
            # Only the circle an answer changes is locked: asking merely reads the other one.
            other = tx.find(user.platform, user.workspace, command.other.lower().lstrip("#"),
                            lock=isinstance(command, c.AnswerMerge))
            if other is None:
                raise no_such_circle(command.other)
            command = replace(command, found=other)
        if isinstance(command, c.Calendar):
            command, actor = self._calendar(tx, circle, command, actor, now)
        if isinstance(command, c.UseSpace) and tx.circle_of_space(user.platform, command.channel) not in (None, circle.id):
            raise CircleError(_("That channel is already another circle's space; name another one."))
        # An answer only the person reads is in their language, kit text too; anything the circle sees is in its own.
        reader = actor.locale if isinstance(command, ANSWERED_PRIVATELY) else None
        decision = handle(circle, command, actor, now, self._kit(circle, reader))
        if isinstance(command, c.AnswerMerge) and command.found is not None:
            # The small circle's side: its members are invited here and it closes, or it goes on as it was.
            self._apply(tx, command.found, merge_answered(command.found, decision.circle, command.yes, now), now)
        return self._apply(tx, circle, decision, now)

    def _list(self, tx: Transaction, actor: Actor, command: c.ListCircles, now: datetime) -> Message:
        """A page of the directory; the first one also shows the person's own circles."""
        user, first = actor.user, command.after is None
        search = directory.search(command, actor.tz, now, self.kits, self.locale)
        shown: list[directory.Entry] = []
        # Storage finds a little more than the filters let through (see bot/directory.py): fill the page up.
        for _ in range(FILL_ROUNDS):
            found, search = tx.directory(user, search, LIST_PAGE - len(shown))
            shown += directory.entries(found, command, actor.tz, now, self.kits, self.locale)
            if search.after is None or len(shown) == LIST_PAGE:
                break
        mine = tx.load_many(tx.circle_ids_of(user, closed=True)) if first else []
        # Unfiltered, the running count says how many more there are without counting them.
        more = tx.joinable_count(user) - len(shown) if first and not directory.filtered(command) else None
        return list_message(command, mine, shown, more, search.after, self.kits, actor.tz, now, self.locale)

    def _calendar(
        self, tx: Transaction, circle: Circle, command: c.Calendar, actor: Actor, now: datetime
    ) -> tuple[c.Calendar, Actor]:
        """The member's private calendar address, when the bot has a public URL, and their language for the file."""
        feed = None
        if self.public_url and circle.member(actor.user):
            token = tx.calendar_token(circle.id, actor.user, now, reset=command.reset)
            feed = f"{self.public_url.rstrip('/')}/calendar/{token}.ics"
        return replace(command, feed=feed), replace(actor, locale=actor.locale or circle.locale or self.locale)

    def _again(
        self, tx: Transaction, old: Circle, command: c.Again, actor: Actor, now: datetime, home: str | None
    ) -> list[Response]:
        taken = tx.handles(old.platform, old.workspace, slug(old.name))
        announced, formed = form_again(old, command, actor, now, self.kits, taken)
        self._apply(tx, old, announced, now)
        return self._apply(tx, None, formed, now, home=home)

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
        tx.forget_person(user)
        tx.drop_signups([user.key])
        log.info("forgot a person: %d circles, %d outbox rows", len(circles), erased)
        return [Reply(user, privacy.forgotten_message(len(circles)))]

    def _apply(
        self, tx: Transaction, before: Circle | None, decision: Decision, now: datetime, *, from_clock: bool = False,
        home: str | None = None,
    ) -> list[Response]:
        """Save and queue ``decision``; ``home``: where a new circle's space opens (see :attr:`Request.home`)."""
        apply_decision(tx, before, decision, now, self.locale)
        if home:
            tx.keep_home(decision.circle.id, home)
        for told in (e for e in decision.effects if isinstance(e, ToldOfClosedDms)):
            tx.set_person(told.user, dms_refused=False)  # said once per refusal
        # A tick runs inside the scheduler, which re-arms itself; a command must tell it.
        if self.on_change and not from_clock and any(isinstance(e, SCHEDULING_TYPES) for e in decision.effects):
            tx.after_commit.append(self.on_change)
        return [e for e in decision.effects if isinstance(e, RESPONSE_TYPES)]

    def _me(self, tx: Transaction, actor: Actor, command: c.Me) -> list[Response]:
        """Show or set the person's own zone and language; their circles read times in the new zone at once."""
        if command.tz or command.locale:
            tx.set_person(actor.user, tz=command.tz, locale=command.locale)
            actor = replace(actor, tz=command.tz or actor.tz, locale=command.locale or actor.locale)
            if command.tz:
                for circle in tx.load_many(tx.circle_ids_of(actor.user), lock=True):
                    member = circle.member(actor.user)
                    moved = circle.with_member(replace(member, tz=command.tz))
                    tx.save(replace(moved, revision=circle.revision + 1), previous_revision=circle.revision,
                            members_changed=False)
        return [Reply(actor.user, person_message(actor, changed=bool(command.tz or command.locale)))]

    def _kit(self, circle: Circle, reader: str | None = None) -> Kit:
        """The circle's kit in the language of ``reader`` (a language code), else in the circle's."""
        kit = self.kits.get(circle.kit_id)
        if kit is None:
            raise CircleError(_("This circle's kit \u201c{kit}\u201d is not installed here; ask an admin.", kit=circle.kit_id))
        return kit.translated(reader or circle.locale or self.locale)

    def _resolve(
        self, tx: Transaction, actor: Actor, command: c.CircleCommand, pinned: str | None, channel: str | None
    ) -> Circle:
        """The circle a command is about: a button's, named, the space it was typed in, or the actor's only one."""
        user = actor.user
        if pinned:
            circle = tx.load(pinned, lock=True)
            # A button from another workspace, or one for a circle since erased, reaches nothing.
            if circle is None or (circle.platform, circle.workspace) != (user.platform, user.workspace):
                raise CircleError(_("That button belongs to a circle that is not here any more."))
            return circle
        if command.circle:
            circle = tx.find(user.platform, user.workspace, command.circle.lower().lstrip("#"), lock=True)
            if circle is None:
                raise no_such_circle(command.circle)
            return circle
        where = tx.circle_of_space(user.platform, channel) if channel else None
        if where:
            circle = tx.load(where, lock=True)
            if circle is None or (circle.platform, circle.workspace) != (user.platform, user.workspace):
                raise CircleError(_("This space belongs to no circle here. See {command}.", command=hint("list")))
            return circle
        if isinstance(command, c.Join):
            raise CircleError(_("Which circle? {usage}. See {command} for open ones.", usage=hint("join", "<circle>"), command=hint("list")))
        # A circle still running is meant before a closed one; a closed one still answers `info`.
        mine = tx.circle_ids_of(actor.user) or tx.circle_ids_of(actor.user, closed=True)
        if len(mine) == 1:
            circle = tx.load(mine[0], lock=True)
            assert circle is not None
            return circle
        if not mine:
            raise CircleError(
                _("You are not in a circle yet. Join one ({list}) or form your own ({new}).", list=hint("list"), new=hint("new"))
            )
        handles = sorted(circle.handle for circle in tx.load_many(mine))
        raise CircleError(_("You are in several circles; name one, e.g. #{first}. Yours: {ids}.", first=handles[0], ids=join([f"#{h}" for h in handles])))


def no_such_circle(name: str) -> CircleError:
    return CircleError(_("There is no circle \u201c{name}\u201d here. See {command}.", name=name, command=hint("list")))


def request_key(request: Request) -> str:
    """A request's id, unique across platforms and workspaces."""
    user = request.actor.user
    return f"{user.platform}:{user.workspace}:{request.request_id}"


def apply_decision(tx: Transaction, before: Circle | None, decision: Decision, now: datetime, locale: str) -> None:
    """Save the circle as the decision left it and queue its deliveries, each for its reader's language and zone.

    Posts are in the circle's language; a DM is in its recipient's (their own choice, else the
    language their platform last reported), else the circle's;
    ``locale`` (the bot's default) stands in for a circle that has none.
    """
    after = decision.circle
    if before is None or after.revision != before.revision:
        members_changed = before is None or [m.user for m in before.members] != [m.user for m in after.members]
        tx.save(after, previous_revision=before.revision if before else None, members_changed=members_changed)
    deliveries = [e for e in decision.effects if isinstance(e, DELIVERY_TYPES)]
    if not deliveries:
        return
    people = tx.people([e.to for e in deliveries if isinstance(e, DirectMessage)])
    circle_locale = after.locale or locale

    def reader(effect: Delivery) -> tuple[str, str]:
        if not isinstance(effect, DirectMessage):
            return circle_locale, after.tz
        person = people.get(effect.to.key)
        tz = (person.tz if person else None) or person_tz(after, effect.to)
        return (person.locale or person.platform_locale if person else None) or circle_locale, tz

    tx.enqueue(deliveries, now, platform=after.platform, reader=reader)
