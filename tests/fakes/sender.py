"""A sender that records every delivery, and can be told to fail."""

from __future__ import annotations

from collections import deque

from bot.effects import Delivery
from scheduler.delivery import DeliveryFailed


class RecordingSender:
    """Records deliveries in order; ``failures`` are raised first, one per call."""

    def __init__(self, failures: list[DeliveryFailed] | None = None):
        self.delivered: list[Delivery] = []
        self.resent: list[str] = []
        self.failures = deque(failures or [])

    async def deliver(self, effect: Delivery, *, resend: bool = False) -> None:
        if self.failures:
            raise self.failures.popleft()
        if resend:
            self.resent.append(effect.key)
        self.delivered.append(effect)

    @property
    def keys(self) -> list[str]:
        return [effect.key for effect in self.delivered]
