"""Kits in other languages: a sibling file with the same text, translated.

A kit ``starter.yaml`` may have translations beside it, ``starter.es.yaml`` and
``starter.de.yaml``. A translation holds only text: the same fields as its
source, every list just as long (the same weeks, exercises, questions, agenda
points), and none of the fields that are not words (``id``, ``cadence``,
``timing``, ``size``, ``minutes``, ``weeks_after``, ``reminder_days``), which
always come from the source. So a translated circle keeps its source's timetable.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

#: Fields that are not words: a translation leaves them out and the source's stand.
NOT_TEXT = frozenset({"id", "cadence", "timing", "size", "minutes", "weeks_after", "reminder_days"})
_TRANSLATION_NAME = re.compile(r"^(?P<kit>[^.]+)\.(?P<language>[a-z]{2})\.yaml$")


def language_of(path: Path) -> str | None:
    """The language a translation file is in (``es`` for ``starter.es.yaml``); ``None`` for a kit's source file."""
    match = _TRANSLATION_NAME.match(path.name)
    return match["language"] if match else None


def source_of(path: Path) -> Path:
    """The source kit file a translation translates (``starter.yaml`` for ``starter.es.yaml``)."""
    match = _TRANSLATION_NAME.match(path.name)
    return path.with_name(f"{match['kit']}.yaml") if match else path


def translations_beside(path: Path) -> dict[str, Path]:
    """The translation files next to the source kit file ``path``, by language."""
    found = (sibling for sibling in sorted(path.parent.glob(f"{path.stem}.*.yaml")) if source_of(sibling) == path)
    return {language_of(sibling): sibling for sibling in found}


def mismatches(source: Any, translated: Any, where: str = "") -> list[str]:
    """How ``translated`` differs in shape from the text of ``source``, one ``field.path: problem`` each."""
    if isinstance(source, dict):
        if not isinstance(translated, dict):
            return [f"{where or '(top level)'}: expected a mapping, as in the source"]
        problems: list[str] = []
        for key, value in source.items():
            path = f"{where}.{key}" if where else key
            if key in NOT_TEXT:
                continue
            if key not in translated:
                problems.append(f"{path}: missing")
            else:
                problems += mismatches(value, translated[key], path)
        for key in translated:
            path = f"{where}.{key}" if where else key
            if key in NOT_TEXT:
                problems.append(f"{path}: not text; it comes from the source kit, leave it out")
            elif key not in source:
                problems.append(f"{path}: not in the source kit")
        return problems
    if isinstance(source, list):
        if not isinstance(translated, list) or len(translated) != len(source):
            count = len(translated) if isinstance(translated, list) else "not a list of"
            return [f"{where}: {count} items, the source has {len(source)}"]
        return [p for n, (s, t) in enumerate(zip(source, translated)) for p in mismatches(s, t, f"{where}[{n}]")]
    if isinstance(source, str) and not (isinstance(translated, str) and translated.strip()):
        return [f"{where}: expected text"]
    return []


def overlay(source: Any, translated: Any) -> Any:
    """``source`` with its text replaced by ``translated``'s (same shape, as :func:`mismatches` checked)."""
    if isinstance(source, dict):
        return {k: v if k in NOT_TEXT else overlay(v, translated[k]) for k, v in source.items()}
    if isinstance(source, list):
        return [overlay(s, t) for s, t in zip(source, translated)]
    return translated if isinstance(source, str) else source
