"""Pacing: send no faster than a platform allows, so a big fan-out meets no 429s.

A :class:`Pacer` combines a global rate (Discord: 50 requests a second per bot)
with a minimum gap per channel (Slack: about one message a second per channel).
It runs on the event loop's monotonic clock, not the scheduler's clock: it
spaces real requests, whatever time the circles think it is.
"""

from __future__ import annotations

import asyncio


class Pacer:
    """Waits so that requests respect ``per_second`` overall and ``per_channel_gap`` per channel.

    Args:
        per_second: the global rate; ``None`` for no global limit.
        burst: how many requests may go at once after a quiet spell.
        per_channel_gap: seconds between two requests to the same channel.
    """

    def __init__(self, per_second: float | None = None, burst: int = 1, per_channel_gap: float = 0.0):
        self.interval = 1.0 / per_second if per_second else 0.0
        self.burst = burst
        self.per_channel_gap = per_channel_gap
        self._next_slot = 0.0
        self._channels: dict[str, float] = {}

    async def wait(self, channel: str | None = None) -> None:
        """Return when one more request (to ``channel``) may be made."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        at = now
        if channel is not None and self.per_channel_gap:
            at = max(at, self._channels.get(channel, 0.0))
        if self.interval:
            # Token bucket: a slot every `interval`, at most `burst` saved up.
            earliest = max(self._next_slot, now - self.interval * (self.burst - 1))
            at = max(at, earliest)
            self._next_slot = at + self.interval
        if channel is not None and self.per_channel_gap:
            self._channels[channel] = at + self.per_channel_gap
        if at > now:
            await asyncio.sleep(at - now)

    def slow_down(self, seconds: float) -> None:
        """The platform said 429: nobody sends for ``seconds``."""
        loop = asyncio.get_running_loop()
        self._next_slot = max(self._next_slot, loop.time() + seconds)
