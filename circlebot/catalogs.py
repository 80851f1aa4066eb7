"""Checks that keep the translated catalogs in step with the template.

A translation is complete when every sentence of the template
(``bot/locale/circlebot.pot``) has a translation that is not fuzzy, no
translation is left for a sentence the template no longer has, and every
translation uses exactly the placeholders of its source. ``tests/test_catalog.py``
runs :func:`problems` over every shipped language, so CI fails on any of them.
"""

from __future__ import annotations

from pathlib import Path
from string import Formatter

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from bot.i18n import LOCALE_DIR, catalog_path


def read_catalog(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle)


def template() -> Catalog:
    return read_catalog(LOCALE_DIR / "circlebot.pot")


def placeholders(text: str) -> set[str] | None:
    """The ``{name}`` placeholders of ``text``; ``None`` when its braces do not parse."""
    try:
        return {field for _, field, _, _ in Formatter().parse(text) if field is not None}
    except ValueError:
        return None


def problems(source: Catalog, translated: Catalog) -> list[str]:
    """Everything wrong with ``translated`` against the template ``source``, one line each (none: complete)."""
    found: list[str] = []
    wanted = {message.id for message in source if message.id}
    for message in source:
        if not message.id:
            continue
        entry = translated.get(message.id)
        if entry is None or not entry.string:
            found.append(f"missing: {message.id!r}")
        elif entry.fuzzy:
            found.append(f"fuzzy: {message.id!r}")
        elif placeholders(entry.string) != placeholders(message.id):
            found.append(f"placeholders differ: {message.id!r} -> {entry.string!r}")
    found += [f"stale: {message.id!r}" for message in translated if message.id and message.id not in wanted]
    found += [f"stale (obsolete): {msgid!r}" for msgid in translated.obsolete]
    return found


def shipped_languages() -> list[str]:
    """Every language with a catalog in ``bot/locale``."""
    return sorted(path.parent.parent.name for path in LOCALE_DIR.glob("*/LC_MESSAGES/*.po"))


def language_problems(locale: str) -> list[str]:
    return problems(template(), read_catalog(catalog_path(locale)))
