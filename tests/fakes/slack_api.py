"""A fake Slack Web API on localhost, for tests that run the real slack-bolt / slack_sdk clients.

Point ``AsyncWebClient(base_url=fake.api_url)`` (or ``SLACK_API_URL``) at it. It
records every call, checks it against the official spec and Block Kit limits
(:mod:`tests.fakes.slack_checks`; anything wrong lands in :attr:`FakeSlack.violations`
and is answered ``invalid_arguments``), and answers the way Slack does:
``{"ok": false, "error": ...}`` including ``name_taken`` and
``already_in_channel``, and HTTP 429 with ``Retry-After`` when told to
(:meth:`FakeSlack.rate_limit`), and like a platform in trouble when told to
(:meth:`FakeSlack.fault`: HTTP 500, malformed JSON, no answer at all). It keeps channels with their members,
messages with metadata and threads, views, users, files, and what was sent to
``response_url``. Trigger ids are issued by the fake (see
:mod:`tests.fakes.slack_requests`) and, as on Slack, work once within 3 seconds.

Like :class:`tests.fakes.platform.FakePlatform` it serves from its own thread, so
a test, the bot under test and other processes can all reach it.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from tests.fakes import slack_checks as checks

TRIGGER_LIFETIME = 3.0


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    token: str | None


@dataclass
class Channel:
    id: str
    name: str
    team: str
    is_private: bool = True
    is_im: bool = False
    members: set[str] = field(default_factory=set)
    messages: list[dict] = field(default_factory=list)  # oldest first, thread replies included


@dataclass
class User:
    id: str
    name: str
    team: str
    tz: str = "UTC"
    locale: str = "en-US"
    is_admin: bool = False


class FakeSlack:
    """The fake Web API. ``team`` and its ``bot_token`` are known from the start; see :meth:`install`.

    Args:
        spec: the Web API spec to check calls against.
    """

    def __init__(self, spec: Path, team: str = "T0001", bot_token: str = "xoxb-fake-token", bot_user: str = "UBOT"):
        self.spec = checks.load_spec(spec)
        self.team = team
        self.bot_user = bot_user
        self.tokens: dict[str, str] = {bot_token: team}  # token -> team
        self.calls: list[Call] = []
        self.violations: list[str] = []
        self.channels: dict[str, Channel] = {}
        self.users: dict[str, User] = {}
        self.views: dict[str, dict] = {}  # view id -> view, as opened or updated
        self.homes: dict[str, dict] = {}  # user id -> published Home tab
        self.responses: list[tuple[str, dict]] = []  # (response_url, body) in order
        self.answered_at: dict[str, float] = {}  # response_url -> time.perf_counter() of its first answer
        self.ephemeral: list[dict] = []  # chat.postEphemeral calls, as given
        self.files: dict[str, dict] = {}  # file id -> {"name", "content", "shared_in"}
        self.oauth_codes: dict[str, str] = {}  # code -> team
        self._triggers: dict[str, float] = {}  # trigger id -> when issued
        self._limits: dict[str, list[float]] = {}  # method -> Retry-After of the next 429s
        self._errors: dict[str, list[str]] = {}  # method -> errors to answer next
        self._faults: dict[str, list[tuple[str, bool]]] = {}  # method -> (answer, carried out) of the next calls
        self._ids = itertools.count(1)
        self._last_ts = 0.0
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self.url = ""

    # --- set-up and inspection, from the test ---

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def add_user(self, user_id: str, name: str, tz: str = "UTC", locale: str = "en-US", *, admin: bool = False,
                 team: str | None = None) -> User:
        user = User(user_id, name, team or self.team, tz, locale, admin)
        self.users[user_id] = user
        return user

    def add_channel(self, name: str, members: set[str] = frozenset(), *, private: bool = False) -> Channel:
        channel = Channel(self._new_id("C"), name, self.team, private, members={self.bot_user, *members})
        self.channels[channel.id] = channel
        return channel

    def install(self, team: str) -> str:
        """An OAuth code that ``oauth.v2.access`` exchanges for a new bot token of ``team``."""
        code = f"code-{next(self._ids)}"
        self.oauth_codes[code] = team
        return code

    def rate_limit(self, method: str, retry_after: float = 3, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with HTTP 429 and ``Retry-After``."""
        self._limits.setdefault(method, []).extend([retry_after] * times)

    def fail(self, method: str, error: str, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with ``{"ok": false, "error": error}``."""
        self._errors.setdefault(method, []).extend([error] * times)

    def hang(self, method: str, times: int = 1) -> None:
        """Carry out the next ``times`` calls of ``method`` but never answer them (to kill the caller meanwhile)."""
        self.fault(method, "silence", times=times)

    def fault(self, method: str, answer: str, *, carried_out: bool = True, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` as a platform in trouble does.

        Args:
            answer: ``"500"`` (an HTML error page), ``"malformed"`` (HTTP 200, JSON cut short) or
                ``"silence"`` (no answer, ever: the caller times out).
            carried_out: the call takes effect before the bad answer (a post is made), or does not.
        """
        assert answer in FAULTS, answer
        self._faults.setdefault(method, []).extend([(answer, carried_out)] * times)

    async def wait_until(self, condition, timeout: float = 60.0, what: str = "the condition") -> None:
        """Poll until ``condition()`` is true (the fake changes in its own thread)."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            await asyncio.sleep(0.05)

    def new_trigger(self) -> str:
        trigger = f"{next(self._ids)}.{int(time.time())}.trigger"
        self._triggers[trigger] = time.monotonic()
        return trigger

    def called(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    def channel_named(self, name: str) -> Channel:
        return next(c for c in self.channels.values() if c.name == name)

    def im_of(self, user: str) -> Channel | None:
        return next((c for c in self.channels.values() if c.is_im and user in c.members), None)

    def posts(self, channel: Channel) -> list[dict]:
        """Messages in ``channel``, oldest first, thread replies included."""
        return list(channel.messages)

    # --- the Web API ---

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08X}"

    def _ts(self) -> str:
        """Slack's message id: the posting time in microseconds, unique in the channel (here: everywhere)."""
        self._last_ts = max(self._last_ts + 1e-6, time.time())
        return f"{self._last_ts:.6f}"

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await _params(request)
        header = request.headers.get("Authorization", "")
        token = header[7:] if header.startswith("Bearer ") else params.pop("token", None)
        with self._lock:
            self.calls.append(Call(method, params, token))
            if self._limits.get(method):
                retry_after = self._limits[method].pop(0)
                return web.json_response({"ok": False, "error": "ratelimited"}, status=429,
                                         headers={"Retry-After": str(int(retry_after))})
            problems = checks.parameter_problems(self.spec, method, params)
            if problems:
                self.violations += problems
                return _error("invalid_arguments")
            fault, carried_out = self._faults[method].pop(0) if self._faults.get(method) else (None, False)
            if fault and not carried_out:
                return await _faulty(fault, None)
            if self._errors.get(method):
                return _error(self._errors[method].pop(0))
            handler = getattr(self, "_" + method.replace(".", "_"), None)
            if handler is None:
                self.violations.append(f"{method}: in the spec, but the fake does not implement it")
                return _error("unknown_method")
            team = self.tokens.get(token or "")
            if team is None and method != "oauth.v2.access":
                return _error("invalid_auth" if token else "not_authed")
            try:
                answer = web.json_response({"ok": True, **handler(params, team)})
            except SlackError as error:
                if error.code == "invalid_arguments":
                    self.violations.append(f"{method}: {error.detail}")
                return _error(error.code)
        return await _faulty(fault, answer) if fault else answer

    def _auth_test(self, params: dict, team: str) -> dict:
        return {"url": f"https://{team.lower()}.slack.example/", "team": team, "team_id": team,
                "user": "circlebot", "user_id": self.bot_user, "bot_id": "BBOT", "is_enterprise_install": False}

    def _users_info(self, params: dict, team: str) -> dict:
        user = self.users.get(params["user"])
        if user is None:
            raise SlackError("user_not_found")
        body = {"id": user.id, "team_id": user.team, "name": user.name, "real_name": user.name.title(),
                "tz": user.tz, "tz_label": user.tz, "tz_offset": 0, "is_admin": user.is_admin, "is_bot": False,
                "profile": {"display_name": user.name, "real_name": user.name.title()}}
        if params.get("include_locale") in (True, "true", "1", 1):
            body["locale"] = user.locale
        return {"user": body}

    def _conversations_create(self, params: dict, team: str) -> dict:
        name = params.get("name", "")
        if problem := checks.channel_name_problem(name):
            raise SlackError(problem)
        if any(c.name == name and c.team == team for c in self.channels.values()):
            raise SlackError("name_taken")
        channel = Channel(self._new_id("C"), name, team, _flag(params.get("is_private")), members={self.bot_user})
        self.channels[channel.id] = channel
        return {"channel": _channel_json(channel)}

    def _channel(self, params: dict, key: str = "channel", *, member: bool = True) -> Channel:
        channel = self.channels.get(params.get(key, ""))
        if channel is None:
            raise SlackError("channel_not_found")
        if member and self.bot_user not in channel.members:
            raise SlackError("not_in_channel")
        return channel

    def _conversations_invite(self, params: dict, team: str) -> dict:
        channel = self._channel(params)
        users = [u for u in str(params.get("users", "")).split(",") if u]
        if not users:
            raise SlackError("no_user")
        if self.bot_user in users:
            raise SlackError("cant_invite_self")
        if unknown := [u for u in users if u not in self.users]:
            raise SlackError("user_not_found", unknown)
        new = [u for u in users if u not in channel.members]
        if not new:
            raise SlackError("already_in_channel")
        channel.members.update(new)
        return {"channel": _channel_json(channel)}

    def _conversations_list(self, params: dict, team: str) -> dict:
        types = set(str(params.get("types") or "public_channel").split(","))
        found = [
            _channel_json(c) for c in self.channels.values()
            if c.team == team and not c.is_im and ("private_channel" if c.is_private else "public_channel") in types
            and (not c.is_private or self.bot_user in c.members)  # private channels only where the bot is
        ]
        return {"channels": found, "response_metadata": {"next_cursor": ""}}

    def _conversations_kick(self, params: dict, team: str) -> dict:
        channel = self._channel(params)
        user = params.get("user", "")
        if user == self.bot_user:
            raise SlackError("cant_kick_self")
        if user not in channel.members:
            raise SlackError("not_in_channel")
        channel.members.discard(user)
        return {}

    def _conversations_open(self, params: dict, team: str) -> dict:
        users = [u for u in str(params.get("users", "")).split(",") if u]
        if len(users) != 1 or users[0] not in self.users:
            raise SlackError("user_not_found")
        channel = self.im_of(users[0])
        if channel is None:
            channel = Channel(self._new_id("D"), "", team, True, True, {self.bot_user, users[0]})
            self.channels[channel.id] = channel
        return {"channel": {"id": channel.id}}

    def _message(self, params: dict) -> dict:
        if problems := checks.message_problems(params):
            raise SlackError("invalid_arguments", problems)
        message = {"type": "message", "user": self.bot_user, "bot_id": "BBOT", "ts": self._ts(),
                   "text": params.get("text", ""), "blocks": checks.as_json(params.get("blocks")) or []}
        if params.get("metadata"):
            message["metadata"] = checks.as_json(params["metadata"])
        return message

    def _chat_postMessage(self, params: dict, team: str) -> dict:
        channel = self._channel(params)
        message = self._message(params)
        if thread := params.get("thread_ts"):
            if not any(m["ts"] == thread for m in channel.messages):
                raise SlackError("thread_not_found")
            message["thread_ts"] = thread
        channel.messages.append(message)
        return {"channel": channel.id, "ts": message["ts"], "message": message}

    def _chat_update(self, params: dict, team: str) -> dict:
        channel = self._channel(params)
        old = next((m for m in channel.messages if m["ts"] == params["ts"]), None)
        if old is None:
            raise SlackError("message_not_found")
        new = self._message(params)
        old.update(text=new["text"], blocks=new["blocks"], edited={"user": self.bot_user})
        if "metadata" in new:
            old["metadata"] = new["metadata"]
        return {"channel": channel.id, "ts": old["ts"], "text": old["text"]}

    def _chat_postEphemeral(self, params: dict, team: str) -> dict:
        channel = self._channel(params, member=False)
        if problems := checks.message_problems(params):
            raise SlackError("invalid_arguments", problems)
        if params["user"] not in channel.members:
            raise SlackError("user_not_in_channel")
        self.ephemeral.append(params)
        return {"message_ts": self._ts()}

    def _conversations_history(self, params: dict, team: str) -> dict:
        channel = self._channel(params)
        top = [m for m in channel.messages if m.get("thread_ts", m["ts"]) == m["ts"]]
        return self._page(top, params)

    def _conversations_replies(self, params: dict, team: str) -> dict:
        channel = self._channel(params)
        thread = [m for m in channel.messages if m.get("thread_ts", m["ts"]) == params["ts"]]
        if not thread:
            raise SlackError("thread_not_found")
        return self._page(thread, params)

    @staticmethod
    def _page(messages: list[dict], params: dict) -> dict:
        oldest = float(params.get("oldest") or 0)
        limit = int(params.get("limit") or 100)
        with_metadata = _flag(params.get("include_all_metadata"))
        found = [m for m in reversed(messages) if float(m["ts"]) > oldest][:limit]
        if not with_metadata:
            found = [{k: v for k, v in m.items() if k != "metadata"} for m in found]
        return {"messages": found, "has_more": False}

    def _views_open(self, params: dict, team: str) -> dict:
        issued = self._triggers.pop(params["trigger_id"], None)
        if issued is None:
            raise SlackError("invalid_trigger_id")
        if time.monotonic() - issued > TRIGGER_LIFETIME:
            raise SlackError("expired_trigger_id")
        return {"view": self._keep_view(self._new_id("V"), params)}

    def _views_update(self, params: dict, team: str) -> dict:
        if params.get("view_id") not in self.views:
            raise SlackError("not_found")
        return {"view": self._keep_view(params["view_id"], params)}

    def _views_publish(self, params: dict, team: str) -> dict:
        if params["user_id"] not in self.users:
            raise SlackError("user_not_found")
        view = checks.as_json(params["view"])
        if problems := checks.view_problems(view):
            raise SlackError("invalid_arguments", problems)
        self.homes[params["user_id"]] = view
        return {"view": {"id": self._new_id("V"), **view}}

    def _keep_view(self, view_id: str, params: dict) -> dict:
        view = checks.as_json(params.get("view"))
        if problems := checks.view_problems(view):
            raise SlackError("invalid_arguments", problems)
        self.views[view_id] = {"id": view_id, **view}
        return self.views[view_id]

    def _files_getUploadURLExternal(self, params: dict, team: str) -> dict:
        file_id = self._new_id("F")
        self.files[file_id] = {"name": params["filename"], "length": int(params["length"]), "content": None,
                               "shared_in": None}
        return {"upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}

    def _files_completeUploadExternal(self, params: dict, team: str) -> dict:
        listed = checks.as_json(params["files"])
        for item in listed:
            file = self.files.get(item["id"])
            if file is None or file["content"] is None:
                raise SlackError("file_not_found")
        channel = self._channel(params, "channel_id") if params.get("channel_id") else None
        for item in listed:
            self.files[item["id"]]["shared_in"] = channel.id if channel else None
        if channel:
            channel.messages.append({"type": "message", "user": self.bot_user, "ts": self._ts(),
                                     "text": params.get("initial_comment", ""), "files": [i["id"] for i in listed]})
        return {"files": [{"id": i["id"], "title": i.get("title", "")} for i in listed]}

    def _oauth_v2_access(self, params: dict, team: str | None) -> dict:
        installed = self.oauth_codes.pop(params.get("code", ""), None)
        if installed is None:
            raise SlackError("invalid_code")
        token = f"xoxb-{installed}-{next(self._ids)}"
        self.tokens[token] = installed
        return {"app_id": "AFAKE", "authed_user": {"id": "UINSTALLER"}, "scope": "commands,chat:write",
                "token_type": "bot", "access_token": token, "bot_user_id": self.bot_user,
                "team": {"id": installed, "name": f"Team {installed}"}, "enterprise": None,
                "is_enterprise_install": False}

    # --- what Slack serves besides the Web API ---

    async def _upload(self, request: web.Request) -> web.Response:
        content = await request.read()
        with self._lock:
            file = self.files.get(request.match_info["file_id"])
            if file is None:
                return web.Response(status=404)
            if len(content) != file["length"]:
                self.violations.append(f"upload of {len(content)} bytes announced as {file['length']}")
            file["content"] = content
        return web.Response(text="OK")

    async def _respond(self, request: web.Request) -> web.Response:
        body = await request.json()
        with self._lock:
            if problems := checks.message_problems(body):
                self.violations += [f"response_url: {p}" for p in problems]
            self.responses.append((str(request.url), body))
            self.answered_at.setdefault(str(request.url), time.perf_counter())
        return web.Response(text="ok")

    def response_url(self) -> str:
        return f"{self.url}/respond/{next(self._ids)}"

    def responses_to(self, url: str) -> list[dict]:
        return [body for to, body in self.responses if to == url]

    # --- serving ---

    def start(self) -> FakeSlack:
        ready = threading.Event()

        def serve() -> None:
            asyncio.set_event_loop(self._loop)
            app = web.Application()
            app.router.add_route("*", "/api/{method}", self._api)
            app.router.add_post("/upload/{file_id}", self._upload)
            app.router.add_post("/respond/{n}", self._respond)
            self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
            self._loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            self._loop.run_until_complete(site.start())
            self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=serve, daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the fake Slack did not start")
        return self

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


class SlackError(Exception):
    def __init__(self, code: str, detail: Any = None):
        super().__init__(code)
        self.code = code
        self.detail = detail


async def _params(request: web.Request) -> dict[str, Any]:
    """Query, form and JSON body parameters together, as Slack reads them."""
    params: dict[str, Any] = dict(request.query)
    body = await request.read()
    if body:
        if request.content_type == "application/json":
            params.update(json.loads(body))
        else:
            params.update(parse_qsl(body.decode(), keep_blank_values=True))
    return params


FAULTS = ("500", "malformed", "silence")


async def _faulty(fault: str, answer: web.Response | None) -> web.Response:
    """The bad answer ``fault`` names, in place of ``answer`` (the call's good one, when it was carried out)."""
    if fault == "silence":
        await asyncio.sleep(3600)  # the server's shutdown ends it
    if fault == "malformed":
        body = answer.body if answer is not None else b'{"ok": true}'
        return web.Response(body=body[: len(body) // 2], content_type="application/json")
    return web.Response(status=500, text="<html><body>Internal Server Error</body></html>", content_type="text/html")


def _error(code: str) -> web.Response:
    return web.json_response({"ok": False, "error": code})


def _flag(value: Any) -> bool:
    return value in (True, 1, "1", "true", "True")


def _channel_json(channel: Channel) -> dict:
    return {"id": channel.id, "name": channel.name, "is_channel": not channel.is_private, "is_group": False,
            "is_im": channel.is_im, "is_private": channel.is_private, "is_member": True}
