"""What an adapter hands the core: who, what they did, and the platform's id for it.

A person types a command (:class:`Typed`), presses a button (:class:`Pressed`)
or submits a form (:class:`Submitted`), or reports a message with the platform's message action
(:class:`ReportedMessage`). Pressed and submitted actions arrive
encoded, exactly as the platform returned them, and are decoded and checked by
the service like a typed command. Every :class:`Request` carries the platform's
own id for it (Slack's trigger or event id, Discord's interaction id, the
console's line number), so a retried request has one effect.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from bot.circle import Actor


@dataclass(frozen=True)
class Typed:
    """A ``/circle ...`` line, with or without the prefix."""

    text: str


@dataclass(frozen=True)
class Pressed:
    """A button press; ``action`` is the encoded action the button carried."""

    action: str


@dataclass(frozen=True)
class Submitted:
    """A submitted form: its encoded action, and one answer per field, in order."""

    action: str
    answers: tuple[str, ...]


@dataclass(frozen=True)
class ReportedMessage:
    """A message reported through the platform's message action (Slack's message shortcut, Discord's context menu).

    Attributes:
        author: the platform's id of the person who wrote it.
        text: what it says.
        link: where it is (a permalink, or the platform's reference to it).
    """

    author: str
    text: str
    link: str


Input = Union[Typed, Pressed, Submitted, ReportedMessage]


@dataclass(frozen=True)
class Request:
    """One thing a person did.

    Attributes:
        actor: who, as the platform knows them.
        input: what they did.
        request_id: the platform's id for this request; the same id twice has one effect.
        channel: the platform channel (or thread) it happened in, if any; a command typed
            in a circle's space acts on that circle.
        home: where a circle this request forms should have its space, on platforms that open
            it inside a channel (Discord: the text channel it was typed in, or the one holding
            that thread); kept with the new circle.
    """

    actor: Actor
    input: Input
    request_id: str
    channel: str | None = None
    home: str | None = None
