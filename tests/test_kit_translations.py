"""Translated kits (kits/translations.py): the same weeks, exercises and questions as their source, in other words."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from circlebot.cli import main
from kits import KitError, builtin_kits, kit_files, load_kit
from kits.loader import BUILTIN_DIR
from kits.translations import NOT_TEXT


def text_only(data):
    """A kit's data with every field that is not words left out, as a translation file holds it."""
    if isinstance(data, dict):
        return {k: text_only(v) for k, v in data.items() if k not in NOT_TEXT}
    if isinstance(data, list):
        return [text_only(v) for v in data]
    return data


def shouted(data):
    """A stand-in translation: the same text, upper case."""
    if isinstance(data, dict):
        return {k: shouted(v) for k, v in data.items()}
    if isinstance(data, list):
        return [shouted(v) for v in data]
    return data.upper() if isinstance(data, str) else data


@pytest.fixture
def starter(tmp_path) -> tuple[Path, dict]:
    """A copy of the starter kit in tmp_path, without its translations, and its data."""
    source = tmp_path / "starter.yaml"
    source.write_text((BUILTIN_DIR / "starter.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    return source, yaml.safe_load(source.read_text(encoding="utf-8"))


def write(path: Path, data) -> Path:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def problems_of(path: Path, expected_file: Path) -> list[str]:
    with pytest.raises(KitError) as caught:
        load_kit(path)
    assert caught.value.path == expected_file
    return caught.value.problems


@pytest.mark.parametrize("kit_id", ["starter", "career"])
def test_the_starter_and_career_kits_ship_in_spanish_and_german(kit_id):
    kit = builtin_kits()[kit_id]
    assert sorted(kit.translations) == ["de", "es"]
    for language, translated in kit.translations.items():
        assert translated.id == kit.id and translated.timing == kit.timing and translated.size == kit.size
        assert [len(w.checkin_questions) for w in translated.weeks] == [len(w.checkin_questions) for w in kit.weeks]
        assert translated.weeks[0].title != kit.weeks[0].title, language
        assert translated.name != kit.name
    assert kit.translated("fr") is kit


def test_translation_files_are_not_kits_of_their_own():
    assert [p.name for p in kit_files(BUILTIN_DIR)] == ["after-loss.yaml", "career.yaml", "starter.yaml"]


def test_a_translation_replaces_the_words_and_keeps_the_timetable(starter):
    source, data = starter
    write(source.with_name("starter.es.yaml"), shouted(text_only(data)))
    kit = load_kit(source)
    spanish = kit.translated("es")
    assert spanish.weeks[1].exercises[0].title == kit.weeks[1].exercises[0].title.upper()
    assert spanish.weeks[1].exercises[0].minutes == kit.weeks[1].exercises[0].minutes
    assert spanish.tune_ups.weeks_after == kit.tune_ups.weeks_after
    assert spanish.support.reminder_days == kit.support.reminder_days
    # Validating the translation's own file checks it with its source.
    assert load_kit(source.with_name("starter.es.yaml")).translated("es") == spanish


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["weeks"].pop(), ["weeks: 3 items, the source has 4"]),
        (lambda d: d["weeks"][2]["exercises"].append({"title": "x", "prompt": "y"}),
         ["weeks[2].exercises: 3 items, the source has 2"]),
        (lambda d: d["weeks"][0]["checkin_questions"].pop(0), ["weeks[0].checkin_questions: 2 items, the source has 3"]),
        (lambda d: d["weeks"][3].pop("moderator_notes"), ["weeks[3].moderator_notes: missing"]),
        (lambda d: d["weeks"][1]["exercises"][0].update(prompt=""), ["weeks[1].exercises[0].prompt: expected text"]),
        (lambda d: d.update(cadence="monthly"), ["cadence: not text; it comes from the source kit, leave it out"]),
        (lambda d: d["weeks"][0].update(mood="calm"), ["weeks[0].mood: not in the source kit"]),
        (lambda d: d["guide"].pop(), ["guide: 7 items, the source has 8"]),
        (lambda d: d["guide"][2].pop("title"), ["guide[2].title: missing"]),
        (lambda d: d["faq"].append({"question": "x", "answer": "y"}), ["faq: 8 items, the source has 7"]),
    ],
    ids=["a week less", "an exercise more", "a question less", "missing text", "empty text", "a timing field", "unknown",
         "a guide section less", "a section's title missing", "a question more"],
)
def test_a_translation_that_differs_from_its_source_names_the_file_and_field(starter, change, expected):
    source, data = starter
    translated = text_only(data)
    change(translated)
    translation = write(source.with_name("starter.de.yaml"), translated)
    assert problems_of(source, translation) == expected
    assert problems_of(translation, translation) == expected


def test_a_translation_without_its_source_is_an_error(tmp_path):
    orphan = write(tmp_path / "lost.es.yaml", {"name": "Perdido"})
    assert problems_of(orphan, tmp_path / "lost.yaml")[0].startswith("cannot read file")


def test_validating_a_folder_checks_each_translation_with_its_source(tmp_path, capsys):
    assert main(["kits", "validate", str(BUILTIN_DIR)]) == 0
    assert f"{BUILTIN_DIR}/starter.yaml: ok \u2014 starter, 4 meetings, weekly, translated into de, es" in capsys.readouterr().out
    source = tmp_path / "starter.yaml"
    source.write_text((BUILTIN_DIR / "starter.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    write(tmp_path / "starter.es.yaml", {"name": "Círculo de inicio"})
    assert main(["kits", "validate", str(tmp_path)]) == 1
    assert f"{tmp_path}/starter.es.yaml: weeks: missing" in capsys.readouterr().err
