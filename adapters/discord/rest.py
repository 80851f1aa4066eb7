"""The few REST calls the adapter makes, as Discord's API documents them, through discord.py's HTTP client.

discord.py builds every URL from ``Route.BASE`` and keeps its rate-limit
buckets (it waits out a 429's Retry-After itself); these functions send our own
JSON so that what goes out is exactly what the spec describes: snowflakes as
strings, components as plain dicts, a nonce with ``enforce_nonce`` on every
message so that a resend returns the earlier message instead of a second one.
"""

from __future__ import annotations

import hashlib
import io
import json
from typing import Any

import discord
from discord.http import HTTPClient, Route

from adapters.discord.render import Attachment, Post

NONCE = 25  # characters Discord keeps of a string nonce


def nonce_for(key: str) -> str:
    """The same outbox key always gives the same nonce, in whichever process sends it."""
    return hashlib.sha256(key.encode()).hexdigest()[:NONCE]


def _request(http: HTTPClient, route: Route, body: dict, attachment: Attachment | None,
             attach_to: str | None = None) -> Any:
    """JSON, or multipart with ``payload_json`` when a file rides along (``attach_to``: the key holding the message)."""
    if attachment is None:
        return http.request(route, json=body)
    holder = body[attach_to] if attach_to else body
    holder = {**holder, "attachments": [{"id": "0", "filename": attachment.filename}]}
    payload = {**body, attach_to: holder} if attach_to else holder
    file = discord.File(io.BytesIO(attachment.data), filename=attachment.filename)
    form = [{"name": "payload_json", "value": json.dumps(payload)},
            {"name": "files[0]", "value": file.fp, "filename": attachment.filename,
             "content_type": attachment.content_type}]
    return http.request(route, files=[file], form=form)


async def send_message(http: HTTPClient, channel: str, post: Post, nonce: str | None = None,
                       reply_to: str | None = None) -> dict:
    payload = dict(post.payload)
    if nonce is not None:
        payload.update(nonce=nonce, enforce_nonce=True)
    if reply_to is not None:
        payload["message_reference"] = {"message_id": reply_to, "fail_if_not_exists": False}
    route = Route("POST", "/channels/{channel_id}/messages", channel_id=channel)
    return await _request(http, route, payload, post.attachment)


async def edit_message(http: HTTPClient, channel: str, message: str, post: Post) -> dict:
    route = Route("PATCH", "/channels/{channel_id}/messages/{message_id}", channel_id=channel, message_id=message)
    return await http.request(route, json={k: v for k, v in post.payload.items() if k != "flags"})


async def open_dm(http: HTTPClient, user: str) -> str:
    """The DM channel with ``user`` (the id as a string, as the spec's snowflake requires)."""
    channel = await http.request(Route("POST", "/users/@me/channels"), json={"recipient_id": user})
    return channel["id"]


async def create_private_thread(http: HTTPClient, parent: str, name: str) -> str:
    route = Route("POST", "/channels/{channel_id}/threads", channel_id=parent)
    # Type 12 explicitly: only invited members see it, and members cannot invite others.
    body = {"name": name[:100], "type": 12, "invitable": False, "auto_archive_duration": 10080}
    return (await http.request(route, json=body))["id"]


async def parent_of(http: HTTPClient, thread: str) -> str:
    return (await http.request(Route("GET", "/channels/{channel_id}", channel_id=thread)))["parent_id"]


async def first_text_channel(http: HTTPClient, guild: str) -> str | None:
    """The guild's first text channel (type 0) by position: where a thread opens when nothing says otherwise."""
    channels = await http.request(Route("GET", "/guilds/{guild_id}/channels", guild_id=guild))
    text = sorted((c for c in channels if c["type"] == 0), key=lambda c: (c.get("position", 0), int(c["id"])))
    return text[0]["id"] if text else None


async def find_thread(http: HTTPClient, guild: str, parent: str, name: str) -> str | None:
    """An active thread of ``parent`` named ``name``: the one an earlier attempt opened, if it got that far."""
    active = await http.request(Route("GET", "/guilds/{guild_id}/threads/active", guild_id=guild))
    return next((t["id"] for t in active["threads"] if t.get("parent_id") == parent and t["name"] == name[:100]), None)


async def add_thread_member(http: HTTPClient, thread: str, user: str) -> None:
    route = Route("PUT", "/channels/{channel_id}/thread-members/{user_id}", channel_id=thread, user_id=user)
    await http.request(route)


async def remove_thread_member(http: HTTPClient, thread: str, user: str) -> None:
    route = Route("DELETE", "/channels/{channel_id}/thread-members/{user_id}", channel_id=thread, user_id=user)
    await http.request(route)


async def respond(http: HTTPClient, interaction: str, token: str, kind: int, data: dict | None = None,
                  attachment: Attachment | None = None) -> None:
    """The interaction's one callback: a message (4), deferred (5, 6), choices (8) or a modal (9)."""
    route = Route("POST", "/interactions/{webhook_id}/{webhook_token}/callback", webhook_id=interaction,
                  webhook_token=token)
    body: dict = {"type": kind}
    if data is not None:
        body["data"] = data
    await _request(http, route, body, attachment, attach_to="data" if data is not None else None)


async def follow_up(http: HTTPClient, application: str, token: str, post: Post) -> dict:
    """A message after a deferred answer, through the interaction's webhook (valid 15 minutes)."""
    route = Route("POST", "/webhooks/{webhook_id}/{webhook_token}", webhook_id=application, webhook_token=token)
    return await _request(http, route, post.payload, post.attachment)


async def put_commands(http: HTTPClient, application: str, commands: list[dict], guild: str | None = None) -> None:
    if guild:
        route = Route("PUT", "/applications/{application_id}/guilds/{guild_id}/commands", application_id=application,
                      guild_id=guild)
    else:
        route = Route("PUT", "/applications/{application_id}/commands", application_id=application)
    await http.request(route, json=commands)
