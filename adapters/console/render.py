"""Core effects as terminal text.

Buttons become numbered choices (``[3] Check in``) that a person picks with
``/press 3``; the console remembers which encoded action each number stands for.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import count
from pathlib import Path

from bot.actions import encode_action
from bot.effects import (
    AddToSpace,
    DirectMessage,
    Message,
    OpenForm,
    OpenSpace,
    PostInThread,
    PostToCircle,
    PostToCommunity,
    ProgressCard,
    RefreshHome,
    RemoveFromSpace,
    Reply,
    SendFile,
    UpdatePost,
    Visibility,
)
from bot.i18n import render
from adapters.pictures import render_progress_png

INDENT = "    "
#: Where stories approved for sharing beyond their circle appear.
COMMUNITY = "#community"


class PictureFolder:
    """Where the console saves the pictures messages carry, as ``progress-<n>.png``."""

    def __init__(self, folder: Path):
        self.folder = folder

    def save(self, card: ProgressCard, locale: str) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        # The next free number, so a folder reused across sessions keeps the earlier pictures.
        path = next(path for n in count(1) if not (path := self.folder / f"progress-{n}.png").exists())
        path.write_bytes(render_progress_png(card, locale))
        return path


class Choices:
    """The buttons shown so far, numbered in order; a number stands for the button's encoded action."""

    def __init__(self) -> None:
        self.actions: list[str] = []

    def add(self, action: str) -> int:
        self.actions.append(action)
        return len(self.actions)

    def get(self, number: int) -> str | None:
        return self.actions[number - 1] if 1 <= number <= len(self.actions) else None


def message_lines(
    message: Message, locale: str, pictures: PictureFolder | None = None, choices: Choices | None = None
) -> list[str]:
    """The message as text; its picture, if any, is saved in ``pictures``; its buttons numbered in ``choices``."""
    lines = [f"== {render(message.title, locale)} =="] if message.title else []
    if message.card:
        lines.append(f"[picture: {pictures.save(message.card, locale) if pictures else 'not saved'}]")
    lines += [render(line, locale) for line in message.lines]
    if message.buttons and choices is not None:
        numbered = [f"[{choices.add(encode_action(b.action))}] {render(b.label, locale)}" for b in message.buttons]
        lines.append(" ".join(numbered) + "   (pick one with /press <number>)")
    return lines


def form_lines(form: OpenForm, locale: str) -> list[str]:
    lines = [f"== {render(form.title, locale)} =="]
    if form.intro:
        lines.append(render(form.intro, locale))
    lines += [f"{n}. {render(f.label, locale)}" for n, f in enumerate(form.fields, start=1)]
    lines.append("(I will ask each question in turn; an empty line keeps your earlier answer; /cancel stops)")
    return lines


def effect_lines(
    effect,
    locale: str,
    pictures: PictureFolder | None = None,
    *,
    handle_of: Callable[[str], str],
    choices: Choices | None = None,
) -> tuple[str, list[str]]:
    """A header naming where the effect appears, and its body lines (pictures saved in ``pictures``).

    ``handle_of`` gives a circle's handle (``crew`` for ``#crew``) from its id.

    Raises:
        TypeError: an effect type the console does not know, so tests catch it.
    """
    def lines(message: Message) -> list[str]:
        return message_lines(message, locale, pictures, choices)

    match effect:
        case Reply(to=to, message=message, visibility=Visibility.EPHEMERAL):
            return f"(only {to.id} sees this)", lines(message)
        case Reply(to=to, message=message):
            return f"DM to {to.id} (kept)", lines(message)
        case OpenForm(to=to):
            return f"(form for {to.id})", form_lines(effect, locale)
        case PostToCircle(circle_id=circle_id, message=message):
            return f"#{handle_of(circle_id)}", lines(message)
        case PostInThread(circle_id=circle_id, message=message):
            return f"#{handle_of(circle_id)} (in the thread of the week's post)", lines(message)
        case UpdatePost(circle_id=circle_id, message=message):
            return f"#{handle_of(circle_id)} (an earlier post now reads)", lines(message)
        case PostToCommunity(message=message):
            return COMMUNITY, lines(message)
        case SendFile(to=to, filename=filename, content=content, note=note):
            note_lines = [render(note, locale)] if note else []
            return f"DM to {to.id} (kept)", [*note_lines, f"(file {filename}, {len(content.encode())} bytes)"]
        case DirectMessage(to=to, message=message):
            return f"DM to {to.id}", lines(message)
        case OpenSpace(circle_id=circle_id, members=members, channel=None):
            return f"#{handle_of(circle_id)}", [f"(private space created for {', '.join(u.id for u in members)})"]
        case OpenSpace(circle_id=circle_id, members=members, channel=channel):
            return f"#{handle_of(circle_id)}", [f"(the circle now meets in {channel}; added: {', '.join(u.id for u in members)})"]
        case AddToSpace(circle_id=circle_id, user=user):
            return f"#{handle_of(circle_id)}", [f"({user.id} was added to the space)"]
        case RemoveFromSpace(circle_id=circle_id, user=user):
            return f"#{handle_of(circle_id)}", [f"({user.id} was removed from the space)"]
        case RefreshHome(user=user):
            return f"(home of {user.id})", ["(their home view is refreshed)"]
    raise TypeError(f"the console cannot render {type(effect).__name__}")


def block(header: str, body: list[str], stamp: str = "") -> str:
    first = f"[{stamp}] {header}" if stamp else header
    return "\n".join([first, *(INDENT + line for line in "\n".join(body).splitlines())])
