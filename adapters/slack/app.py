"""The Slack adapter's wiring: a slack-bolt ``AsyncApp`` in front of the command service.

* ``/circle``, buttons and form submissions become core requests
  (:mod:`adapters.slack.translate`). Each is acknowledged first, before any
  work, so Slack hears back within its 3 seconds whatever the database does;
  the answers follow, ephemeral, through ``response_url`` (a submitted form
  turns into its answer). A form opens with the click's ``trigger_id`` as soon
  as the core asks for it.
* The person's time zone and language come from ``users.info`` (cached).
* ``app_home_opened`` publishes the App Home tab; ``app_uninstalled`` and
  ``tokens_revoked`` delete the workspace's installation, which stops its deliveries.
* HTTP mode serves ``POST /slack/events`` (and ``/slack/install``,
  ``/slack/oauth_redirect`` with OAuth); Socket Mode when an app token is set.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

import aiohttp
import yaml
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from adapters.contract import DeliveryFailed
from adapters.slack import render as r
from adapters.slack import translate
from adapters.slack.installations import open_stores
from adapters.slack.sender import SlackSender, Workspaces, count_trouble, error_code
from bot.actions import Action, Verb
from bot.circle import Actor, UserRef
from bot.effects import Button, Message, OpenForm, Reply, Response, SendFile, Visibility
from bot.i18n import _
from bot.inputs import Request, Typed
from bot.state import State
from circlebot.config import Settings
from circlebot.service import CommandService
from circlebot.wiring import Wiring
from scheduler.clock import Clock
from scheduler.pacing import Pacer
from storage.repository import Store

log = logging.getLogger(__name__)

MANIFEST = Path(__file__).with_name("manifest.yml")
#: How long a person's zone and language are trusted before asking Slack again.
PROFILE_TTL = 15 * 60
#: Requests the command service works on at once (see :meth:`SlackBot._handle`).
WORKERS = 2
#: Events Slack may send again (X-Slack-Retry-Num) are remembered this many at a time.
SEEN_EVENTS = 10_000
NEEDED = (
    "Slack: SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET for one workspace, or SLACK_CLIENT_ID, SLACK_CLIENT_SECRET, "
    "SLACK_SIGNING_SECRET and CIRCLEBOT_SECRET_KEY to install in many; add SLACK_APP_TOKEN for Socket Mode."
)


def bot_scopes() -> list[str]:
    """The scopes the manifest asks for: one list, used for OAuth installs too."""
    return yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))["oauth_config"]["scopes"]["bot"]


def slack_settings_problem(settings: Settings) -> str | None:
    """Why Slack cannot start with ``settings``; None when it can (or when no Slack setting is given at all)."""
    given = [settings.slack_bot_token, settings.slack_client_id, settings.slack_client_secret, settings.slack_app_token]
    if not any(given) and not settings.slack_signing_secret:
        return None
    if settings.slack_app_token and settings.slack_bot_token:
        return None  # Socket Mode: Slack's requests come over the socket, unsigned
    if not settings.slack_signing_secret:
        return "SLACK_SIGNING_SECRET is missing. " + NEEDED
    if settings.slack_bot_token:
        return None
    if settings.slack_client_id and settings.slack_client_secret:
        return None if settings.secret_key else "CIRCLEBOT_SECRET_KEY is missing (it encrypts stored tokens). " + NEEDED
    return NEEDED


def slack_configured(settings: Settings) -> bool:
    return bool(settings.slack_bot_token or settings.slack_client_id)


class People:
    """Who is who on Slack: ``users.info`` (zone, language, admin) for a person, cached for a while."""

    def __init__(self, ttl: float = PROFILE_TTL, size: int = 10_000):
        self.ttl = ttl
        self.size = size
        self._known: OrderedDict[tuple[str, str], tuple[float, dict | None]] = OrderedDict()

    async def actor(self, client: AsyncWebClient, team: str, user_id: str, fallback_name: str = "") -> Actor:
        key = (team, user_id)
        cached = self._known.get(key)
        if cached is None or time.monotonic() - cached[0] > self.ttl:
            try:
                profile = (await client.users_info(user=user_id, include_locale=True))["user"]
            except (SlackApiError, aiohttp.ClientError, asyncio.TimeoutError) as error:
                # What the request says will do this once; Slack is asked again next time.
                count_trouble(error)
                reason = error_code(error) if isinstance(error, SlackApiError) else type(error).__name__
                log.warning("users.info failed (%s); using what the request says", reason)
                return translate.actor_of(team, user_id, fallback_name, None)
            cached = (time.monotonic(), profile)
            self._known[key] = cached
            while len(self._known) > self.size:
                self._known.popitem(last=False)
        return translate.actor_of(team, user_id, fallback_name, cached[1])

    def locale_of(self, team: str, user_id: str) -> str:
        """The person's language if already known, without asking Slack (for an answer that cannot wait)."""
        cached = self._known.get((team, user_id))
        return translate.actor_of(team, user_id, "", cached[1]).locale or "en" if cached else "en"


class Seen:
    """The last few thousand event ids, so an event Slack sends again has no second effect."""

    def __init__(self, size: int = SEEN_EVENTS):
        self.size = size
        self._ids: OrderedDict[str, None] = OrderedDict()

    def first_time(self, key: str) -> bool:
        if key in self._ids:
            return False
        self._ids[key] = None
        while len(self._ids) > self.size:
            self._ids.popitem(last=False)
        return True


@dataclass
class Answer:
    """Where the answers to one request can go."""

    client: AsyncWebClient
    actor: Actor
    trigger_id: str | None = None
    response_url: str | None = None


class SlackBot:
    """Routes Slack's requests to the command service and renders what it answers.

    Args:
        commands: the command service (what people do).
        store: where circles live (a circle's workspace; a person's circles for the App Home).
        clock: the bot's clock.
        workspaces: Web API clients for deliveries.
        community_channel: where approved stories go.
        pacer: spaces the posts (about one a second per channel by default).
    """

    def __init__(self, commands: CommandService, store: Store, clock: Clock, workspaces: Workspaces,
                 community_channel: str | None = None, pacer: Pacer | None = None):
        self.commands = commands
        self.store = store
        self.clock = clock
        self.workspaces = workspaces
        self.people = People()
        self.seen = Seen()
        self.delete_installation: Callable[[str], Awaitable[None]] | None = None
        self.sender = SlackSender(workspaces, self._workspace_of, self._home_for, community_channel, pacer)
        self._workspaces_of: dict[str, str] = {}  # circle id -> Slack team; it never changes
        self._busy = 0
        self._workers = asyncio.Semaphore(WORKERS)
        self._idle = asyncio.Event()
        self._idle.set()

    def register(self, app: AsyncApp) -> None:
        app.command("/circle")(self._tracked(self.on_command))
        app.action(re.compile(".+"))(self._tracked(self.on_action))  # every button: its action says what it does
        app.view(r.FORM_CALLBACK)(self._tracked(self.on_submission))
        app.shortcut(translate.REPORT_SHORTCUT)(self._tracked(self.on_report))
        app.event("app_home_opened")(self._tracked(self.on_home_opened))
        app.event("app_uninstalled")(self._tracked(self.on_uninstalled))
        app.event("tokens_revoked")(self._tracked(self.on_uninstalled))

    def _tracked(self, listener: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
        """The listener, counted while it runs, so :meth:`idle` can wait for work that goes on after the ack."""

        async def run(ack, body, client) -> None:  # bolt passes arguments by these names
            self._busy += 1
            self._idle.clear()
            try:
                await listener(ack, body, client)
            finally:
                self._busy -= 1
                if not self._busy:
                    self._idle.set()

        return run

    async def _handle(self, request: Request, now) -> list[Response]:
        """The command service's work, a few requests at a time.

        Its threads hold the GIL while they work; if every request of a burst ran at once, the
        event loop would wait its turn to acknowledge the next ones. The database serialises
        writes anyway, so a few at a time is as fast.
        """
        async with self._workers:
            return await self.commands.ahandle(request, now)

    async def idle(self) -> None:
        """Wait until every request's work is done, answers included (tests, and a clean shutdown)."""
        await self._idle.wait()

    # --- inbound ---

    async def on_command(self, ack, body: dict, client: AsyncWebClient) -> None:
        await ack()  # first, whatever the work behind it; the answer follows through response_url
        actor = await self.people.actor(client, translate.team_of(body), body["user_id"], body.get("user_name", ""))
        responses = await self._handle(translate.from_command(body, actor), self.clock.now())
        await self._send(responses, Answer(client, actor, body.get("trigger_id"), body.get("response_url")))

    async def on_action(self, ack, body: dict, client: AsyncWebClient) -> None:
        await ack()
        actor = await self.people.actor(client, translate.team_of(body), body["user"]["id"], body["user"].get("name", ""))
        request = translate.from_action(body, actor)
        if request is None:
            return
        responses = await self._handle(request, self.clock.now())
        await self._send(responses, Answer(client, actor, body.get("trigger_id"), body.get("response_url")))

    async def on_report(self, ack, body: dict, client: AsyncWebClient) -> None:
        """A message reported with the message shortcut: answered only to the reporter, through response_url."""
        await ack()
        actor = await self.people.actor(client, translate.team_of(body), body["user"]["id"], body["user"].get("name", ""))
        responses = await self._handle(translate.from_shortcut(body, actor), self.clock.now())
        await self._send(responses, Answer(client, actor, body.get("trigger_id"), body.get("response_url")))

    async def on_submission(self, ack, body: dict, client: AsyncWebClient) -> None:
        """The form turns into "Sending…" at once, then into the answer: private, where the person is looking."""
        locale = self.people.locale_of(translate.team_of(body), body["user"]["id"])
        title = r.render(_("Circlebot"), locale)
        await ack(response_action="update", view=r.message_view([Message((_("Sending\u2026"),))], locale, title))
        actor = await self.people.actor(client, translate.team_of(body), body["user"]["id"], body["user"].get("name", ""))
        responses = await self._handle(translate.from_submission(body, actor), self.clock.now())
        shown = [x.message for x in responses if isinstance(x, Reply) and x.visibility == Visibility.EPHEMERAL]
        view = r.message_view(shown or [Message((_("Sent."),))], await self.commands.areader_locale(actor), title)
        await client.views_update(view_id=body["view"]["id"], view=view)
        await self._send([x for x in responses if not (isinstance(x, Reply) and x.visibility == Visibility.EPHEMERAL)],
                         Answer(client, actor))

    async def on_home_opened(self, ack, body: dict, client: AsyncWebClient) -> None:
        event = body["event"]
        if event.get("tab") != "home" or not self.seen.first_time(body.get("event_id", "")):
            return
        actor = await self.people.actor(client, translate.team_of(body), event["user"])
        messages = await self.home(actor, f"home:{body.get('event_id', '')}")
        locale = await self.commands.areader_locale(actor)
        await client.views_publish(user_id=actor.user.id, view=r.home_view(messages, locale))

    async def on_uninstalled(self, ack, body: dict, client: AsyncWebClient) -> None:
        team = translate.team_of(body)
        if not self.seen.first_time(body.get("event_id", "")):
            return
        log.info("Slack workspace %s uninstalled the app or revoked its tokens; its deliveries stop", team)
        self.workspaces.forget(team)
        if self.delete_installation is not None:
            await self.delete_installation(team)

    async def _send(self, responses: list[Response], answer: Answer) -> None:
        """Show the person the responses, after the acknowledgement: ephemeral replies through response_url
        (or, with no channel behind the request, as a modal), forms with the trigger id, files and
        lasting replies in their DM."""
        locale = await self.commands.areader_locale(answer.actor)
        for response in responses:
            match response:
                case OpenForm():
                    await answer.client.views_open(trigger_id=answer.trigger_id, view=r.form_view(response, locale))
                case Reply(message=message, visibility=Visibility.EPHEMERAL) if answer.response_url:
                    hook = AsyncWebhookClient(answer.response_url, session=self.workspaces.session())
                    shown = await hook.send_dict({"response_type": "ephemeral", "replace_original": False,
                                                  **r.message_payload(message, locale)})
                    if shown.status_code != 200:  # the work is done; only the answer is lost
                        log.warning("Slack did not take an answer through response_url: HTTP %d", shown.status_code)
                case Reply(message=message, visibility=Visibility.EPHEMERAL) if answer.trigger_id:
                    # A button with no channel behind it (App Home): the answer opens as a modal.
                    title = r.render(_("Circlebot"), locale)
                    await answer.client.views_open(trigger_id=answer.trigger_id,
                                                   view=r.message_view([message], locale, title))
                case Reply(message=message):
                    channel = await self._dm(answer.client, response.to)
                    await answer.client.chat_postMessage(channel=channel, **r.message_payload(message, locale))
                case SendFile(filename=filename, content=content, note=note):
                    channel = await self._dm(answer.client, response.to)
                    data = content.encode() if isinstance(content, str) else content
                    await answer.client.files_upload_v2(
                        channel=channel, filename=filename, content=data,
                        initial_comment=r.render(note, locale) if note else None,
                    )
                case _:
                    raise TypeError(f"the Slack adapter cannot answer with {type(response).__name__}")

    @staticmethod
    async def _dm(client: AsyncWebClient, user: UserRef) -> str:
        return (await client.conversations_open(users=user.id))["channel"]["id"]

    # --- App Home ---

    async def home(self, actor: Actor, request_id: str) -> list[Message]:
        """The App Home tab: the person's circles, then what each one asks of them this week, with *Check in*.

        Read through the command service like the commands a person could type (``list``,
        ``next #circle``), under ``request_id`` (the event's or the delivery's id).
        """
        now = self.clock.now()
        circles = await asyncio.to_thread(self._circles_of, actor.user)

        async def ask(n: int, text: str) -> list[Message]:
            responses = await self._handle(Request(actor, Typed(text), f"{request_id}:{n}"), now)
            return [x.message for x in responses if isinstance(x, Reply)]

        messages = await ask(0, "list")
        for n, (circle_id, handle, running) in enumerate(circles, start=1):
            for message in await ask(n, f"next #{handle}"):
                if running and not message.buttons:
                    message = replace(message, buttons=(Button(_("Check in"), Action(Verb.CHECKIN, circle_id)),))
                messages.append(message)
        return messages

    def _circles_of(self, user: UserRef) -> list[tuple[str, str, bool]]:
        """(id, handle, running) of each circle ``user`` is in."""
        with self.store.transaction() as tx:
            return [(c.id, c.handle, c.state is State.ACTIVE) for c in tx.load_many(tx.circle_ids_of(user))]

    async def _home_for(self, user: UserRef, request_id: str) -> tuple[list[Message], str]:
        client = await self.workspaces.client(user.workspace)
        actor = await self.people.actor(client, user.workspace, user.id)
        return await self.home(actor, request_id), await self.commands.areader_locale(actor)

    async def _workspace_of(self, circle_id: str) -> str:
        if circle_id not in self._workspaces_of:
            self._workspaces_of[circle_id] = await asyncio.to_thread(self._load_workspace, circle_id)
        return self._workspaces_of[circle_id]

    def _load_workspace(self, circle_id: str) -> str:
        with self.store.transaction() as tx:
            circle = tx.load(circle_id)
        if circle is None:
            raise DeliveryFailed(f"circle {circle_id} is gone", permanent=True)
        return circle.workspace


async def build_slack_app(settings: Settings, bot: SlackBot) -> AsyncApp:
    """The bolt app for ``settings``: one workspace with a bot token, or OAuth installs kept in our database."""
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    if settings.slack_bot_token:
        token = settings.slack_bot_token.get_secret_value()
        app = AsyncApp(client=AsyncWebClient(token=token, base_url=settings.slack_api_url), signing_secret=secret,
                       request_verification_enabled=not settings.slack_app_token)
    else:
        installations, states = await open_stores(
            settings.database_url, settings.slack_client_id, settings.secret_key.get_secret_value()
        )
        oauth = AsyncOAuthSettings(
            client_id=settings.slack_client_id, client_secret=settings.slack_client_secret.get_secret_value(),
            scopes=bot_scopes(), installation_store=installations, state_store=states, installation_store_bot_only=True,
        )
        app = AsyncApp(client=AsyncWebClient(base_url=settings.slack_api_url), signing_secret=secret, oauth_settings=oauth)

        async def find_token(team: str) -> str | None:
            found = await installations.async_find_bot(enterprise_id=None, team_id=team)
            return found.bot_token if found else None

        async def delete(team: str) -> None:
            await installations.async_delete_all(enterprise_id=None, team_id=team)

        bot.workspaces.find_token = find_token
        bot.delete_installation = delete
    bot.register(app)
    return app


@dataclass
class RunningSlack:
    """Slack, started: its deliveries adapter, how to stop it, and whether it is connected (``/healthz``)."""

    bot: SlackBot
    stop: Callable[[], Awaitable[None]]
    connected: Callable[[], Awaitable[bool]]

    @property
    def adapter(self) -> SlackSender:
        return self.bot.sender


async def start(settings: Settings, wiring: Wiring, clock: Clock, routes: Iterable[web.RouteDef] = ()) -> RunningSlack:
    """Slack for ``circlebot run``: the bot on the wiring's command service, served as ``settings`` say.

    Args:
        routes: more routes for its HTTP server (``/healthz``, ``/metrics``); unused in Socket Mode.
    """
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    bot = SlackBot(wiring.commands, wiring.store, clock, Workspaces(settings.slack_api_url, token),
                   settings.slack_community_channel)
    return await start_slack(settings, bot, routes=routes)


EVENTS = "/slack/events"


def signed_by_slack(secret: str) -> Callable:
    """An aiohttp middleware: a request to ``/slack/events`` goes on only when Slack signed it in the last 5 minutes.

    Bolt checks the signature too, but fails with a 500 (and a traceback in the log) on a
    timestamp that is not a number, and on a signed body that is not what Slack sends;
    here such a request is refused at once, 401 or 400, and nothing runs.
    """
    verifier = SignatureVerifier(secret)

    @web.middleware
    async def check(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]):
        if request.path != EVENTS or request.method != "POST":
            return await handler(request)
        body = await request.read()  # kept by aiohttp: bolt reads it again
        stamp = request.headers.get("X-Slack-Request-Timestamp", "")
        if not (stamp.isascii() and stamp.isdigit()) or not verifier.is_valid_request(body, dict(request.headers)):
            log.warning("Slack: a request with a missing, stale or wrong signature was refused")
            return web.Response(status=401)
        try:
            return await handler(request)
        except ValueError:  # a signed body that is not JSON or form data where Slack sends it
            log.warning("Slack: a signed request with a malformed body was refused")
            return web.Response(status=400)

    return check


async def start_slack(settings: Settings, bot: SlackBot, host: str = "0.0.0.0",
                      routes: Iterable[web.RouteDef] = ()) -> RunningSlack:
    """Serve Slack: HTTP at ``/slack/events`` (and the OAuth pages) on ``PORT``, or Socket Mode with an app token."""
    app = await build_slack_app(settings, bot)
    if settings.slack_app_token:
        from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

        handler = AsyncSocketModeHandler(app, settings.slack_app_token.get_secret_value())
        await handler.connect_async()
        log.info("Slack: connected in Socket Mode")

        async def stop_socket() -> None:
            await handler.close_async()
            await bot.workspaces.close()

        return RunningSlack(bot, stop_socket, handler.client.is_connected)
    web_app = app.web_app(path=EVENTS, port=settings.port)
    if settings.slack_signing_secret:
        web_app.middlewares.append(signed_by_slack(settings.slack_signing_secret.get_secret_value()))
    web_app.add_routes(routes)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, settings.port).start()
    log.info("Slack: listening on port %d (POST /slack/events)", settings.port)

    async def stop_http() -> None:
        await runner.cleanup()
        await bot.workspaces.close()

    async def serving() -> bool:  # over HTTP, Slack comes to us: connected while the server serves
        return runner.server is not None

    return RunningSlack(bot, stop_http, serving)
