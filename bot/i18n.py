"""One message catalog for every user-facing sentence.

The core never formats a sentence itself: it builds :class:`Text` values with
``_()``, which carry a gettext msgid and its parameters. Adapters turn them into
strings with :func:`render` in the reader's language. ``pybabel extract`` finds
every ``_()`` call, so the catalog in ``bot/locale`` lists each sentence once.
"""

from __future__ import annotations

import gettext
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from collections.abc import Callable
from typing import Union

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "circlebot"

Param = Union[str, int, "Text", "Hint"]

#: The one slash command every adapter registers.
COMMAND = "/circle"


@dataclass(frozen=True)
class Hint:
    """A command a message teaches, as data: each adapter spells it in its own form.

    Attributes:
        command: the subcommand, e.g. ``support``.
        args: its arguments; ``<...>`` marks a placeholder the person fills in.
        circle: the circle's id when the command must name it (``#crew``).
    """

    command: str
    args: tuple[str, ...] = ()
    circle: str | None = None


def hint(command: str, *args: str, circle: str | None = None) -> Hint:
    return Hint(command, tuple(args), circle)


def typed_hint(h: Hint) -> str:
    """A hint as it is typed in one line (the console; the default)."""
    circle = [f"#{h.circle}"] if h.circle else []
    return " ".join([COMMAND, h.command, *circle, *h.args])


HintStyle = Callable[[Hint], str]


@dataclass(frozen=True)
class Text:
    """A sentence from the catalog, not yet translated.

    Attributes:
        msgid: the English source sentence, with ``{name}`` placeholders.
        params: the values for the placeholders, as ``(name, value)`` pairs;
            a value may itself be a :class:`Text`.
    """

    msgid: str
    params: tuple[tuple[str, Param], ...] = ()


def _(msgid: str, **params: Param) -> Text:
    """Mark ``msgid`` for the catalog and bind its parameters."""
    return Text(msgid, tuple(sorted(params.items())))


def join(parts: list[Text | str] | tuple[Text | str, ...], separator: str = ", ") -> Text:
    """Join several texts into one, e.g. a list of names."""
    text = _("")
    for index, part in enumerate(parts):
        prefix = separator if index else ""
        text = _("{a}{sep}{b}", a=text, sep=prefix, b=part)
    return text


def join_and(parts: list[Text | str] | tuple[Text | str, ...]) -> Text:
    """Join texts as a list in prose: ``4, 12 and 26``."""
    if len(parts) < 2:
        return join(parts)
    return _("{items} and {last}", items=join(parts[:-1]), last=parts[-1])


@lru_cache(maxsize=None)
def translations(locale: str) -> gettext.NullTranslations:
    """The compiled catalog for ``locale``; English (the msgids) when there is none."""
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[locale], fallback=True)


def render(text: Param, locale: str = "en", hints: HintStyle = typed_hint) -> str:
    """Translate ``text`` into ``locale`` and fill in its parameters; ``hints`` spells commands."""
    if isinstance(text, Hint):
        return hints(text)
    if not isinstance(text, Text):
        return str(text)
    catalog = translations(locale)
    values = {name: render(value, locale, hints) for name, value in text.params}
    template = catalog.gettext(text.msgid) if text.msgid else ""
    return template.format(**values) if values else template
