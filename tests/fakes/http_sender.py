"""A sender that posts to :class:`tests.fakes.platform.FakePlatform` over HTTP, paced.

It sends a nonce derived from the delivery key with ``enforce_nonce``, as the
Discord adapter does, so a resend after a crash cannot create a second message.
"""

from __future__ import annotations

import hashlib

import aiohttp

from adapters.contract import DeliveryFailed, Outgoing, Receipt
from bot.effects import DirectMessage
from scheduler.pacing import Pacer


def nonce_for(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:25]


class HttpSender:
    def __init__(self, base_url: str, pacer: Pacer | None = None, connections: int = 64):
        self.base_url = base_url
        self.pacer = pacer or Pacer()
        self.connections = connections
        self._session: aiohttp.ClientSession | None = None

    async def deliver(self, outgoing: Outgoing) -> Receipt:
        effect = outgoing.effect
        channel = f"dm:{effect.to.key}" if isinstance(effect, DirectMessage) else effect.circle_id
        await self.pacer.wait(channel)
        if self._session is None:
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=self.connections))
        body = {"channel": channel, "key": effect.key, "nonce": nonce_for(effect.key), "enforce_nonce": True}
        try:
            async with self._session.post(f"{self.base_url}/api/messages", json=body) as response:
                if response.status == 429:
                    retry_after = float((await response.json())["retry_after"])
                    self.pacer.slow_down(retry_after)
                    raise DeliveryFailed("429 rate limited", retry_after=retry_after)
                if response.status >= 500:
                    raise DeliveryFailed(f"HTTP {response.status}")
                if response.status >= 400:
                    raise DeliveryFailed(f"HTTP {response.status}", permanent=True)
        except aiohttp.ClientError as error:
            raise DeliveryFailed(f"connection: {error.__class__.__name__}") from None
        return Receipt(channel)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
