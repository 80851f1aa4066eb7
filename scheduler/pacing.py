"""Pacing: send no faster than a platform allows, so a big fan-out meets no 429s.

A :class:`Pacer` combines a global rate (Discord: 50 requests a second per bot)
with a minimum gap per channel (Slack: about one message a second per channel).
It runs on the event loop's monotonic clock, not the scheduler's clock: it
spaces real requests, whatever time the circles think it is.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from circlebot import metrics


class Pacer:
    """Waits so that requests respect ``per_second`` overall and ``per_channel_gap`` per channel.

    Args:
        per_second: the global rate; ``None`` for no global limit.
        burst: how many requests may go at once after a quiet spell.
        per_channel_gap: seconds between two requests to the same channel.
    """

    def __init__(
        self,
        per_second: float | None = None,
        burst: int = 1,
        per_channel_gap: float = 0.0,
        monotonic: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ):
        self.interval = 1.0 / per_second if per_second else 0.0
        self.burst = burst
        self.per_channel_gap = per_channel_gap
        self.monotonic = monotonic or (lambda: asyncio.get_running_loop().time())
        self.sleep = sleep
        self._tat = 0.0  # theoretical arrival time of the next request (GCRA)
        self._paused_until = 0.0
        self._channels: dict[str, float] = {}

    async def wait(self, channel: str | None = None) -> None:
        """Return when one more request (to ``channel``) may be made."""
        now = self.monotonic()
        at = max(now, self._paused_until)
        if channel is not None and self.per_channel_gap:
            at = max(at, self._channels.get(channel, 0.0))
        if self.interval:
            # Generic cell rate algorithm: one slot per interval, up to `burst` saved up.
            tat = max(self._tat, at)
            at = max(at, tat - self.interval * (self.burst - 1))
            self._tat = tat + self.interval
        if channel is not None and self.per_channel_gap:
            self._channels[channel] = at + self.per_channel_gap
        if at > now:
            metrics.rate_limit_wait("429" if self._paused_until > now else "pace", at - now)
            await self.sleep(at - now)

    def slow_down(self, seconds: float) -> None:
        """The platform said 429: nobody sends for ``seconds``."""
        self._paused_until = max(self._paused_until, self.monotonic() + seconds)
