"""A Discord on localhost that the real discord.py client connects to.

It serves the REST API under ``/api/v10`` and the gateway websocket at
``/gateway`` on one random port of 127.0.0.1. Every REST request is checked
against Discord's OpenAPI spec (:mod:`tests.fakes.discord_spec`); a request
outside it is recorded in :attr:`FakeDiscord.violations` and refused with 400.

The gateway speaks the real handshake: HELLO, IDENTIFY (with the shard), READY
(with ``resume_gateway_url``), GUILD_CREATE with the guild's channels, roles and
members, heartbeats and their ACKs, RESUME after a dropped connection (missed
events are replayed). Tests make people act by sending INTERACTION_CREATE:
:meth:`FakeDiscord.slash`, :meth:`click`, :meth:`submit`, :meth:`autocomplete`.

It keeps what the bot did: messages per channel, private threads (type 12)
and their members, interaction responses and follow-ups (the webhook routes),
and it behaves as Discord does where it matters: a message with a nonce seen in
the last minutes and ``enforce_nonce`` returns the earlier message; a DM to a
member who closed theirs is refused with 403 (code 50007); an interaction not
answered within 3 s is gone (404, code 10062); a follow-up after 15 minutes
fails; 429 is answered on demand (:meth:`rate_limit_next`), and so are the answers of a
platform in trouble (:meth:`fault_next`: HTTP 500, malformed JSON, no answer at all).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from collections.abc import Callable
from typing import Any

from aiohttp import WSMsgType, web

from .discord_spec import DiscordSpec, discord_spec_path

log = logging.getLogger(__name__)

DISCORD_EPOCH_MS = 1420070400000
NONCE_WINDOW = 300.0  # seconds Discord remembers a nonce
ANSWER_WITHIN = 3.0
TOKEN_LIFETIME = 15 * 60.0
EPHEMERAL = 64
MANAGE_GUILD = 1 << 5
ALL_PERMISSIONS = (1 << 50) - 1
EVERYONE_PERMISSIONS = 1 << 10 | 1 << 11 | 1 << 16 | 1 << 31 | 1 << 38  # view, send, history, use commands, threads


@dataclass
class Person:
    id: int
    name: str
    dms_open: bool = True
    admin: bool = False

    def user(self) -> dict:
        return {"id": str(self.id), "username": self.name, "discriminator": "0", "global_name": self.name.title(),
                "avatar": None, "bot": False, "flags": 0, "public_flags": 0}


@dataclass
class Session:
    id: str
    shard: tuple[int, int]
    ws: web.WebSocketResponse | None
    seq: int = 0
    events: list[dict] = field(default_factory=list)

    async def dispatch(self, event: str, data: dict) -> None:
        self.seq += 1
        frame = {"op": 0, "t": event, "s": self.seq, "d": data}
        self.events.append(frame)
        if self.ws is not None and not self.ws.closed:
            await self.ws.send_str(json.dumps(frame))


@dataclass
class Interaction:
    id: int
    token: str
    payload: dict
    sent_at: float
    answered_at: float | None = None  # when the first callback arrived (monotonic)
    said_at: float | None = None  # when the first message for the person arrived (an answer or a follow-up)
    responses: list[dict] = field(default_factory=list)  # callbacks: {"type": .., "data": ..}
    followups: list[dict] = field(default_factory=list)  # messages sent through the webhook


def reply(body: object, status: int = 200, headers: dict | None = None) -> web.Response:
    """JSON as Discord sends it: discord.py parses a body only when the content type is exactly ``application/json``."""
    headers = {**(headers or {}), "Content-Type": "application/json"}
    return web.Response(body=json.dumps(body).encode(), status=status, headers=headers)


class DiscordError(Exception):
    def __init__(self, status: int, code: int, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class FakeDiscord:
    """Args:
        people: the guild's members by name (ids are made up); the first owns the guild.
        shards: the shard count ``GET /gateway/bot`` recommends.
    """

    def __init__(self, people: tuple[str, ...] = ("alice", "bob", "carol", "dan"), *, shards: int = 1):
        self.spec = DiscordSpec(discord_spec_path())
        self._ids = itertools.count(1)
        self.bot = {"id": str(self.snowflake()), "username": "Circlebot", "discriminator": "0", "global_name": None,
                    "avatar": None, "bot": True, "flags": 0, "verified": True, "mfa_enabled": False}
        self.application_id = self.snowflake()
        self.guild_id = self.snowflake()
        self.channel_id = self.snowflake()
        self.people = {name: Person(self.snowflake(), name) for name in people}
        self.people[people[0]].admin = True
        self.shards = shards
        self.channels: dict[int, dict] = {self.channel_id: self._text_channel(self.channel_id, "general")}
        self.messages: dict[int, list[dict]] = defaultdict(list)
        self.thread_members: dict[int, set[int]] = defaultdict(set)
        self.dm_channels: dict[int, int] = {}  # user id -> DM channel id
        self.uploads: list[tuple[str, bytes]] = []  # (file name, content) of every file attached, oldest first
        self.interactions: dict[int, Interaction] = {}
        self._by_tokens: dict[str, Interaction] = {}
        self.commands: dict[int | None, list[dict]] = {}  # guild id (None: global) -> commands
        self.command_puts = 0
        self.requests: list[tuple[str, str, Any]] = []  # method, template, body
        self.violations: list[str] = []
        self.sessions: dict[str, Session] = {}
        self.target: Session | None = None  # when several bots are connected, the one people talk to
        self.identifies = 0
        self.resumes = 0
        self._nonces: dict[tuple[int, str], tuple[float, dict]] = {}
        self._limits: list[list] = []  # [method, template, retry_after, times]
        self._faults: list[list] = []  # [method, template, answer, carried out, times]
        self.stall: Callable[[dict], bool] | None = None  # a message it matches is created, then never answered
        self._changed = asyncio.Condition()
        self._stopping = asyncio.Event()  # releases stalled requests, so the server can stop
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ------------------------------------------------------------ life

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.spec.prefix}"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    @property
    def resume_gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/resume-gateway"

    async def start(self) -> FakeDiscord:
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/resume-gateway", self._gateway)
        app.router.add_route("*", self.spec.prefix + "/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        self._stopping.set()
        for session in self.sessions.values():
            if session.ws is not None:
                await session.ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeDiscord:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------ made-up data

    def snowflake(self) -> int:
        return (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22 | next(self._ids) % (1 << 22)

    def _text_channel(self, channel_id: int, name: str) -> dict:
        return {"id": str(channel_id), "type": 0, "guild_id": str(self.guild_id), "name": name, "position": 0,
                "permission_overwrites": [], "nsfw": False, "parent_id": None, "topic": None,
                "last_message_id": None, "rate_limit_per_user": 0, "flags": 0}

    def add_text_channel(self, name: str) -> int:
        """Another text channel in the guild (after ``general``, which stays the first); returns its id."""
        channel_id = self.snowflake()
        self.channels[channel_id] = self._text_channel(channel_id, name)
        return channel_id

    def dm_channel(self, who: str) -> int:
        """``who``'s DM channel with the bot (opened now if the bot never wrote to them)."""
        return self.dm_channels.setdefault(self.person(who).id, self.snowflake())

    def forged_message(self, channel_id: int, custom_id: str) -> dict:
        """A message of the bot's in ``channel_id`` with one button carrying ``custom_id``: what a doctored client
        could claim to press. Nothing is stored; :meth:`click` it."""
        button = {"type": 2, "style": 1, "label": "Press", "custom_id": custom_id}
        return self._message(channel_id, {"content": "", "components": [{"type": 1, "components": [button]}]})

    def person(self, who: str | int) -> Person:
        person = self.people[who] if isinstance(who, str) else self.known(who)
        if person is None:
            raise KeyError(who)
        return person

    def known(self, user_id: int) -> Person | None:
        """The person with this id, if this fake knows them (a member of another guild it does not)."""
        return next((p for p in self.people.values() if p.id == user_id), None)

    def member(self, person: Person) -> dict:
        return {"user": person.user(), "roles": [], "joined_at": "2026-01-01T00:00:00+00:00", "deaf": False,
                "mute": False, "flags": 0, "nick": None, "avatar": None, "pending": False,
                "permissions": str(ALL_PERMISSIONS if person.admin else EVERYONE_PERMISSIONS)}

    def guild(self) -> dict:
        owner = next(iter(self.people.values()))
        everyone = {"id": str(self.guild_id), "name": "@everyone", "permissions": str(EVERYONE_PERMISSIONS),
                    "position": 0, "color": 0, "hoist": False, "managed": False, "mentionable": False, "flags": 0}
        return {
            "id": str(self.guild_id), "name": "Circles test guild", "owner_id": str(owner.id), "unavailable": False,
            "member_count": len(self.people) + 1, "large": False, "features": [], "emojis": [], "stickers": [],
            "roles": [everyone], "preferred_locale": "en-US", "joined_at": "2026-01-01T00:00:00+00:00",
            "channels": [c for c in self.channels.values() if c["type"] == 0],
            "threads": [c for c in self.channels.values() if c["type"] in (11, 12)],
            "members": [self.member(p) for p in self.people.values()]
            + [{"user": self.bot, "roles": [], "joined_at": "2026-01-01T00:00:00+00:00", "deaf": False, "mute": False,
                "flags": 0}],
            "voice_states": [], "presences": [], "stage_instances": [], "guild_scheduled_events": [],
            "system_channel_id": None, "afk_channel_id": None, "afk_timeout": 300, "verification_level": 0,
            "default_message_notifications": 0, "explicit_content_filter": 0, "mfa_level": 0, "nsfw_level": 0,
            "premium_tier": 0, "icon": None, "splash": None, "banner": None, "description": None,
        }

    def shard_of_guild(self, count: int) -> int:
        return (self.guild_id >> 22) % count

    # ------------------------------------------------------------ gateway

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 41250}}))
        session: Session | None = None
        async for frame in ws:
            if frame.type != WSMsgType.TEXT:
                continue
            message = json.loads(frame.data)
            op, data = message.get("op"), message.get("d")
            if op == 1:
                await ws.send_str(json.dumps({"op": 11}))
            elif op == 2:
                session = await self._identify(ws, data)
            elif op == 6:
                session = await self._resume(ws, data)
            await self._notify()
        if session is not None and session.ws is ws:
            session.ws = None
        await self._notify()
        return ws

    async def _identify(self, ws: web.WebSocketResponse, data: dict) -> Session:
        if data.get("token") != "fake-token":
            await ws.close(code=4004, message=b"Authentication failed")
            raise web.HTTPUnauthorized()
        self.identifies += 1
        shard = tuple(data.get("shard") or (0, 1))
        session = Session(f"session-{self.snowflake()}", shard, ws)  # type: ignore[arg-type]
        self.sessions[session.id] = session
        mine = self.shard_of_guild(shard[1]) == shard[0]
        await session.dispatch("READY", {
            "v": 10, "user": self.bot, "session_id": session.id, "resume_gateway_url": self.resume_gateway_url,
            "shard": list(shard), "guilds": [{"id": str(self.guild_id), "unavailable": True}] if mine else [],
            "application": {"id": str(self.application_id), "flags": 0}, "private_channels": [], "relationships": [],
        })
        if mine:
            await session.dispatch("GUILD_CREATE", self.guild())
        return session

    async def _resume(self, ws: web.WebSocketResponse, data: dict) -> Session | None:
        session = self.sessions.get(data.get("session_id", ""))
        if session is None:
            await ws.send_str(json.dumps({"op": 9, "d": False}))
            return None
        self.resumes += 1
        session.ws = ws
        for frame in session.events:
            if frame["s"] > (data.get("seq") or 0):
                await ws.send_str(json.dumps(frame))
        await session.dispatch("RESUMED", {})
        return session

    def live_sessions(self) -> list[Session]:
        return [s for s in self.sessions.values() if s.ws is not None and not s.ws.closed]

    async def wait_connected(self, timeout: float = 30.0) -> None:
        """Until a session holding the guild is connected and has its GUILD_CREATE."""
        await self.wait_for(lambda: any(self._holds_guild(s) for s in self.live_sessions()), timeout)

    def _holds_guild(self, session: Session) -> bool:
        return self.shard_of_guild(session.shard[1]) == session.shard[0]

    async def drop_connections(self) -> None:
        """Close every gateway connection as a Discord restart does (4000: resumable)."""
        for session in self.live_sessions():
            await session.ws.close(code=4000, message=b"Unknown error")  # type: ignore[union-attr]

    async def _send_to_shard(self, event: str, data: dict, guild: bool) -> None:
        # A session resumed after a drop keeps its events; the latest session of the shard gets it.
        candidates = [s for s in self.sessions.values() if (self._holds_guild(s) if guild else s.shard[0] == 0)]
        if self.target is not None:
            candidates = [self.target]
        if not candidates:
            raise RuntimeError("no gateway session for that shard: is the bot connected?")
        await candidates[-1].dispatch(event, data)

    # ------------------------------------------------------------ people act

    async def _interact(self, kind: int, data: dict | None, who: str, *, channel: int | None = None,
                        locale: str = "en-GB", message: dict | None = None) -> Interaction:
        person = self.person(who)
        channel_id = channel or self.channel_id
        interaction = Interaction(self.snowflake(), f"token-{self.snowflake()}", {}, time.monotonic())
        payload: dict[str, Any] = {
            "id": str(interaction.id), "application_id": str(self.application_id), "type": kind,
            "token": interaction.token, "version": 1, "locale": locale, "app_permissions": str(ALL_PERMISSIONS),
            "attachment_size_limit": 10 * 1024 * 1024, "entitlements": [], "entitlement_sku_ids": [],
        }
        if data is not None:
            payload["data"] = data
        if message is not None:
            payload["message"] = message
        in_dm = channel_id in self.dm_channels.values()
        if in_dm:
            payload.update(user=person.user(), context=1, authorizing_integration_owners={"0": "0"},
                           channel={"id": str(channel_id), "type": 1, "recipients": [person.user()]},
                           channel_id=str(channel_id))
        else:
            payload.update(guild_id=str(self.guild_id), member=self.member(person), guild_locale="en-US", context=0,
                           guild={"id": str(self.guild_id), "locale": "en-US", "features": []},
                           authorizing_integration_owners={"0": str(self.guild_id)},
                           channel=self.channels[channel_id], channel_id=str(channel_id))
        interaction.payload = payload
        self.interactions[interaction.id] = interaction
        self._by_tokens[interaction.token] = interaction
        interaction.sent_at = time.monotonic()
        await self._send_to_shard("INTERACTION_CREATE", payload, guild=not in_dm)
        return interaction

    async def slash(self, who: str, subcommand: str, group: str | None = None, *, channel: int | None = None,
                    locale: str = "en-GB", **options: Any) -> Interaction:
        """``/circle [group] subcommand option:value ...`` typed by ``who``."""
        leaf = {"type": 1, "name": subcommand,
                "options": [{"type": 3 if isinstance(v, str) else 4, "name": k, "value": v}
                            for k, v in options.items()]}
        top = {"type": 2, "name": group, "options": [leaf]} if group else leaf
        data = {"id": str(self._command_id("circle")), "name": "circle", "type": 1, "options": [top]}
        return await self._interact(2, data, who, channel=channel, locale=locale)

    async def message_command(self, who: str, name: str, message: dict) -> Interaction:
        """``who`` runs the message context menu ``name`` (an application command of type 3) on ``message``."""
        data = {"id": str(self._command_id(name)), "name": name, "type": 3, "target_id": message["id"],
                "resolved": {"messages": {message["id"]: message}}}
        return await self._interact(2, data, who, channel=int(message["channel_id"]))

    def say_in(self, who: str, channel_id: int, content: str) -> dict:
        """A message ``who`` writes in ``channel_id`` (a person's, not the bot's)."""
        message = self._message(channel_id, {"content": content}, author=self.person(who).user())
        self.messages[channel_id].append(message)
        return message

    async def autocomplete(self, who: str, subcommand: str, focused: str, typed: str, group: str | None = None,
                           **options: Any) -> Interaction:
        opts = [{"type": 3, "name": k, "value": v} for k, v in options.items()]
        opts.append({"type": 3, "name": focused, "value": typed, "focused": True})
        leaf = {"type": 1, "name": subcommand, "options": opts}
        top = {"type": 2, "name": group, "options": [leaf]} if group else leaf
        data = {"id": str(self._command_id("circle")), "name": "circle", "type": 1, "options": [top]}
        return await self._interact(4, data, who)

    async def click(self, who: str, message: dict, custom_id: str | None = None, *,
                    locale: str = "en-GB") -> Interaction:
        """``who`` presses a button of ``message`` (its first, or the one with ``custom_id``)."""
        buttons = [c for row in message.get("components", []) for c in row.get("components", []) if c.get("type") == 2]
        button = next(b for b in buttons if custom_id is None or b["custom_id"] == custom_id)
        data = {"custom_id": button["custom_id"], "component_type": 2}
        return await self._interact(3, data, who, channel=int(message["channel_id"]), locale=locale, message=message)

    async def submit(self, who: str, modal: dict, values: list[str], *, channel: int | None = None,
                     locale: str = "en-GB") -> Interaction:
        """``who`` fills in the modal (as the bot sent it) with ``values`` in order and submits it."""
        inputs = [row["components"][0] if row.get("type") == 1 else row["component"] for row in modal["components"]]
        rows = [{"type": 1, "components": [{"type": 4, "custom_id": i["custom_id"], "value": v}]}
                for i, v in zip(inputs, values, strict=True)]
        data = {"custom_id": modal["custom_id"], "components": rows}
        return await self._interact(5, data, who, channel=channel, locale=locale)

    def _command_id(self, name: str) -> int:
        for commands in self.commands.values():
            for command in commands:
                if command["name"] == name:
                    return int(command["id"])
        return 0

    # ------------------------------------------------------------ reading what the bot did

    async def wait_for(self, condition, timeout: float = 15.0):
        """Wait until ``condition()`` is truthy (checked whenever the fake's state changes) and return it."""
        async def until():
            async with self._changed:
                while not (result := condition()):
                    await self._changed.wait()
                return result
        return await asyncio.wait_for(until(), timeout)

    async def answered(self, interaction: Interaction, timeout: float = 15.0) -> dict:
        """The interaction's first response (``{"type": .., "data": ..}``)."""
        return (await self.wait_for(lambda: interaction.responses, timeout))[0]

    async def followup(self, interaction: Interaction, count: int = 1, timeout: float = 15.0) -> list[dict]:
        """Its first ``count`` follow-up messages (or the response itself when it answered at once)."""
        def visible():
            said = [r["data"] for r in interaction.responses if r["type"] in (4, 7) and r.get("data")]
            said += interaction.followups
            return said if len(said) >= count else None
        return await self.wait_for(visible, timeout)

    def channel_messages(self, channel_id: int) -> list[dict]:
        return self.messages.get(channel_id, [])

    def threads(self) -> list[dict]:
        return [c for c in self.channels.values() if c["type"] in (11, 12)]

    def dms_to(self, who: str) -> list[dict]:
        channel = self.dm_channels.get(self.person(who).id)
        return self.messages.get(channel, []) if channel else []

    def rate_limit_next(self, method: str, template: str, retry_after: float = 0.5, times: int = 1) -> None:
        """Answer the next ``times`` requests to ``method template`` with 429."""
        self._limits.append([method.upper(), template, retry_after, times])

    def fault_next(self, method: str, template: str, answer: str, *, carried_out: bool = True,
                   times: int = 1) -> None:
        """Answer the next ``times`` requests to ``method template`` as a platform in trouble does.

        Args:
            answer: ``"500"`` (an HTML error page), ``"malformed"`` (HTTP 200, JSON cut short) or
                ``"silence"`` (no answer until the fake stops: the caller times out).
            carried_out: the request takes effect before the bad answer (a message is created), or does not.
        """
        assert answer in ("500", "malformed", "silence"), answer
        self._faults.append([method.upper(), template, answer, carried_out, times])

    def _fault_for(self, method: str, template: str) -> tuple[str, bool] | None:
        for fault in self._faults:
            if fault[0] == method and fault[1] == template and fault[4] > 0:
                fault[4] -= 1
                return fault[2], fault[3]
        return None

    async def _faulty(self, answer: str, good: web.Response | None) -> web.Response:
        """The bad answer in place of ``good`` (the request's own answer, when it was carried out)."""
        if answer == "silence":
            await self._stopping.wait()
        if answer == "malformed":
            body = good.body if good is not None and good.body else b'{"id": "1"}'
            return web.Response(body=body[: len(body) // 2], headers={"Content-Type": "application/json"})
        return web.Response(status=500, text="<html><body>500 Internal Server Error</body></html>",
                            content_type="text/html")

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # ------------------------------------------------------------ REST

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        body = await self._body(request)
        template, problems = self.spec.check(request.method, request.path, list(request.query), body)
        self.requests.append((request.method, template or request.path, body))
        if problems:
            self.violations += problems
            log.error("outside the spec: %s", problems)
            return reply({"code": 50035, "message": "Invalid Form Body: " + "; ".join(problems)}, status=400)
        if request.headers.get("Authorization") != "Bot fake-token" and not template.startswith("/webhooks/") \
                and not template.startswith("/interactions/"):
            return reply({"code": 0, "message": "401: Unauthorized"}, status=401)
        for limit in self._limits:
            if limit[0] == request.method and limit[1] == template and limit[3] > 0:
                limit[3] -= 1
                retry = limit[2]
                return reply(
                    {"message": "You are being rate limited.", "retry_after": retry, "global": False},
                    status=429, headers={"Retry-After": str(retry), "X-RateLimit-Limit": "5",
                                         "X-RateLimit-Remaining": "0",
                                         "X-RateLimit-Reset-After": str(retry), "X-RateLimit-Bucket": template,
                                         "X-RateLimit-Scope": "user", "Via": "1.1 google"})
        fault = self._fault_for(request.method, template)
        if fault is not None and not fault[1]:
            return await self._faulty(fault[0], None)
        handler = self.HANDLERS.get((request.method, template))
        if handler is None:
            self.violations.append(f"{request.method} {template}: within the spec but the fake does not serve it")
            return reply({"code": 0, "message": "not served by the fake"}, status=501)
        params = dict(zip(_names(template), _values(template, request.path[len(self.spec.prefix):])))
        try:
            result = await handler(self, request, params, body)
        except DiscordError as error:
            return reply({"code": error.code, "message": error.message}, status=error.status)
        finally:
            await self._notify()
        answer = web.Response(status=204) if result is None else reply(result)
        return await self._faulty(fault[0], answer) if fault is not None else answer

    async def _body(self, request: web.Request) -> Any:
        if not request.can_read_body:
            return None
        if request.content_type == "multipart/form-data":
            reader = await request.multipart()
            payload = None
            async for part in reader:
                if part.name == "payload_json":  # type: ignore[union-attr]
                    payload = json.loads(await part.text())  # type: ignore[union-attr]
                else:  # a file: kept, in the order they came, for tests to read back
                    self.uploads.append((part.filename, bytes(await part.read())))  # type: ignore[union-attr]
            return payload
        raw = await request.read()
        return json.loads(raw) if raw else None

    def _message(self, channel_id: int, body: dict, author: dict | None = None) -> dict:
        content = body.get("content") or ""
        if len(content) > 2000:
            raise DiscordError(400, 50035, "Invalid Form Body: content must be 2000 or fewer in length")
        message = {
            "id": str(self.snowflake()), "channel_id": str(channel_id), "type": 0, "content": content,
            "embeds": body.get("embeds") or [], "components": _with_ids(body.get("components") or []),
            "author": author or self.bot, "timestamp": datetime.now(UTC).isoformat(), "edited_timestamp": None,
            "tts": False, "mention_everyone": False, "mentions": [], "mention_roles": [], "attachments": [],
            "pinned": False, "flags": body.get("flags") or 0,
        }
        if channel_id in self.channels and self.channels[channel_id].get("guild_id"):
            message["guild_id"] = str(self.guild_id)
        if body.get("nonce") is not None:
            message["nonce"] = body["nonce"]
        return message

    async def _get_me(self, request, params, body):
        return self.bot

    async def _get_application(self, request, params, body):
        owner = next(iter(self.people.values()))
        return {"id": str(self.application_id), "name": "Circlebot", "description": "", "icon": None,
                "bot_public": True, "bot_require_code_grant": False, "owner": owner.user(), "verify_key": "0" * 64,
                "flags": 0, "team": None, "summary": "", "rpc_origins": [], "interactions_endpoint_url": None,
                "bot": self.bot}

    async def _get_gateway_bot(self, request, params, body):
        return {"url": self.gateway_url, "shards": self.shards,
                "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}}

    async def _put_commands(self, request, params, body):
        guild = int(params["guild_id"]) if "guild_id" in params else None
        self.command_puts += 1
        self.commands[guild] = [{**c, "id": str(self.snowflake()), "application_id": str(self.application_id),
                                 "version": str(self.snowflake()), "type": c.get("type", 1),
                                 **({"guild_id": str(guild)} if guild else {})} for c in body]
        return self.commands[guild]

    async def _get_commands(self, request, params, body):
        guild = int(params["guild_id"]) if "guild_id" in params else None
        return self.commands.get(guild, [])

    async def _create_message(self, request, params, body):
        channel_id = int(params["channel_id"])
        if channel_id not in self.channels and channel_id not in self.dm_channels.values():
            raise DiscordError(404, 10003, "Unknown Channel")
        recipient = next((uid for uid, cid in self.dm_channels.items() if cid == channel_id), None)
        if recipient is not None and not self.person(recipient).dms_open:
            raise DiscordError(403, 50007, "Cannot send messages to this user")
        nonce = body.get("nonce")
        now = time.monotonic()
        if nonce is not None and body.get("enforce_nonce"):
            earlier = self._nonces.get((channel_id, str(nonce)))
            if earlier and now - earlier[0] < NONCE_WINDOW:
                return earlier[1]
        message = self._message(channel_id, body)
        self.messages[channel_id].append(message)
        if nonce is not None:
            self._nonces[(channel_id, str(nonce))] = (now, message)
        if self.stall is not None and self.stall(message):
            # The message exists, but its sender never hears so: as if it died before the answer came back.
            self.stall = None
            await self._notify()
            await self._stopping.wait()
        return message

    async def _edit_message(self, request, params, body):
        channel_id, message_id = int(params["channel_id"]), params["message_id"]
        for message in self.messages.get(channel_id, []):
            if message["id"] == message_id:
                for key in ("content", "embeds", "flags"):
                    if key in body:
                        message[key] = body[key]
                if "components" in body:
                    message["components"] = _with_ids(body["components"] or [])
                message["edited_timestamp"] = datetime.now(UTC).isoformat()
                return message
        raise DiscordError(404, 10008, "Unknown Message")

    async def _create_thread(self, request, params, body):
        parent = self.channels.get(int(params["channel_id"]))
        if parent is None or parent["type"] != 0:
            raise DiscordError(404, 10003, "Unknown Channel")
        thread_id = self.snowflake()
        thread = {"id": str(thread_id), "type": body.get("type", 12), "guild_id": str(self.guild_id),
                  "parent_id": parent["id"], "owner_id": self.bot["id"], "name": body["name"], "last_message_id": None,
                  "rate_limit_per_user": 0, "message_count": 0, "member_count": 1, "flags": 0, "total_message_sent": 0,
                  "thread_metadata": {"archived": False,
                                      "auto_archive_duration": body.get("auto_archive_duration", 10080),
                                      "archive_timestamp": datetime.now(UTC).isoformat(), "locked": False,
                                      "invitable": body.get("invitable", True)}}
        self.channels[thread_id] = thread
        self.thread_members[thread_id].add(int(self.bot["id"]))
        return thread

    async def _get_channel(self, request, params, body):
        channel = self.channels.get(int(params["channel_id"]))
        if channel is None:
            raise DiscordError(404, 10003, "Unknown Channel")
        return channel

    async def _guild_channels(self, request, params, body):
        return [c for c in self.channels.values() if c["type"] not in (11, 12)]

    async def _active_threads(self, request, params, body):
        return {"threads": [t for t in self.threads() if not t["thread_metadata"]["archived"]], "members": []}

    async def _add_thread_member(self, request, params, body):
        thread_id, user_id = int(params["channel_id"]), int(params["user_id"])
        if thread_id not in self.channels or self.channels[thread_id]["type"] not in (11, 12):
            raise DiscordError(404, 10003, "Unknown Channel")
        if self.known(user_id) is None:
            raise DiscordError(404, 10007, "Unknown Member")
        self.thread_members[thread_id].add(user_id)

    async def _remove_thread_member(self, request, params, body):
        thread_id, user_id = int(params["channel_id"]), int(params["user_id"])
        if thread_id not in self.channels:
            raise DiscordError(404, 10003, "Unknown Channel")
        self.thread_members[thread_id].discard(user_id)

    async def _open_dm(self, request, params, body):
        user_id = int(body["recipient_id"])
        person = self.known(user_id)
        if person is None:  # nobody this fake knows, such as a member of another guild
            raise DiscordError(404, 10013, "Unknown User")
        channel_id = self.dm_channels.setdefault(user_id, self.snowflake())
        return {"id": str(channel_id), "type": 1, "last_message_id": None, "flags": 0, "recipients": [person.user()]}

    async def _callback(self, request, params, body):
        interaction = self.interactions.get(int(params["interaction_id"]))
        if interaction is None or interaction.token != params["interaction_token"]:
            raise DiscordError(404, 10062, "Unknown interaction")
        late = time.monotonic() - interaction.sent_at
        if late > ANSWER_WITHIN:
            self.violations.append(f"interaction {interaction.id} answered after {late:.2f} s")
            raise DiscordError(404, 10062, "Unknown interaction")
        if interaction.responses:
            raise DiscordError(400, 40060, "Interaction has already been acknowledged.")
        interaction.answered_at = time.monotonic()
        kind, data = body["type"], body.get("data") or {}
        response = {"type": kind, "data": data}
        interaction.responses.append(response)
        channel_id = int(interaction.payload["channel_id"])
        result: dict[str, Any] = {"interaction": {
            "id": str(interaction.id), "type": interaction.payload["type"],
            "response_message_loading": kind == 5,
            "response_message_ephemeral": bool((data.get("flags") or 0) & EPHEMERAL)}}
        if kind == 4:
            interaction.said_at = interaction.answered_at
            message = self._message(channel_id, data)
            if not (data.get("flags") or 0) & EPHEMERAL:
                self.messages[channel_id].append(message)
            response["message"] = message
            result["interaction"]["response_message_id"] = message["id"]
            result["resource"] = {"type": kind, "message": message}
        else:
            result["resource"] = {"type": kind}
        return result

    def _by_token(self, params: dict) -> Interaction:
        if int(params["webhook_id"]) != self.application_id:
            raise DiscordError(404, 10015, "Unknown Webhook")
        interaction = self._by_tokens.get(params["webhook_token"])
        if interaction is None:
            raise DiscordError(404, 10015, "Unknown Webhook")
        if time.monotonic() - interaction.sent_at > TOKEN_LIFETIME:
            raise DiscordError(401, 50027, "Invalid Webhook Token")
        if not interaction.responses:
            raise DiscordError(404, 10015, "Unknown Webhook")  # a follow-up needs an answer first
        return interaction

    async def _followup(self, request, params, body):
        interaction = self._by_token(params)
        channel_id = int(interaction.payload["channel_id"])
        message = self._message(channel_id, body, author=self.bot)
        if not (body.get("flags") or 0) & EPHEMERAL:
            self.messages[channel_id].append(message)
        interaction.followups.append(message)
        interaction.said_at = interaction.said_at or time.monotonic()
        return message

    async def _edit_original(self, request, params, body):
        interaction = self._by_token(params)
        channel_id = int(interaction.payload["channel_id"])
        message = self._message(channel_id, body, author=self.bot)
        interaction.followups.append(message)
        return message

    HANDLERS = {
        ("GET", "/users/@me"): _get_me,
        ("GET", "/oauth2/applications/@me"): _get_application,
        ("GET", "/gateway/bot"): _get_gateway_bot,
        ("PUT", "/applications/{application_id}/commands"): _put_commands,
        ("PUT", "/applications/{application_id}/guilds/{guild_id}/commands"): _put_commands,
        ("GET", "/applications/{application_id}/commands"): _get_commands,
        ("GET", "/applications/{application_id}/guilds/{guild_id}/commands"): _get_commands,
        ("POST", "/channels/{channel_id}/messages"): _create_message,
        ("PATCH", "/channels/{channel_id}/messages/{message_id}"): _edit_message,
        ("POST", "/channels/{channel_id}/threads"): _create_thread,
        ("GET", "/guilds/{guild_id}/threads/active"): _active_threads,
        ("GET", "/guilds/{guild_id}/channels"): _guild_channels,
        ("GET", "/channels/{channel_id}"): _get_channel,
        ("PUT", "/channels/{channel_id}/thread-members/{user_id}"): _add_thread_member,
        ("DELETE", "/channels/{channel_id}/thread-members/{user_id}"): _remove_thread_member,
        ("POST", "/users/@me/channels"): _open_dm,
        ("POST", "/interactions/{interaction_id}/{interaction_token}/callback"): _callback,
        ("POST", "/webhooks/{webhook_id}/{webhook_token}"): _followup,
        ("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/@original"): _edit_original,
    }


def _names(template: str) -> list[str]:
    return [part[1:-1] for part in template.split("/") if part.startswith("{")]


def _values(template: str, path: str) -> list[str]:
    return [value for part, value in zip(template.split("/"), path.split("/")) if part.startswith("{")]


def _with_ids(rows: list[dict]) -> list[dict]:
    """Components as Discord returns them: each with a numeric ``id``."""
    counter = itertools.count(1)
    return [{**row, "id": next(counter), "components": [{**c, "id": next(counter)} for c in row.get("components", [])]}
            for row in rows]
