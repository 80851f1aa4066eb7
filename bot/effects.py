"""What the core asks the outside world to do, as plain frozen data.

Two families:

* *Responses* (:class:`Reply`, :class:`OpenForm`) answer the person who issued a
  command, at once (Slack and Discord give 3 seconds).
* *Deliveries* (:class:`PostToCircle`, :class:`DirectMessage`, :class:`OpenSpace`,
  :class:`AddToSpace`, :class:`RemoveFromSpace`) carry a unique ``key`` and go
  through the outbox, which sends each exactly once, in order.

:class:`WakeAt` tells the scheduler when the circle next needs a clock tick.
Every adapter must render every type; one it cannot is a bug, not a skip.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Union

from bot.circle import UserRef
from bot.i18n import Text


@dataclass(frozen=True)
class Button:
    """A button that, when pressed, runs ``command`` (``/circle`` grammar) as the presser."""

    label: Text | str
    command: str


@dataclass(frozen=True)
class Message:
    """A message: an optional title, lines of text, and buttons."""

    lines: tuple[Text | str, ...]
    title: Text | None = None
    buttons: tuple[Button, ...] = ()


@dataclass(frozen=True)
class FormField:
    name: str
    label: Text | str
    multiline: bool = True
    required: bool = True


@dataclass(frozen=True)
class Reply:
    """A private answer to the person who issued a command."""

    to: UserRef
    message: Message


@dataclass(frozen=True)
class OpenForm:
    """Ask ``to`` to fill in a form; submitting it runs ``submit`` with the answers.

    Attributes:
        submit: the subcommand the answers go to, e.g. ``checkin``; answers are
            joined with `` | `` in field order.
    """

    to: UserRef
    circle_id: str
    title: Text
    fields: tuple[FormField, ...]
    submit: str
    intro: Text | None = None


@dataclass(frozen=True)
class PostToCircle:
    """Post in the circle's private space."""

    key: str
    circle_id: str
    message: Message


@dataclass(frozen=True)
class DirectMessage:
    """A private message; ``not_before`` holds it back until the recipient's quiet hours end."""

    key: str
    circle_id: str
    to: UserRef
    message: Message
    not_before: datetime | None = None


@dataclass(frozen=True)
class OpenSpace:
    """Create the circle's private space (a private channel or thread) for ``members``."""

    key: str
    circle_id: str
    name: str
    members: tuple[UserRef, ...]


@dataclass(frozen=True)
class AddToSpace:
    key: str
    circle_id: str
    user: UserRef


@dataclass(frozen=True)
class RemoveFromSpace:
    key: str
    circle_id: str
    user: UserRef


@dataclass(frozen=True)
class WakeAt:
    """The circle needs a clock tick at ``at`` (``None``: nothing is planned)."""

    circle_id: str
    at: datetime | None


Delivery = Union[PostToCircle, DirectMessage, OpenSpace, AddToSpace, RemoveFromSpace]
Response = Union[Reply, OpenForm]
Effect = Union[Delivery, Response, WakeAt]

DELIVERY_TYPES: tuple[type, ...] = (PostToCircle, DirectMessage, OpenSpace, AddToSpace, RemoveFromSpace)
RESPONSE_TYPES: tuple[type, ...] = (Reply, OpenForm)
