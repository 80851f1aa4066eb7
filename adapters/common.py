"""What every chat adapter does the same way: a message as plain text, a week's progress bar, long text in pieces."""

from __future__ import annotations

import math

from bot.effects import Message
from bot.i18n import HintStyle, Text, render, typed_hint

FILLED, EMPTY = "\u25b0", "\u25b1"  # ▰ ▱


def message_lines(message: Message, locale: str, hints: HintStyle = typed_hint) -> list[str]:
    """The message's title (if any) and lines, in ``locale``, commands spelled by ``hints``."""
    title = [render(message.title, locale, hints)] if message.title else []
    return title + [render(line, locale, hints) for line in message.lines]


def message_text(message: Message, locale: str, hints: HintStyle = typed_hint) -> str:
    """The whole message as one plain text: notifications, screen readers and text-only surfaces read it."""
    return "\n".join(message_lines(message, locale, hints))


def week_of(message: Message) -> tuple[int, int] | None:
    """``(week, total)`` when the message's title names a week of a run ("Week 3 of 8: ..."), else None."""
    if not isinstance(message.title, Text):
        return None
    params = dict(message.title.params)
    week, total = params.get("week"), params.get("total")
    return (week, total) if isinstance(week, int) and isinstance(total, int) and total > 0 else None


def progress_bar(week: int, total: int, width: int = 12) -> str:
    """``▰▰▰▱▱▱ 3/6``: how far through its run a circle is, at most ``width`` cells wide."""
    cells = min(width, total)
    # Rounded up: in week 1 of 24 the circle has begun, and the bar shows it.
    done = math.ceil(cells * min(max(week, 0), total) / total)
    return f"{FILLED * done}{EMPTY * (cells - done)} {week}/{total}"


def split_text(text: str, limit: int) -> list[str]:
    """``text`` in pieces of at most ``limit`` characters, cut at line ends where possible, nothing lost."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:  # a single line longer than a piece: cut it at the last space that fits
            cut = line.rfind(" ", 0, limit + 1)
            cut = cut if cut > 0 else limit
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:cut])
            line = line[cut:].lstrip(" ")
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            pieces.append(current)
            candidate = line
        current = candidate
    if current or not pieces:
        pieces.append(current)
    return pieces
