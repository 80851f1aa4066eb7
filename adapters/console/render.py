"""Core effects as terminal text."""

from __future__ import annotations

from collections.abc import Callable
from itertools import count
from pathlib import Path

from bot.effects import (
    AddToSpace,
    DirectMessage,
    Message,
    OpenForm,
    OpenSpace,
    PostToCircle,
    PostToCommunity,
    ProgressCard,
    RemoveFromSpace,
    Reply,
    SendFile,
)
from bot.grammar import PREFIX
from bot.i18n import render
from circlebot.pictures import render_progress_png

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


def message_lines(message: Message, locale: str, pictures: PictureFolder | None = None) -> list[str]:
    """The message as text; its picture, if any, is saved in ``pictures`` and named by its path."""
    lines = [f"== {render(message.title, locale)} ==" ] if message.title else []
    if message.card:
        lines.append(f"[picture: {pictures.save(message.card, locale) if pictures else 'not saved'}]")
    lines += [render(line, locale) for line in message.lines]
    if message.buttons:
        lines.append(" ".join(f"[{render(b.label, locale)}: {PREFIX} {b.command}]" for b in message.buttons))
    return lines


def form_lines(form: OpenForm, locale: str, handle_of: Callable[[str], str]) -> list[str]:
    lines = [f"== {render(form.title, locale)} =="]
    if form.intro:
        lines.append(render(form.intro, locale))
    lines += [f"{n}. {render(f.label, locale)}" for n, f in enumerate(form.fields, start=1)]
    lines.append(f"(answer in one line: {PREFIX} {form.submit} #{handle_of(form.circle_id)} answer 1 | answer 2 | ...)")
    return lines


def effect_lines(
    effect, locale: str, pictures: PictureFolder | None = None, *, handle_of: Callable[[str], str]
) -> tuple[str, list[str]]:
    """A header naming where the effect appears, and its body lines (pictures saved in ``pictures``).

    ``handle_of`` gives a circle's handle (``crew`` for ``#crew``) from its id.

    Raises:
        TypeError: an effect type the console does not know, so tests catch it.
    """
    match effect:
        case Reply(to=to, message=message):
            return f"(only {to.id} sees this)", message_lines(message, locale, pictures)
        case OpenForm(to=to):
            return f"(form for {to.id})", form_lines(effect, locale, handle_of)
        case PostToCircle(circle_id=circle_id, message=message):
            return f"#{handle_of(circle_id)}", message_lines(message, locale, pictures)
        case PostToCommunity(message=message):
            return COMMUNITY, message_lines(message, locale, pictures)
        case SendFile(to=to, filename=filename, content=content, note=note):
            lines = [render(note, locale)] if note else []
            return f"(only {to.id} sees this)", [*lines, f"(file {filename}, {len(content.encode())} bytes)"]
        case DirectMessage(to=to, message=message):
            return f"DM to {to.id}", message_lines(message, locale, pictures)
        case OpenSpace(circle_id=circle_id, members=members):
            return f"#{handle_of(circle_id)}", [f"(private space created for {', '.join(u.id for u in members)})"]
        case AddToSpace(circle_id=circle_id, user=user):
            return f"#{handle_of(circle_id)}", [f"({user.id} was added to the space)"]
        case RemoveFromSpace(circle_id=circle_id, user=user):
            return f"#{handle_of(circle_id)}", [f"({user.id} was removed from the space)"]
    raise TypeError(f"the console cannot render {type(effect).__name__}")


def block(header: str, body: list[str], stamp: str = "") -> str:
    first = f"[{stamp}] {header}" if stamp else header
    return "\n".join([first, *(INDENT + line for line in "\n".join(body).splitlines())])
