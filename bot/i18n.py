"""One message catalog for every user-facing sentence.

The core never formats a sentence itself: it builds :class:`Text` values with
``_()``, which carry a gettext msgid and its parameters. Adapters turn them into
strings with :func:`render` in the reader's language. ``pybabel extract`` finds
every ``_()`` call, so the catalog in ``bot/locale`` lists each sentence once.
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Union
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_time, get_datetime_format, get_day_names
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "circlebot"

Param = Union[str, int, "Text", "Hint", "When", "Day", "Weekday"]

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
class When:
    """A moment as its reader sees it: local date and time in ``tz``, named, in the reader's language."""

    at: datetime
    tz: str


@dataclass(frozen=True)
class Day:
    """A calendar day, written in the reader's language (``Thu 4 Mar 2027``, ``jue, 4 mar 2027``)."""

    on: date


@dataclass(frozen=True)
class Weekday:
    """A day of the week, 0 for Monday, by its full name in the reader's language."""

    index: int


#: English keeps the short British form everywhere; other languages follow Babel's (CLDR's) own.
ENGLISH_DATE = "EEE d MMM y"
DATE_SKELETON = "yMMMEd"


def _date(on: date, locale: str) -> str:
    if locale == "en":
        return format_date(on, ENGLISH_DATE, locale="en")
    return format_date(on, _skeleton_pattern(locale), locale=locale)


@lru_cache(maxsize=None)
def _skeleton_pattern(locale: str) -> str:
    return Locale.parse(locale).datetime_skeletons[DATE_SKELETON].pattern


def _when(when: When, locale: str) -> str:
    local = when.at.astimezone(ZoneInfo(when.tz))
    day, clock = _date(local.date(), locale), format_time(local, "HH:mm", locale=locale)
    joined = f"{day} {clock}" if locale == "en" else get_datetime_format("medium", locale).format(clock, day)
    return f"{joined} ({when.tz})"


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


def catalog_path(locale: str) -> Path:
    """Where the translations of ``locale`` live (``bot/locale/es/LC_MESSAGES/circlebot.po``)."""
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=None)
def translations(locale: str) -> gettext.NullTranslations:
    """The catalog for ``locale``, compiled from its ``.po`` file; English (the msgids) when there is none.

    Compiled here, once per process, rather than shipped as ``.mo`` files that could
    fall behind their ``.po``. Fuzzy entries are left out, as ``pybabel compile`` does.
    """
    path = catalog_path(locale)
    if not path.is_file():
        return gettext.NullTranslations()
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=locale, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


@lru_cache(maxsize=None)
def language(locale: str | None) -> str:
    """The shipped language for a platform's locale (``es-ES`` -> ``es``, ``en-GB`` -> ``en``); English for any other."""
    base = (locale or "").replace("_", "-").split("-")[0].lower()
    return base if base.isalpha() and catalog_path(base).is_file() else "en"


def render(text: Param, locale: str = "en", hints: HintStyle = typed_hint) -> str:
    """Translate ``text`` into ``locale`` and fill in its parameters; ``hints`` spells commands.

    ``locale`` may be any platform's code (``de-DE``); a language with no catalog reads English.
    """
    return _render(text, language(locale), hints)


def _render(text: Param, locale: str, hints: HintStyle) -> str:
    if isinstance(text, Hint):
        return hints(text)
    if isinstance(text, When):
        return _when(text, locale)
    if isinstance(text, Day):
        return _date(text.on, locale)
    if isinstance(text, Weekday):
        return get_day_names("wide", locale=locale)[text.index]
    if not isinstance(text, Text):
        return str(text)
    catalog = translations(locale)
    values = {name: _render(value, locale, hints) for name, value in text.params}
    template = catalog.gettext(text.msgid) if text.msgid else ""
    return template.format(**values) if values else template
