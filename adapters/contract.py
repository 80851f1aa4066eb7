"""The one contract every adapter keeps (console, Slack, Discord).

An adapter does two things:

* **In**: it turns what a person did into a :class:`~bot.inputs.Request` (a typed
  line, a pressed button's encoded action, a submitted form's answers, with the
  platform's request id and channel), awaits
  :meth:`circlebot.service.CommandService.ahandle`, and renders the responses it
  gets back (:class:`~bot.effects.Reply` ephemeral or direct, as its
  ``visibility`` says; :class:`~bot.effects.OpenForm`; :class:`~bot.effects.SendFile`).
* **Out**: the outbox hands it one :class:`Outgoing` at a time; it carries the
  delivery out and returns a :class:`Receipt` naming where the platform put it,
  or raises :class:`DeliveryFailed`.

Every adapter renders every effect type; ``tests/test_contract.py`` fails for
one that does not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.effects import Delivery


class DeliveryFailed(Exception):
    """The platform did not accept a delivery.

    Args:
        reason: what went wrong, for the log (never a token).
        retry_after: seconds the platform asked us to wait (HTTP 429).
        permanent: retrying cannot help (403, 404, unknown channel).
        uncertain: the platform may have carried it out all the same (a timeout, a 5xx, an
            answer that could not be read): the retry is a resend, which the adapter makes idempotent.
        dms_refused: the recipient of a direct message does not accept the bot's (they closed
            their DMs). Final: the delivery is parked, and the person is told in their circle's
            space the next time they act there (see :class:`~bot.effects.ToldOfClosedDms`).
    """

    def __init__(self, reason: str, *, retry_after: float | None = None, permanent: bool = False,
                 uncertain: bool = False, dms_refused: bool = False):
        super().__init__(reason)
        self.retry_after = retry_after
        self.permanent = permanent or dms_refused
        self.uncertain = uncertain
        self.dms_refused = dms_refused


@dataclass(frozen=True)
class Receipt:
    """Where a delivery landed: the platform's channel (or thread) id, and its message id when it made one."""

    channel: str
    message: str | None = None


@dataclass(frozen=True)
class Outgoing:
    """One delivery, with what the adapter needs to carry it out.

    Attributes:
        effect: what to deliver.
        resend: an earlier attempt may have reached the platform (the process died
            before recording it); the adapter must not post it twice.
        claimed_at: when this attempt was claimed; a resend looks for the earlier
            attempt from the time it was first queued.
        platform: the adapter that delivers it.
        space: the circle's space, once :class:`~bot.effects.OpenSpace` made it.
        earlier: the receipt of the post an :class:`~bot.effects.UpdatePost` or
            :class:`~bot.effects.PostInThread` names (``None``: it never went out).
        locale: the reader's language (the recipient's for a DM, the circle's for a post).
        tz: the reader's time zone.
        queued_at: when the delivery was queued.
    """

    effect: Delivery
    resend: bool
    claimed_at: datetime
    platform: str
    space: Receipt | None
    earlier: Receipt | None
    locale: str
    tz: str
    queued_at: datetime | None = None


class Adapter(Protocol):
    """What the scheduler needs of an adapter."""

    platform: str

    async def deliver(self, outgoing: Outgoing) -> Receipt | None:
        """Carry out one delivery; raise ``DeliveryFailed`` when the platform did not accept it."""
        ...


class AdapterRouter:
    """Several adapters in one process (Slack and Discord): each delivery goes to its platform's.

    Raises ``DeliveryFailed`` (permanent) for a platform with no adapter here, so the
    row is parked and logged rather than retried forever.
    """

    platform = "*"

    def __init__(self, adapters: Mapping[str, Adapter]):
        self.adapters = dict(adapters)

    async def deliver(self, outgoing: Outgoing) -> Receipt | None:
        adapter = self.adapters.get(outgoing.platform)
        if adapter is None:
            raise DeliveryFailed(f"no {outgoing.platform or 'unknown'} adapter runs here", permanent=True)
        return await adapter.deliver(outgoing)
