"""Requests as Slack sends them to an app: slash commands, button presses, modal submissions, events.

Each is signed the way Slack signs (``X-Slack-Signature: v0=`` HMAC-SHA256 of
``v0:{timestamp}:{body}`` with the signing secret, and ``X-Slack-Request-Timestamp``),
slash commands and interactions form-encoded, events as JSON, and may carry
``X-Slack-Retry-Num`` like Slack's retries. Buttons are found in what the fake
Slack really holds (a message or a view), so a test can only press a button
the bot actually rendered.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp

from tests.fakes.slack_api import FakeSlack

APP_ID = "AFAKE"


def signature_headers(secret: str, body: bytes, timestamp: int | None = None, retry_num: int | None = None) -> dict:
    """Slack's request-signing headers for ``body``."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    headers = {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}
    if retry_num is not None:
        headers |= {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"}
    return headers


@dataclass(frozen=True)
class Sent:
    """What the app answered, and the ids Slack gave the request."""

    status: int
    body: str
    trigger_id: str | None = None
    response_url: str | None = None

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class SignedRequests:
    """Sends signed requests to the app at ``url`` (its ``/slack/events``) as ``fake``'s workspace.

    Args:
        url: where the app listens, e.g. ``http://127.0.0.1:3000/slack/events``.
        secret: the signing secret the app was given.
        fake: the fake Slack, which issues trigger ids and holds messages and views.
    """

    def __init__(self, url: str, secret: str, fake: FakeSlack, team: str | None = None):
        self.url = url
        self.secret = secret
        self.fake = fake
        self.team = team or fake.team
        self._session: aiohttp.ClientSession | None = None

    async def post(self, body: bytes, content_type: str, headers: dict) -> Sent:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        async with self._session.post(self.url, data=body, headers={"Content-Type": content_type, **headers}) as r:
            return Sent(r.status, await r.text())

    async def command(self, user: str, text: str, channel: str = "C0GENERAL", *, retry_num: int | None = None,
                      trigger_id: str | None = None, response_url: str | None = None) -> Sent:
        """``/circle <text>`` typed by ``user`` in ``channel``; a retry passes the first one's ids."""
        trigger_id = trigger_id or self.fake.new_trigger()
        response_url = response_url or self.fake.response_url()
        form = {
            "token": "verification-token-unused", "team_id": self.team, "team_domain": "fake",
            "channel_id": channel, "channel_name": "general", "user_id": user, "user_name": self._name(user),
            "command": "/circle", "text": text, "api_app_id": APP_ID, "is_enterprise_install": "false",
            "response_url": response_url, "trigger_id": trigger_id,
        }
        sent = await self._form(urlencode(form).encode(), retry_num)
        return Sent(sent.status, sent.body, trigger_id, response_url)

    async def press(self, user: str, where: dict, label: str, *, channel: str | None = None,
                    retry_num: int | None = None, trigger_id: str | None = None, action_ts: str | None = None) -> Sent:
        """Press the button labelled ``label`` in ``where``: a message (give its ``channel``) or a view."""
        block, button = _find_button(where, label)
        trigger_id = trigger_id or self.fake.new_trigger()
        payload: dict[str, Any] = {
            "type": "block_actions", "user": self._user(user), "api_app_id": APP_ID, "token": "unused",
            "trigger_id": trigger_id, "team": {"id": self.team, "domain": "fake"}, "enterprise": None,
            "is_enterprise_install": False,
            "actions": [{"type": "button", "block_id": block.get("block_id", ""), "action_id": button["action_id"],
                         "text": button["text"], "value": button.get("value", ""),
                         "action_ts": action_ts or f"{time.time():.6f}"}],
        }
        response_url = None
        if channel is not None:
            response_url = self.fake.response_url()
            payload |= {"container": {"type": "message", "message_ts": where["ts"], "channel_id": channel,
                                      "is_ephemeral": False},
                        "channel": {"id": channel, "name": "circle"}, "message": where, "response_url": response_url,
                        "state": {"values": {}}}
        else:
            payload |= {"container": {"type": "view", "view_id": where.get("id", "")}, "view": where}
        sent = await self._form(urlencode({"payload": json.dumps(payload)}).encode(), retry_num)
        return Sent(sent.status, sent.body, trigger_id, response_url)

    async def shortcut(self, user: str, message: dict, channel: str, callback_id: str, *,
                       trigger_id: str | None = None) -> Sent:
        """``user`` runs the message shortcut ``callback_id`` on ``message`` in ``channel`` (a message_action)."""
        trigger_id = trigger_id or self.fake.new_trigger()
        response_url = self.fake.response_url()
        payload = {
            "type": "message_action", "callback_id": callback_id, "user": self._user(user), "api_app_id": APP_ID,
            "token": "unused", "trigger_id": trigger_id, "team": {"id": self.team, "domain": "fake"},
            "channel": {"id": channel, "name": "circle"}, "message": message, "message_ts": message["ts"],
            "action_ts": f"{time.time():.6f}", "response_url": response_url, "is_enterprise_install": False,
            "enterprise": None,
        }
        sent = await self._form(urlencode({"payload": json.dumps(payload)}).encode(), None)
        return Sent(sent.status, sent.body, trigger_id, response_url)

    async def submit(self, user: str, view_id: str, answers: list[str], *, retry_num: int | None = None) -> Sent:
        """Submit the modal ``view_id`` (as the fake holds it) with one answer per input, in order."""
        view = self.fake.views[view_id]
        inputs = [b for b in view["blocks"] if b["type"] == "input"]
        if len(inputs) != len(answers):
            raise AssertionError(f"the modal has {len(inputs)} inputs, the test gave {len(answers)} answers")
        values = {b["block_id"]: {b["element"]["action_id"]: {"type": "plain_text_input", "value": a}}
                  for b, a in zip(inputs, answers)}
        payload = {
            "type": "view_submission", "team": {"id": self.team, "domain": "fake"}, "user": self._user(user),
            "api_app_id": APP_ID, "token": "unused", "trigger_id": self.fake.new_trigger(),
            "view": {**view, "team_id": self.team, "state": {"values": values}, "hash": "h1", "app_id": APP_ID},
            "response_urls": [], "is_enterprise_install": False, "enterprise": None,
        }
        return await self._form(urlencode({"payload": json.dumps(payload)}).encode(), retry_num)

    async def event(self, event: dict, *, event_id: str, retry_num: int | None = None) -> Sent:
        """An Events API callback carrying ``event``."""
        envelope = {
            "token": "unused", "team_id": self.team, "api_app_id": APP_ID, "event": event,
            "type": "event_callback", "event_id": event_id, "event_time": int(time.time()),
            "authorizations": [{"team_id": self.team, "user_id": self.fake.bot_user, "is_bot": True,
                                "is_enterprise_install": False, "enterprise_id": None}],
            "is_ext_shared_channel": False,
        }
        body = json.dumps(envelope).encode()
        return await self.post(body, "application/json", signature_headers(self.secret, body, retry_num=retry_num))

    async def _form(self, body: bytes, retry_num: int | None) -> Sent:
        headers = signature_headers(self.secret, body, retry_num=retry_num)
        return await self.post(body, "application/x-www-form-urlencoded", headers)

    def _name(self, user: str) -> str:
        known = self.fake.users.get(user)
        return known.name if known else user.lower()

    def _user(self, user: str) -> dict:
        return {"id": user, "username": self._name(user), "name": self._name(user), "team_id": self.team}

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


def _find_button(where: dict, label: str) -> tuple[dict, dict]:
    for block in where.get("blocks", []):
        for element in [*block.get("elements", []), block.get("accessory") or {}]:
            if element.get("type") == "button" and element["text"]["text"] == label:
                return block, element
    raise AssertionError(f"no button {label!r} in {[b.get('type') for b in where.get('blocks', [])]}")
