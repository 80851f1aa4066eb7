"""Discord: the client, the interaction router and the deliveries, on discord.py's ``AutoShardedClient``.

Every interaction arrives in :meth:`CircleClient.on_interaction`, whichever
process or shard opened the button or form it comes from: buttons carry the
core's encoded action as ``custom_id`` and modals their form's action, so a
button on a ten-week-old post works after any number of restarts, and a modal
submission discord.py did not open itself (it would drop it) is routed the
same way. Each is answered within Discord's 3 s: deferred at once, with the
core's answer following up (well within the token's 15 minutes); only a
``checkin`` that may open a form (a modal can only be the first answer) gives
the core :data:`ANSWER_WITHIN` first.

:class:`DiscordDeliveries` carries out the outbox's deliveries: posts and
replies in the circle's private thread, DMs, the thread and its members, the
community channel. Each message carries a nonce derived from its outbox key with
``enforce_nonce``, so a resend after a crash returns the earlier message.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import zoneinfo
from collections.abc import Callable
from datetime import datetime

import discord
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

from adapters.contract import DeliveryFailed, Outgoing, Receipt
from adapters.discord import rest
from adapters.discord.commands import WEEKDAYS, definition, definition_hash
from adapters.discord.deliveries import DiscordDeliveries, platform_trace
from adapters.discord.forms import PagedForms, page_of
from adapters.discord.render import EPHEMERAL, Attachment, Post, form_button, modal, next_page, posts
from adapters.discord.translate import (AUTOCOMPLETE, COMMAND, COMPONENT, MODAL_SUBMIT, PLATFORM, answers,
                                        command_input, focused, language, may_open_form)
from bot import effects as fx
from bot.actions import decode_action, encode_action
from bot.circle import Actor, UserRef
from bot.errors import CircleError
from bot.inputs import Input, Pressed, Request, Submitted, Typed
from circlebot import metrics
from circlebot.config import Settings
from circlebot.service import CommandService
from circlebot.wiring import Wiring
from scheduler.clock import Clock
from storage.repository import Store

log = logging.getLogger(__name__)

#: How long the core may take to decide whether a form opens, before the interaction is deferred (Discord allows 3 s).
ANSWER_WITHIN = 1.5
#: Discord forgets an interaction not answered within this many seconds.
ANSWER_DEADLINE = 3.0
#: Discord's code for a second answer to one interaction: the first one was taken.
ALREADY_ANSWERED = 40060
CHOICES = 25  # Discord: autocomplete choices
CORE_AT_ONCE = 2  # requests in the core at the same time
ZONES = sorted(zoneinfo.available_timezones())
#: What the bot needs in a server: view channels, send messages (also in threads), create private threads,
#: manage threads (to remove a member), embed links, attach files, read message history.
PERMISSIONS = (1 << 10) | (1 << 11) | (1 << 38) | (1 << 36) | (1 << 34) | (1 << 14) | (1 << 15) | (1 << 16)
DEFERRED, MESSAGE, CHOICES_RESPONSE, MODAL = 5, 4, 8, 9
FORMING = ("new", "again")  # subcommands that form a circle, whose thread opens where they were typed


def point_at(api_url: str | None, gateway_url: str | None) -> None:
    """Send REST and gateway traffic elsewhere (a local fake); discord.py builds every URL from these two."""
    if api_url:
        Route.BASE = api_url.rstrip("/")
    if gateway_url:
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


def invite_url(application_id: int) -> str:
    return (f"https://discord.com/oauth2/authorize?client_id={application_id}"
            f"&scope=bot+applications.commands&permissions={PERMISSIONS}")


class CircleClient(discord.AutoShardedClient):
    """The bot: routes every interaction to the core and answers within Discord's deadlines.

    Args:
        commands: the core behind a service (``ahandle`` runs in a thread).
        kit_ids: the installed kits, offered when a kit is typed.
        lookups: a person's circles and the guild's (for autocomplete), a circle's guild (for a click in a DM).
        now: the clock.
    """

    def __init__(self, commands: CommandService, kit_ids: list[str], lookups: Lookups, now: Callable[[], datetime],
                 channel_id: int | None = None, **options):
        super().__init__(intents=discord.Intents(guilds=True), max_ratelimit_timeout=30, **options)
        self.commands = commands
        self.kit_ids = kit_ids
        self.lookups = lookups
        self.now = now
        self.channel_id = channel_id
        self.forms = PagedForms(lookups.store, now)
        self.working = asyncio.Semaphore(CORE_AT_ONCE)

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        kind = interaction.type.value
        try:
            if kind == AUTOCOMPLETE:
                await self._autocomplete(interaction)
            elif kind in (COMMAND, COMPONENT, MODAL_SUBMIT):
                given = await self._input(interaction)
                if given is None:
                    return  # a page of a longer form, answered with the next one
                forming = isinstance(given, Typed) and given.text.split()[0] in FORMING
                request = Request(await self._actor(interaction, given), given, request_id=str(interaction.id),
                                  channel=str(interaction.channel_id) if interaction.channel_id else None,
                                  home=formed_in(interaction) if forming else None)
                await self._run(interaction, request)
        except discord.HTTPException as error:
            log.warning("interaction %s: Discord refused the answer (%s %s)", interaction.id, error.status, error.code)

    async def _input(self, interaction: discord.Interaction) -> Input | None:
        data: dict = interaction.data or {}  # type: ignore[assignment]
        if interaction.type.value == COMMAND:
            return command_input(data, str(interaction.guild_id) if interaction.guild_id else None)
        page = page_of(data["custom_id"])
        if page is None:
            return Pressed(data["custom_id"]) if interaction.type.value == COMPONENT else \
                Submitted(data["custom_id"], answers(data))
        # Held under the person as the core knows them (a DM's click names the circle's guild): forget-me finds it.
        user, locale = (await self._actor(interaction, Pressed(page.action))).user.key, interaction.locale.value
        if interaction.type.value == COMPONENT:
            form = await asyncio.to_thread(self.forms.form, user, page)
            if form is None:
                return Pressed(page.action)  # dropped (stale, or forget-me): the core answers as for the form's action
            await rest.respond(self.http, str(interaction.id), interaction.token, MODAL,
                               modal(form, locale, data["custom_id"], page.number))
            return None
        so_far = await asyncio.to_thread(self.forms.submit, user, page, answers(data))
        if so_far is None:
            # Not a whole form's answers: the core offers the form afresh, never takes one page for all of it.
            return Pressed(page.action)
        if isinstance(so_far, str):
            pages = await asyncio.to_thread(self.forms.pages, user, page)
            await rest.respond(self.http, str(interaction.id), interaction.token, MESSAGE,
                               next_page(so_far, page.number + 1, pages))
            return None
        return Submitted(page.action, so_far)

    async def _actor(self, interaction: discord.Interaction, given: Input) -> Actor:
        workspace = str(interaction.guild_id) if interaction.guild_id else None
        if workspace is None and isinstance(given, (Pressed, Submitted)):
            # A DM names no guild; the circle the button belongs to does.
            try:
                circle = decode_action(given.action).circle_id
            except CircleError:
                circle = ""
            user = str(interaction.user.id)
            workspace = await asyncio.to_thread(self.lookups.workspace_of, circle, user) if circle else None
        permissions = interaction.permissions
        return Actor(UserRef(PLATFORM, workspace or "", str(interaction.user.id)), interaction.user.display_name,
                     None, bool(interaction.guild_id) and (permissions.manage_guild or permissions.administrator),
                     locale=language(interaction.locale.value))

    async def _run(self, interaction: discord.Interaction, request: Request) -> None:
        """Defer at once and follow up; only what may open a form waits for the core (a form opens only first)."""
        now = self.now()
        if may_open_form(request.input):
            work = asyncio.ensure_future(self._core(request, now))
            done, _pending = await asyncio.wait({work}, timeout=ANSWER_WITHIN)
            if work in done:
                await self._answer(interaction, work.result(), await self.commands.areader_locale(request.actor))
                return
            await self._defer(interaction)
            responses = await work
        else:
            # Answered before the core starts: its threads compete with the event loop for the interpreter.
            await self._defer(interaction)
            responses = await self._core(request, now)
        await self._follow(interaction, responses, await self.commands.areader_locale(request.actor))

    async def _defer(self, interaction: discord.Interaction) -> None:
        """Say "thinking"; when Discord's answer leaves it unknown whether it heard, the work goes on all the same.

        Discord may take the deferral and fail to say so (a 5xx, whose retry then hears "already
        acknowledged"; an answer that is not JSON; none within the 3 s an answer has): dropping the
        command then would lose it. Its answer follows up, or goes to the person's DMs.
        """
        try:
            await asyncio.wait_for(rest.respond(self.http, str(interaction.id), interaction.token, DEFERRED,
                                                {"flags": EPHEMERAL}), ANSWER_DEADLINE)
        except discord.HTTPException as error:  # (its 5xx answers are counted by the client's trace)
            if error.status < 500 and error.code != ALREADY_ANSWERED:
                raise
            log.warning("interaction %s: Discord's answer to the deferral was %s %s; going on", interaction.id,
                        error.status, error.code)
        except (json.JSONDecodeError, TimeoutError) as error:
            metrics.platform_error(PLATFORM, "timeout" if isinstance(error, TimeoutError) else "unreadable")
            log.warning("interaction %s: Discord's answer to the deferral was %s; going on", interaction.id,
                        type(error).__name__)

    async def _core(self, request: Request, now: datetime) -> list:
        """The core's answer, a few at a time: more threads would only slow the event loop that keeps the deadlines."""
        async with self.working:
            return await self.commands.ahandle(request, now)

    async def _answer(self, interaction: discord.Interaction, responses: list, locale: str) -> None:
        """The first answer, within 3 s: the form if there is one (it can open only now), else the first reply."""
        form = next((r for r in responses if isinstance(r, fx.OpenForm)), None)
        if form is None:
            first, *more = await self._private(responses, locale) or [Post({"content": "\u2713", "flags": EPHEMERAL})]
            await rest.respond(self.http, str(interaction.id), interaction.token, MESSAGE, first.payload,
                               first.attachment)
        else:
            custom_id = await asyncio.to_thread(self.forms.open, form.to.key, form, encode_action(form.action))
            await rest.respond(self.http, str(interaction.id), interaction.token, MODAL, modal(form, locale, custom_id))
            more = await self._private([r for r in responses if r is not form], locale)
        for post in more:
            await rest.follow_up(self.http, str(interaction.application_id), interaction.token, post)

    async def _follow(self, interaction: discord.Interaction, responses: list, locale: str) -> None:
        """The answer after a deferral; past the token's 15 minutes (Discord refuses it), in the person's DMs."""
        done = Post({"content": "\u2713", "flags": EPHEMERAL})
        shown = await self._private(responses, locale, form_as_button=True) or [done]
        for index, post in enumerate(shown):
            try:
                await rest.follow_up(self.http, str(interaction.application_id), interaction.token, post)
            except discord.HTTPException as refused:
                if refused.status not in (401, 404):
                    raise
                log.warning("interaction %s: its token expired; the answer goes to a DM", interaction.id)
                await self._dm(str(interaction.user.id), shown[index:])
                return

    async def _private(self, responses: list, locale: str, form_as_button: bool = False) -> list[Post]:
        """What only the actor sees, as ephemeral posts; what should stay (a direct reply, a file) goes to their DMs.

        If their DMs are closed, it is shown here instead, so nothing is lost.
        """
        result: list[Post] = []
        for response in responses:
            if isinstance(response, fx.Reply):
                shown = posts(response.message, locale, ephemeral=True)
            elif isinstance(response, fx.SendFile):
                content = response.content.encode() if isinstance(response.content, str) else response.content
                note = fx.Message((response.note or response.filename,))
                (*before, last) = posts(note, locale, ephemeral=True)
                shown = [*before, Post(last.payload, Attachment(response.filename, content))]
            elif isinstance(response, fx.OpenForm) and form_as_button:
                # A form opens only as an interaction's first answer; after a deferral, a button opens it.
                custom_id = await asyncio.to_thread(self.forms.hold, response.to.key, response,
                                                    encode_action(response.action))
                result.append(Post(form_button(response, locale, custom_id)))
                continue
            else:
                continue
            if response.visibility == fx.Visibility.DIRECT and await self._dm(response.to.id, shown):
                shown = [Post({"content": "\U0001f4ec", "flags": EPHEMERAL})]  # 📬: it is in your DMs
            result += shown
        return result

    async def _dm(self, user: str, shown: list[Post]) -> bool:
        """Send ``shown`` to ``user``'s DMs (as lasting messages); False when Discord refuses (DMs closed)."""
        try:
            channel = await rest.open_dm(self.http, user)
            for post in shown:
                payload = {k: v for k, v in post.payload.items() if k != "flags"}
                await rest.send_message(self.http, channel, Post(payload, post.attachment))
        except discord.Forbidden:
            return False
        return True

    async def _autocomplete(self, interaction: discord.Interaction) -> None:
        sub, option, typed = focused(interaction.data or {})  # type: ignore[arg-type]
        typed = typed.strip().lower()
        if option == "kit":
            found = [k for k in self.kit_ids if typed in k]
        elif option == "timezone":
            found = [z for z in ZONES if typed in z.lower()]
        elif option == "circle" and sub == "join" and interaction.guild_id:
            found = await asyncio.to_thread(self.lookups.open_circles, str(interaction.guild_id), typed.lstrip("#"))
        elif option == "circle":
            user = UserRef(PLATFORM, str(interaction.guild_id or ""), str(interaction.user.id))
            found = [c for c in await asyncio.to_thread(self.lookups.my_circles, user) if typed.lstrip("#") in c]
        elif option == "day":
            found = [d for d in WEEKDAYS if d.startswith(typed)]
        else:
            found = []
        choices = [{"name": value[:100], "value": value[:100]} for value in found[:CHOICES]]
        await rest.respond(self.http, str(interaction.id), interaction.token, CHOICES_RESPONSE, {"choices": choices})


    # ------------------------------------------------------------ where circles live

    def home_channel(self, circle_id: str) -> str | None:
        """Where a circle's thread opens: the configured channel, or the one it was formed in (kept with the circle).

        None: the deliveries fall back to the server's first text channel. Reads the database: call it in a thread.
        """
        if self.channel_id:
            return str(self.channel_id)
        return self.lookups.store.home_of(circle_id)


def formed_in(interaction: discord.Interaction) -> str | None:
    """The text channel a ``/circle new`` or ``again`` was typed in (a thread's parent): the new thread opens there."""
    parent = getattr(interaction.channel, "parent_id", None) or interaction.channel_id
    return str(parent) if interaction.guild_id and parent else None


def synced_key(guild: int) -> str:
    return f"discord:commands-synced:{guild}"


async def sync_commands(client: discord.Client, guild: int | None) -> None:
    """Put /circle's definition on Discord: globally, or in one guild (at once, for development)."""
    await rest.put_commands(client.http, str(client.application_id), definition(), str(guild) if guild else None)


async def sync_if_changed(client: discord.Client, guild: int, store: Store) -> bool:
    """Sync to the development guild only when the definition changed since the last sync (200 creates a day).

    The last sync's hash is kept in the database: replicas on one database agree, and a new container does not resync.
    """
    current = definition_hash()
    if await asyncio.to_thread(store.kept_value, synced_key(guild)) == current:
        return False
    await sync_commands(client, guild)
    await asyncio.to_thread(store.keep_value, synced_key(guild), current)
    return True


def sync_now(settings: Settings, guild: int | None) -> int:
    """``circlebot discord sync [--guild ID]``: log in over REST only, put the definition, exit."""
    if settings.discord_token is None:
        print("set DISCORD_TOKEN first", file=sys.stderr)
        return 2
    point_at(settings.discord_api_url, settings.discord_gateway_url)

    async def run() -> None:
        client = discord.Client(intents=discord.Intents.none())
        async with client:
            await client.login(settings.discord_token.get_secret_value())
            await sync_commands(client, guild)
            where = f"guild {guild}" if guild else "every server (global commands can take up to an hour to show)"
            print(f"/{definition()[0]['name']} synced to {where}")

    asyncio.run(run())
    return 0


class Lookups:
    """The few reads the router makes outside the core: a person's circles, open circles, a circle's guild."""

    def __init__(self, store: Store):
        self.store = store

    def my_circles(self, user: UserRef) -> list[str]:
        """The handles of ``user``'s circles (a person is in a few)."""
        with self.store.transaction() as tx:
            return sorted(c.handle for c in tx.load_many(tx.circle_ids_of(user)))

    def open_circles(self, guild: str, prefix: str) -> list[str]:
        """Handles in ``guild`` starting with ``prefix``, from the handle index (no circle is read)."""
        with self.store.transaction() as tx:
            return sorted(tx.handles(PLATFORM, guild, prefix))[:CHOICES]

    def workspace_of(self, circle_id: str, user: str) -> str | None:
        """The guild a click in a DM acts in: the circle's, if ``user`` is or was in a circle of that guild.

        A DM names no guild, so the circle's is taken, but only for someone that guild's circles know
        (an invitation to a new run goes to the members of the last): a forged button naming another
        server's circle reaches nothing.
        """
        with self.store.transaction() as tx:
            circle = tx.load(circle_id)
            if circle is None or circle.platform != PLATFORM:
                return None
            known = tx.involved_circle_ids(UserRef(PLATFORM, circle.workspace, user))
        return circle.workspace if known else None


LOGIN_WAIT = 60.0  # seconds a delivery waits for the bot to log in before it is retried later


NEEDED = "Discord: DISCORD_TOKEN (the bot token from the Developer Portal)."


def discord_configured(settings: Settings) -> bool:
    return settings.discord_token is not None


def discord_settings_problem(settings: Settings) -> str | None:
    """Why Discord cannot start with ``settings``; None when it can (or when it is not configured at all)."""
    if (settings.discord_shard_ids is None) != (settings.discord_shard_count is None):
        return "CIRCLEBOT_DISCORD_SHARD_IDS and CIRCLEBOT_DISCORD_SHARD_COUNT go together."
    if settings.discord_shard_ids and max(settings.discord_shard_ids) >= (settings.discord_shard_count or 0):
        return "Every id in CIRCLEBOT_DISCORD_SHARD_IDS must be below CIRCLEBOT_DISCORD_SHARD_COUNT."
    return None


class DiscordAdapter:
    """The Discord side of ``circlebot run``: the bot (:meth:`run`) and the adapter contract's ``deliver``.

    Deliveries wait until the bot has logged in (REST works from then on,
    whatever the gateway is doing).
    """

    platform = PLATFORM

    def __init__(self, settings: Settings, wiring: Wiring, now: Callable[[], datetime]):
        if settings.discord_token is None:
            raise ValueError("DISCORD_TOKEN is not set")
        point_at(settings.discord_api_url, settings.discord_gateway_url)
        self.settings = settings
        self.client = CircleClient(wiring.commands, sorted(wiring.kits), Lookups(wiring.store), now,
                                   channel_id=settings.discord_channel_id, shard_ids=settings.discord_shard_ids,
                                   shard_count=settings.discord_shard_count, http_trace=platform_trace())
        community = settings.discord_community_channel_id
        self.deliveries = DiscordDeliveries(self.client.http, self.client.home_channel,
                                            str(community) if community else None)
        self.logged_in = asyncio.Event()
        self.task: asyncio.Task | None = None

    @property
    def adapter(self) -> DiscordAdapter:
        return self

    async def deliver(self, outgoing: Outgoing) -> Receipt | None:
        try:
            await asyncio.wait_for(self.logged_in.wait(), LOGIN_WAIT)
        except TimeoutError:
            raise DeliveryFailed("the Discord bot has not logged in yet") from None
        return await self.deliveries.deliver(outgoing)

    async def connected(self) -> bool:
        """Logged in, and the gateway is up (``/healthz``)."""
        return self.client.is_ready() and not self.client.is_closed()

    async def stop(self) -> None:
        await self.client.close()
        if self.task is not None:
            await asyncio.gather(self.task, return_exceptions=True)

    async def run(self) -> None:
        """Log in, print the invite URL, sync to the development guild if /circle changed, and serve until cancelled."""
        assert self.settings.discord_token is not None
        async with self.client:
            await self.client.login(self.settings.discord_token.get_secret_value())
            self.logged_in.set()
            print(f"Invite Circlebot to a Discord server: {invite_url(self.client.application_id)}", flush=True)
            guild = self.settings.discord_guild_id
            if guild and await sync_if_changed(self.client, guild, self.client.lookups.store):
                log.info("/circle synced to guild %s", guild)
            await self.client.connect()


async def start(settings: Settings, wiring: Wiring, clock: Clock) -> DiscordAdapter:
    """Discord for ``circlebot run``: the bot on the wiring's command service, running in a task."""
    discord_side = DiscordAdapter(settings, wiring, clock.now)

    def ended(task: asyncio.Task) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("the Discord bot stopped: %r", task.exception())

    discord_side.task = asyncio.create_task(discord_side.run())
    discord_side.task.add_done_callback(ended)
    return discord_side
