"""Commands: what a person asked for, parsed, as frozen data.

Every command that acts on one circle has a ``circle`` field: the circle the
person named (``#career``), or ``None`` to let the service pick it from the
place the command was typed or from the person's only circle.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.circle import Slot


@dataclass(frozen=True)
class Help:
    pass


@dataclass(frozen=True)
class NewCircle:
    name: str
    kit: str
    tz: str
    slot: Slot
    capacity: int = 5


@dataclass(frozen=True)
class ListCircles:
    pass


@dataclass(frozen=True)
class CircleCommand:
    """Base of the commands that act on one circle."""

    circle: str | None


@dataclass(frozen=True)
class ModeratorCommand(CircleCommand):
    """Base of the commands only the circle's moderator or a workspace admin may run."""


@dataclass(frozen=True)
class Join(CircleCommand):
    pass


@dataclass(frozen=True)
class Leave(CircleCommand):
    pass


@dataclass(frozen=True)
class Info(CircleCommand):
    pass


@dataclass(frozen=True)
class Next(CircleCommand):
    pass


@dataclass(frozen=True)
class Start(ModeratorCommand):
    pass


@dataclass(frozen=True)
class Pause(ModeratorCommand):
    weeks: int | None = None


@dataclass(frozen=True)
class Resume(ModeratorCommand):
    pass


@dataclass(frozen=True)
class Skip(ModeratorCommand):
    pass


@dataclass(frozen=True)
class Reschedule(ModeratorCommand):
    slot: Slot


@dataclass(frozen=True)
class Remove(ModeratorCommand):
    member: str


@dataclass(frozen=True)
class HandOver(ModeratorCommand):
    member: str


@dataclass(frozen=True)
class Close(ModeratorCommand):
    pass


@dataclass(frozen=True)
class Attend(CircleCommand):
    """Will the person be at the next meeting?"""

    going: bool


@dataclass(frozen=True)
class Away(CircleCommand):
    """Away until a date (inclusive): no DMs meanwhile. ``None`` means back now."""

    until: date | None = None


@dataclass(frozen=True)
class CheckInCommand(CircleCommand):
    """Answers to this week's check-in questions; none opens the form."""

    answers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Commit(CircleCommand):
    text: str


@dataclass(frozen=True)
class Journal(CircleCommand):
    """The asker's own history in the circle: commitments and check-ins, week by week."""


@dataclass(frozen=True)
class Struggling(CircleCommand):
    """Mark this week red: the moderator is told privately, the member gets support resources."""

    note: str = ""


@dataclass(frozen=True)
class Attended(CircleCommand):
    """Record who was at the last meeting: yourself, or (moderator) the members named."""

    members: tuple[str, ...] = ()


Command = Help | NewCircle | ListCircles | CircleCommand
