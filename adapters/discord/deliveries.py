"""The outbox's deliveries, carried out on Discord, each exactly once.

A circle's space is a private thread (type 12): only the members added to it
(and server moderators) see it. Every message carries a nonce derived from its
outbox key with ``enforce_nonce``: a resend after a crash returns the message
the first attempt created instead of posting it twice. 403 and 404 are final
(Discord bans bots that keep making invalid requests) and so is a DM to a
member who closed theirs (code 50007): the outbox parks them. A 429 that
discord.py did not wait out itself (a wait over ``max_ratelimit_timeout``) is
handed back with its Retry-After. A delivery that takes longer than ``timeout``
(Discord does not answer), a 5xx that outlasts discord.py's own retries, and an
answer that is not JSON may each have been carried out: the retry is a resend.

:func:`platform_trace` lets the metrics see what discord.py handles on its own:
the 429s it waits out and the 5xx answers it retries.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from types import SimpleNamespace

import aiohttp
import discord
from discord.http import HTTPClient

from adapters.contract import DeliveryFailed, Outgoing, Receipt
from adapters.discord import rest
from adapters.discord.render import posts
from adapters.discord.translate import PLATFORM
from bot import effects as fx
from circlebot import metrics

log = logging.getLogger(__name__)

DMS_CLOSED = 50007
#: Seconds a delivery may take, discord.py's own rate-limit waits (30 s at most) and 5xx retries included.
TIMEOUT = 60.0


def platform_trace() -> aiohttp.TraceConfig:
    """Counts the 429s discord.py waits out and the 5xx answers it retries, which never reach the outbox."""

    async def answered(_session, _context, params: aiohttp.TraceRequestEndParams) -> None:
        status = params.response.status
        if status == 429:
            try:
                retry_after = float(params.response.headers.get("Retry-After", 0))
            except ValueError:
                retry_after = 0.0
            metrics.rate_limit_wait("429", retry_after)
        elif status >= 500:
            metrics.platform_error(PLATFORM, "5xx")
            log.warning("Discord answered %s %s with HTTP %d", params.method, params.url.path, status)

    trace = aiohttp.TraceConfig(trace_config_ctx_factory=SimpleNamespace)
    trace.on_request_end.append(answered)
    return trace


class DiscordDeliveries:
    """Implements the adapter contract's ``deliver`` for Discord.

    Args:
        http: discord.py's HTTP client (logged in).
        home_channel: where a circle's thread opens, given its id (called in a worker thread).
        community_channel: where approved stories go (default: the channel holding the circle's thread).
    """

    platform = PLATFORM

    def __init__(self, http: HTTPClient, home_channel: Callable[[str], str | None],
                 community_channel: str | None = None, timeout: float = TIMEOUT):
        self.http = http
        self.home_channel = home_channel
        self.community_channel = community_channel
        self.timeout = timeout

    async def deliver(self, outgoing: Outgoing) -> Receipt | None:
        try:
            return await asyncio.wait_for(self._deliver(outgoing), self.timeout)
        except discord.RateLimited as limited:
            raise DeliveryFailed("rate limited", retry_after=limited.retry_after) from None
        except discord.HTTPException as error:
            if error.status == 429:
                raise DeliveryFailed("rate limited", retry_after=_retry_after(error)) from None
            final = error.status in (400, 401, 403, 404)
            refused = error.code == DMS_CLOSED and isinstance(outgoing.effect, fx.DirectMessage)
            reason = f"Discord said {error.status} (code {error.code})"
            raise DeliveryFailed(reason, permanent=final, uncertain=error.status >= 500, dms_refused=refused) from None
        except json.JSONDecodeError:
            metrics.platform_error(PLATFORM, "unreadable")
            raise DeliveryFailed("Discord: an answer that is not JSON", uncertain=True) from None
        except TimeoutError:
            metrics.platform_error(PLATFORM, "timeout")
            raise DeliveryFailed(f"Discord did not answer within {self.timeout:g} s", uncertain=True) from None
        except aiohttp.ClientConnectorError as error:  # no connection: nothing reached Discord
            metrics.platform_error(PLATFORM, "unreachable")
            raise DeliveryFailed(f"Discord unreachable: {type(error).__name__}") from None
        except (aiohttp.ClientError, OSError) as error:
            metrics.platform_error(PLATFORM, "unreachable")
            raise DeliveryFailed(f"Discord unreachable: {type(error).__name__}", uncertain=True) from None

    async def _deliver(self, outgoing: Outgoing) -> Receipt | None:
        effect, locale = outgoing.effect, outgoing.locale
        match effect:
            case fx.PostToCircle():
                return await self._post(_space(outgoing), effect.key, effect.message, locale)
            case fx.PostInThread():
                earlier = outgoing.earlier
                reply_to = earlier.message if earlier else None
                return await self._post(_space(outgoing), effect.key, effect.message, locale, reply_to)
            case fx.UpdatePost():
                if outgoing.earlier is None or outgoing.earlier.message is None:
                    raise DeliveryFailed(f"no earlier post to update for {effect.key}", permanent=True)
                (first, *_more) = posts(effect.message, locale)
                await rest.edit_message(self.http, outgoing.earlier.channel, outgoing.earlier.message, first)
                return outgoing.earlier
            case fx.DirectMessage():
                channel = await rest.open_dm(self.http, effect.to.id)
                return await self._post(channel, effect.key, effect.message, locale)
            case fx.OpenSpace():
                return await self._open_space(effect, outgoing.resend)
            case fx.AddToSpace():
                await rest.add_thread_member(self.http, _space(outgoing).channel, effect.user.id)
                return None
            case fx.RemoveFromSpace():
                await rest.remove_thread_member(self.http, _space(outgoing).channel, effect.user.id)
                return None
            case fx.PostToCommunity():
                channel = self.community_channel or await rest.parent_of(self.http, _space(outgoing).channel)
                return await self._post(channel, effect.key, effect.message, locale)
            case fx.RefreshHome():
                return None  # Discord has no home tab; the circle's thread and /circle info say it all
        raise TypeError(f"the Discord adapter cannot deliver {type(effect).__name__}")

    async def _post(self, channel: str | Receipt, key: str, message: fx.Message, locale: str,
                    reply_to: str | None = None) -> Receipt:
        target = channel.channel if isinstance(channel, Receipt) else channel
        first = None
        for index, post in enumerate(posts(message, locale)):
            # One nonce per piece: a long message split in two is two messages, each sent once.
            nonce = rest.nonce_for(key if index == 0 else f"{key}#{index}")
            sent = await rest.send_message(self.http, target, post, nonce, reply_to if index == 0 else None)
            first = first or sent["id"]
        return Receipt(target, first)

    async def _open_space(self, effect: fx.OpenSpace, resend: bool) -> Receipt:
        if not effect.members:
            raise DeliveryFailed(f"{effect.circle_id}'s thread would have no members", permanent=True)
        guild = effect.members[0].workspace
        # REST, not the gateway's cache: the process delivering may not run the guild's shard.
        # A channel the moderator named (`/circle space`) holds the circle's private thread; else where it formed.
        parent = (effect.channel or await asyncio.to_thread(self.home_channel, effect.circle_id)
                  or await rest.first_text_channel(self.http, guild))
        if parent is None:
            raise DeliveryFailed(f"no text channel to open {effect.circle_id}'s thread in")
        # Threads have no nonce: after a crash, the thread an earlier attempt opened is found by its name.
        thread = await rest.find_thread(self.http, guild, parent, effect.name) if resend else None
        thread = thread or await rest.create_private_thread(self.http, parent, effect.name)
        for member in effect.members:
            await rest.add_thread_member(self.http, thread, member.id)
        return Receipt(thread)


def _space(outgoing: Outgoing) -> Receipt:
    if outgoing.space is None:
        raise DeliveryFailed(f"circle {outgoing.effect.circle_id} has no thread yet")
    return outgoing.space


def _retry_after(error: discord.HTTPException) -> float:
    try:
        return float(error.response.headers.get("Retry-After", 1))
    except (TypeError, ValueError):
        return 1.0
