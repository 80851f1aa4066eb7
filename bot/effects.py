"""What the core asks the outside world to do, as plain frozen data.

Two families:

* *Responses* (:class:`Reply`, :class:`OpenForm`, :class:`SendFile`) answer the
  person who issued a command, at once (Slack and Discord give 3 seconds). A
  reply says how private and lasting it is (:class:`Visibility`).
* *Deliveries* (:class:`PostToCircle`, :class:`PostInThread`, :class:`UpdatePost`,
  :class:`DirectMessage`, :class:`OpenSpace`, :class:`AddToSpace`,
  :class:`RemoveFromSpace`, :class:`PostToCommunity`, :class:`RefreshHome`) carry a
  unique ``key`` and go through the outbox, which sends each exactly once, in
  order, and keeps the platform's receipt (channel and message ids), so a later
  delivery can name an earlier post by its key.

:class:`WakeAt` tells the scheduler when the circle next needs a clock tick; :class:`ToldOfClosedDms`
tells storage that a person has heard their DMs are refused.
Every adapter must render every type; one it cannot is a bug, not a skip.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Union

from bot.actions import Action
from bot.circle import Rsvp, UserRef
from bot.i18n import Text


@dataclass(frozen=True)
class Button:
    """A button; pressing it runs ``action`` as the presser, checked like a typed command."""

    label: Text | str
    action: Action


@dataclass(frozen=True)
class ProgressCell:
    """What one member did in one week.

    Attributes:
        attendance: the week's attendance record (going, not going, attended), or
            ``None`` when there is none.
    """

    checked_in: bool = False
    committed: bool = False
    attendance: Rsvp | None = None


@dataclass(frozen=True)
class ProgressRow:
    """One member's weeks, in the order of :attr:`ProgressCard.weeks`."""

    name: str
    cells: tuple[ProgressCell, ...]


@dataclass(frozen=True)
class ProgressCard:
    """A circle's weeks × members as data; adapters draw it as a picture."""

    title: Text
    weeks: tuple[int, ...]
    rows: tuple[ProgressRow, ...]


@dataclass(frozen=True)
class Message:
    """A message: an optional title, lines of text, buttons, and a picture.

    Attributes:
        card: a progress card to draw with the message; ``lines`` always say
            the same in words, for screen readers and text-only adapters.
    """

    lines: tuple[Text | str, ...]
    title: Text | None = None
    buttons: tuple[Button, ...] = ()
    card: ProgressCard | None = None


@dataclass(frozen=True)
class FormField:
    name: str
    label: Text | str
    multiline: bool = True
    required: bool = True


class Visibility(str, enum.Enum):
    """How private and how lasting a reply is."""

    EPHEMERAL = "ephemeral"  # shown only now, only to this person (Slack's ephemeral, Discord's flag 64)
    DIRECT = "direct"  # a direct message that stays (a long text worth keeping)


@dataclass(frozen=True)
class Reply:
    """A private answer to the person who issued a command."""

    to: UserRef
    message: Message
    visibility: Visibility = Visibility.EPHEMERAL


@dataclass(frozen=True)
class OpenForm:
    """Ask ``to`` to fill in a form; submitting it runs ``action`` with the answers.

    Attributes:
        action: what the answers are for, naming the circle and week the form was
            opened for; the answers come back as a list, one per field, in order.
    """

    to: UserRef
    circle_id: str
    title: Text
    fields: tuple[FormField, ...]
    action: Action
    intro: Text | None = None


@dataclass(frozen=True)
class SendFile:
    """A file for the person who issued a command, e.g. their data export; it stays, as a direct message.

    Attributes:
        filename: a plain file name, no folders.
        content: the file's text (UTF-8).
        note: a line to show with the file.
    """

    to: UserRef
    filename: str
    content: str
    note: Text | None = None
    visibility: Visibility = Visibility.DIRECT


@dataclass(frozen=True)
class PostToCircle:
    """Post in the circle's private space."""

    key: str
    circle_id: str
    message: Message


@dataclass(frozen=True)
class PostInThread:
    """Post in the thread of an earlier post in the circle's space (``parent``: that post's key)."""

    key: str
    circle_id: str
    parent: str
    message: Message


@dataclass(frozen=True)
class UpdatePost:
    """Replace the content of an earlier post (``original``: its key), e.g. "3 coming" on the weekly post."""

    key: str
    circle_id: str
    original: str
    message: Message


@dataclass(frozen=True)
class RefreshHome:
    """The person's home view (Slack's App Home) is out of date; platforms without one show nothing."""

    key: str
    circle_id: str
    user: UserRef


@dataclass(frozen=True)
class PostToCommunity:
    """Post in the workspace's community space, outside every circle (a story both author and moderator approved)."""

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
    """Create the circle's private space (a private channel or thread) for ``members``.

    Attributes:
        channel: an existing channel (its platform id) to use instead of making one; the members are added to it.
    """

    key: str
    circle_id: str
    name: str
    members: tuple[UserRef, ...]
    channel: str | None = None


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
class ToldOfClosedDms:
    """``user`` was told in a circle's space that their DMs are refused: forget the refusal, so it is said once."""

    user: UserRef


@dataclass(frozen=True)
class WakeAt:
    """The circle needs a clock tick at ``at`` (``None``: nothing is planned)."""

    circle_id: str
    at: datetime | None


Delivery = Union[
    PostToCircle, PostInThread, UpdatePost, DirectMessage, OpenSpace, AddToSpace, RemoveFromSpace, PostToCommunity,
    RefreshHome,
]
Response = Union[Reply, OpenForm, SendFile]
Effect = Union[Delivery, Response, WakeAt, ToldOfClosedDms]

DELIVERY_TYPES: tuple[type, ...] = (
    PostToCircle, PostInThread, UpdatePost, DirectMessage, OpenSpace, AddToSpace, RemoveFromSpace, PostToCommunity,
    RefreshHome,
)
RESPONSE_TYPES: tuple[type, ...] = (Reply, OpenForm, SendFile)
#: Effects the scheduler must hear about: something to send, or a new next wake.
SCHEDULING_TYPES: tuple[type, ...] = (*DELIVERY_TYPES, WakeAt)
