"""Deliveries to Slack: each effect becomes Web API calls, exactly once even though Slack has no idempotency key.

* Every post carries message metadata naming its outbox key. A *resend* (the
  process may have died after Slack accepted the post, before we recorded it)
  first looks for that key in the channel's history since the claim, and posts
  only if it is absent.
* slack_sdk's own retries are off for these calls: a retried post could double.
  The outbox retries; a 429's ``Retry-After`` is honoured here, once, by pausing
  the pacer and handing the wait to the outbox. An answer that leaves it unknown
  whether Slack carried the call out (a timeout, a 5xx, a body that is not JSON)
  makes the retry a resend.
* ``name_taken`` and ``already_in_channel`` (what a resend of a channel creation
  or an invitation meets) are absorbed.
* The pacer keeps to about one message a second per channel.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from adapters.contract import DeliveryFailed, Outgoing, Receipt
from adapters.slack import render as r
from bot.circle import UserRef
from bot.effects import (
    AddToSpace,
    DirectMessage,
    Message,
    OpenSpace,
    PostInThread,
    PostToCircle,
    PostToCommunity,
    RefreshHome,
    RemoveFromSpace,
    UpdatePost,
)
from adapters.pictures import render_progress_png
from circlebot import metrics
from circlebot.logs import about
from scheduler.pacing import Pacer

log = logging.getLogger(__name__)

PLATFORM = "slack"
#: Our clock and Slack's may disagree a little: look this much further back for an earlier post.
CLOCK_SKEW = timedelta(minutes=2)
#: Errors that retrying cannot fix: the outbox parks the delivery at once.
PERMANENT = frozenset({
    "channel_not_found", "is_archived", "not_in_channel", "user_not_found", "user_disabled", "cannot_dm_bot",
    "invalid_auth", "not_authed", "account_inactive", "token_revoked", "missing_scope", "no_permission",
    "restricted_action", "invalid_arguments", "invalid_blocks", "msg_too_long", "message_not_found",
    "thread_not_found", "messages_tab_disabled", "invalid_name_specials", "invalid_name_maxlength",
})
CHANNEL_NAME_ATTEMPTS = 10


def error_code(error: SlackApiError) -> str:
    """What Slack said went wrong: its error code, else the HTTP status (an answer that is not JSON has no code)."""
    response = error.response  # slack_sdk hands over the raw answer when it is not JSON
    if isinstance(response, AsyncSlackResponse) and isinstance(response.data, dict) and response.get("error"):
        return response["error"]
    return f"HTTP {getattr(response, 'status_code', None) or getattr(response, 'status', '?')}"


def count_trouble(error: Exception) -> str | None:
    """The kind of trouble Slack is in, if ``error`` shows some (counted in ``/metrics``): None for a plain refusal.

    Returns:
        ``5xx``, ``unreadable`` (an answer that is not JSON), ``timeout`` or ``unreachable``.
    """
    if isinstance(error, SlackApiError):
        if not isinstance(error.response, AsyncSlackResponse):
            kind = "unreadable"
        else:
            kind = "5xx" if error.response.status_code >= 500 else None
    elif isinstance(error, asyncio.TimeoutError):
        kind = "timeout"
    else:
        kind = "unreachable" if isinstance(error, aiohttp.ClientError) else None
    if kind:
        metrics.platform_error(PLATFORM, kind)
    return kind


class Workspaces:
    """A Web API client per workspace: the one bot token, or each workspace's installation (OAuth).

    The clients never retry on their own (``retry_handlers=[]``): the outbox owns retries.
    """

    def __init__(self, api_url: str, token: str | None = None, find_token: Callable[[str], Awaitable[str | None]] | None = None,
                 timeout: float = 30.0):
        self.api_url = api_url
        self.token = token
        self.find_token = find_token
        self.timeout = timeout  # seconds a call may take before it counts as failed (and maybe carried out)
        self._clients: dict[str, AsyncWebClient] = {}
        self._session: aiohttp.ClientSession | None = None

    def session(self) -> aiohttp.ClientSession:
        """One connection pool for every call to Slack (made in the running event loop, when first needed)."""
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        return self._session

    def _client(self, token: str) -> AsyncWebClient:
        return AsyncWebClient(token=token, base_url=self.api_url, session=self.session(), retry_handlers=[])

    async def client(self, workspace: str) -> AsyncWebClient:
        if self.token:
            return self._clients.setdefault("", self._client(self.token))
        if workspace not in self._clients:
            token = await self.find_token(workspace) if self.find_token else None
            if token is None:
                raise DeliveryFailed(f"Slack workspace {workspace} has no installation", permanent=True)
            self._clients[workspace] = self._client(token)
        return self._clients[workspace]

    def forget(self, workspace: str) -> None:
        """The workspace uninstalled the app (or revoked its tokens): no more deliveries there."""
        self._clients.pop(workspace, None)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


class SlackSender:
    """Carries out deliveries on Slack.

    Args:
        workspaces: a Web API client for each workspace.
        workspace_of: the Slack team a circle belongs to.
        home: the messages of a person's App Home tab (read under a request id), and their language.
        community_channel: where approved stories are posted.
    """

    platform = PLATFORM

    def __init__(
        self,
        workspaces: Workspaces,
        workspace_of: Callable[[str], Awaitable[str]],
        home: Callable[[UserRef, str], Awaitable[tuple[list[Message], str]]],
        community_channel: str | None = None,
        pacer: Pacer | None = None,
    ):
        self.workspaces = workspaces
        self.workspace_of = workspace_of
        self.home = home
        self.community_channel = community_channel
        self.pacer = pacer or Pacer(per_channel_gap=1.0)

    async def deliver(self, outgoing: Outgoing) -> Receipt | None:
        effect = outgoing.effect
        user = getattr(effect, "to", None) or getattr(effect, "user", None)
        workspace = user.workspace if isinstance(user, UserRef) else await self.workspace_of(effect.circle_id)
        client = await self.workspaces.client(workspace)
        try:
            return await self._deliver(client, outgoing)
        except (SlackApiError, aiohttp.ClientError, asyncio.TimeoutError) as error:
            raise self._failure(error) from None

    async def _deliver(self, client: AsyncWebClient, outgoing: Outgoing) -> Receipt | None:
        effect = outgoing.effect
        match effect:
            case PostToCircle(message=message):
                return await self._post(client, outgoing, self._space(outgoing), message)
            case PostInThread(message=message):
                if outgoing.earlier is None or outgoing.earlier.message is None:
                    # The post it answers was never sent (skipped or parked): answer in the channel itself.
                    return await self._post(client, outgoing, self._space(outgoing), message)
                return await self._post(client, outgoing, outgoing.earlier.channel, message, outgoing.earlier.message)
            case UpdatePost(message=message):
                return await self._update(client, outgoing, message)
            case DirectMessage(to=to, message=message):
                channel = (await client.conversations_open(users=to.id))["channel"]["id"]
                return await self._post(client, outgoing, channel, message)
            case PostToCommunity(message=message):
                if not self.community_channel:
                    raise DeliveryFailed("SLACK_COMMUNITY_CHANNEL is not set; the story was not posted", permanent=True)
                return await self._post(client, outgoing, self.community_channel, message)
            case OpenSpace(name=name, members=members, channel=existing):
                # The moderator may name an existing channel; otherwise the circle gets a private one of its own.
                channel = existing or await self._open_space(client, name, outgoing.resend)
                await self._invite(client, channel, [m.id for m in members], one_by_one=outgoing.resend)
                return Receipt(channel)
            case AddToSpace(user=user):
                await self._invite(client, self._space(outgoing), [user.id], one_by_one=True)
                return outgoing.space
            case RemoveFromSpace(user=user):
                try:
                    await client.conversations_kick(channel=self._space(outgoing), user=user.id)
                except SlackApiError as error:
                    if error_code(error) != "not_in_channel":
                        raise
                return outgoing.space
            case RefreshHome(user=user):
                # Each attempt reads afresh: a retried read must not count as already handled.
                messages, locale = await self.home(user, f"home:{outgoing.effect.key}:{outgoing.claimed_at.timestamp()}")
                await client.views_publish(user_id=user.id, view=r.home_view(messages, locale))
                return None
        raise TypeError(f"the Slack adapter cannot deliver {type(effect).__name__}")

    @staticmethod
    def _space(outgoing: Outgoing) -> str:
        if outgoing.space is None:
            raise DeliveryFailed(f"circle {outgoing.effect.circle_id} has no Slack channel", permanent=True)
        return outgoing.space.channel

    async def _post(
        self, client: AsyncWebClient, outgoing: Outgoing, channel: str, message: Message, thread: str | None = None
    ) -> Receipt:
        key = outgoing.effect.key
        since = outgoing.queued_at or outgoing.claimed_at
        if outgoing.resend and (ts := await self._find_post(client, channel, key, since, thread)):
            log.info("delivery %s was already posted; not posting it again", key, **about(outgoing.effect.circle_id, key))
            return Receipt(channel, ts)
        await self.pacer.wait(channel)
        posted = await client.chat_postMessage(
            channel=channel, thread_ts=thread, metadata=r.outbox_metadata(key), **r.message_payload(message, outgoing.locale)
        )
        ts = posted["ts"]
        if message.card:
            # The card in words is in the message; the picture follows in its thread.
            await client.files_upload_v2(
                channel=posted["channel"], thread_ts=ts, filename="progress.png",
                content=render_progress_png(message.card, outgoing.locale),
            )
        return Receipt(posted["channel"], ts)

    async def _find_post(
        self, client: AsyncWebClient, channel: str, key: str, since: datetime, thread: str | None
    ) -> str | None:
        """The ts of a message carrying ``key`` posted since ``since``, if Slack has one."""
        oldest = f"{(since - CLOCK_SKEW).timestamp():.6f}"  # since it was queued: no attempt came earlier
        if thread:
            found = await client.conversations_replies(channel=channel, ts=thread, oldest=oldest, include_all_metadata=True)
        else:
            found = await client.conversations_history(channel=channel, oldest=oldest, include_all_metadata=True)
        return next((m["ts"] for m in found["messages"] if r.outbox_key(m) == key), None)

    async def _update(self, client: AsyncWebClient, outgoing: Outgoing, message: Message) -> Receipt | None:
        earlier = outgoing.earlier
        if earlier is None or earlier.message is None:
            raise DeliveryFailed(f"the post {outgoing.effect.original} was never sent; nothing to update", permanent=True)
        # An update says the same thing however often it is sent: a resend needs no check.
        await self.pacer.wait(earlier.channel)
        await client.chat_update(channel=earlier.channel, ts=earlier.message, **r.message_payload(message, outgoing.locale))
        return earlier

    async def _open_space(self, client: AsyncWebClient, name: str, resend: bool) -> str:
        """A new private channel for the circle; a resend finds the one its first attempt created."""
        for attempt in range(CHANNEL_NAME_ATTEMPTS):
            wanted = r.channel_name(name, attempt)
            try:
                return (await client.conversations_create(name=wanted, is_private=True))["channel"]["id"]
            except SlackApiError as error:
                if error_code(error) != "name_taken":
                    raise
            if resend and (mine := await self._own_channel(client, wanted)):
                return mine
        raise DeliveryFailed(f"no free channel name for {name!r}", permanent=True)

    @staticmethod
    async def _own_channel(client: AsyncWebClient, name: str) -> str | None:
        """A private channel called ``name`` that the bot is in: the one an earlier attempt created."""
        cursor = None
        while True:
            page = await client.conversations_list(types="private_channel", exclude_archived=True, limit=200, cursor=cursor)
            for channel in page["channels"]:
                if channel["name"] == name:
                    return channel["id"]
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None

    @staticmethod
    async def _invite(client: AsyncWebClient, channel: str, users: list[str], *, one_by_one: bool) -> None:
        """Invite ``users``; who is already there is fine (a resend, or someone who rejoined)."""
        for group in ([u] for u in users) if one_by_one else [users]:
            if not group:
                continue
            try:
                await client.conversations_invite(channel=channel, users=",".join(group))
            except SlackApiError as error:
                if error_code(error) != "already_in_channel":
                    raise

    def _failure(self, error: SlackApiError | aiohttp.ClientError | asyncio.TimeoutError) -> DeliveryFailed:
        """The one place a failed call becomes an outbox outcome; a 429 pauses this process's sending too."""
        trouble = count_trouble(error)
        if not isinstance(error, SlackApiError):
            # With no connection at all, nothing reached Slack; otherwise it may have done it before falling silent.
            return DeliveryFailed(f"Slack did not answer: {type(error).__name__}",
                                  uncertain=not isinstance(error, aiohttp.ClientConnectorError))
        code = error_code(error)
        if trouble:  # a 5xx or an answer that is not JSON: Slack may have done it before failing to say so
            return DeliveryFailed(f"Slack: {code}", uncertain=True)
        if error.response.status_code == 429:
            retry_after = float(error.response.headers.get("Retry-After", 1))
            self.pacer.slow_down(retry_after)
            return DeliveryFailed(f"Slack rate limit ({code})", retry_after=retry_after)
        return DeliveryFailed(f"Slack: {code}", permanent=code in PERMANENT)
