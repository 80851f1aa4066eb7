"""Core effects as terminal text."""

from __future__ import annotations

from bot.effects import (
    AddToSpace,
    DirectMessage,
    Message,
    OpenForm,
    OpenSpace,
    PostToCircle,
    RemoveFromSpace,
    Reply,
)
from bot.grammar import PREFIX
from bot.i18n import render

INDENT = "    "


def message_lines(message: Message, locale: str) -> list[str]:
    lines = [f"== {render(message.title, locale)} ==" ] if message.title else []
    lines += [render(line, locale) for line in message.lines]
    if message.buttons:
        lines.append(" ".join(f"[{render(b.label, locale)}: {PREFIX} {b.command}]" for b in message.buttons))
    return lines


def form_lines(form: OpenForm, locale: str) -> list[str]:
    lines = [f"== {render(form.title, locale)} =="]
    if form.intro:
        lines.append(render(form.intro, locale))
    lines += [f"{n}. {render(f.label, locale)}" for n, f in enumerate(form.fields, start=1)]
    lines.append(f"(answer in one line: {PREFIX} {form.submit} #{form.circle_id} answer 1 | answer 2 | ...)")
    return lines


def effect_lines(effect, locale: str) -> tuple[str, list[str]]:
    """A header naming where the effect appears, and its body lines.

    Raises:
        TypeError: an effect type the console does not know, so tests catch it.
    """
    match effect:
        case Reply(to=to, message=message):
            return f"(only {to.id} sees this)", message_lines(message, locale)
        case OpenForm(to=to):
            return f"(form for {to.id})", form_lines(effect, locale)
        case PostToCircle(circle_id=circle_id, message=message):
            return f"#{circle_id}", message_lines(message, locale)
        case DirectMessage(to=to, message=message):
            return f"DM to {to.id}", message_lines(message, locale)
        case OpenSpace(circle_id=circle_id, members=members):
            return f"#{circle_id}", [f"(private space created for {', '.join(u.id for u in members)})"]
        case AddToSpace(circle_id=circle_id, user=user):
            return f"#{circle_id}", [f"({user.id} was added to the space)"]
        case RemoveFromSpace(circle_id=circle_id, user=user):
            return f"#{circle_id}", [f"({user.id} was removed from the space)"]
    raise TypeError(f"the console cannot render {type(effect).__name__}")


def block(header: str, body: list[str], stamp: str = "") -> str:
    first = f"[{stamp}] {header}" if stamp else header
    return "\n".join([first, *(INDENT + line for line in "\n".join(body).splitlines())])
