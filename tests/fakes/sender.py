"""A sender that records every delivery, and can be told to fail."""

from __future__ import annotations

from collections import deque

from itertools import count

from adapters.contract import DeliveryFailed, Outgoing, Receipt
from bot.effects import Delivery, DirectMessage


class RecordingSender:
    """Records deliveries in order, as an adapter would get them; ``failures`` are raised first, one per call."""

    platform = "test"

    def __init__(self, failures: list[DeliveryFailed] | None = None):
        self.delivered: list[Delivery] = []
        self.outgoing: list[Outgoing] = []
        self.resent: list[str] = []
        self.failures = deque(failures or [])
        self._ids = count(1)

    async def deliver(self, outgoing: Outgoing) -> Receipt:
        if self.failures:
            raise self.failures.popleft()
        effect = outgoing.effect
        if outgoing.resend:
            self.resent.append(effect.key)
        self.delivered.append(effect)
        self.outgoing.append(outgoing)
        if isinstance(effect, DirectMessage):
            channel = f"D-{effect.to.id}"
        else:  # the circle's channel, or the existing one its moderator named
            channel = getattr(effect, "channel", None) or f"C-{effect.circle_id}"
        return Receipt(channel, str(next(self._ids)))

    @property
    def keys(self) -> list[str]:
        return [effect.key for effect in self.delivered]
