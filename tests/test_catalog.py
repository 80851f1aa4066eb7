"""Every sentence the bot says comes from the one message catalog."""

from __future__ import annotations

import re
import subprocess
import sys
from fnmatch import fnmatch
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from bot import i18n
from bot.people import LANGUAGES
from circlebot.catalogs import language_problems, problems, shipped_languages
from bot.grammar import parse
from bot.i18n import _, render
from bot.messages import help_message

ROOT = Path(__file__).parent.parent
POT = ROOT / "bot" / "locale" / "circlebot.pot"


def extract(tmp_path: Path) -> set[str]:
    out = tmp_path / "fresh.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "_",
         "--no-location", "--sort-output", "-o", str(out), "."],
        cwd=ROOT, check=True, capture_output=True,
    )
    with out.open("rb") as handle:
        return {m.id for m in read_po(handle) if m.id}


def test_the_shipped_catalog_lists_every_sentence_in_the_code(tmp_path):
    with POT.open("rb") as handle:
        shipped = {m.id for m in read_po(handle) if m.id}
    fresh = extract(tmp_path)
    missing = fresh - shipped
    assert not missing, f"run the pybabel extract command in README; missing: {sorted(missing)[:5]}"


def test_babel_extracts_every_module_that_says_something_to_a_person():
    """A module outside babel.cfg's patterns could call ``_()`` and its sentences would never be translated."""
    patterns = re.findall(r"^\[python: (.+)\]$", (ROOT / "babel.cfg").read_text(), re.MULTILINE)
    speaking = {
        path.relative_to(ROOT).as_posix()
        for package in ROOT.iterdir() if package.is_dir() and not package.name.startswith(".") and package.name != "tests"
        for path in package.rglob("*.py")
        if re.search(r"^from bot\.i18n import .*\b_\b", path.read_text(encoding="utf-8"), re.MULTILINE)
    }
    assert "circlebot/service.py" in speaking  # the core's replies about circles ("The circle is busy ...")
    outside = sorted(path for path in speaking if not any(fnmatch(path, pattern) for pattern in patterns))
    assert not outside, f"add these to babel.cfg and run the catalog routine (README, Languages): {outside}"


@pytest.fixture
def pseudo_locale(tmp_path, monkeypatch):
    """An 'xx' catalog that translates two sentences."""
    catalog = Catalog(locale="de")
    catalog.add("Circlebot commands", "Circlebot-Befehle")
    catalog.add("Unknown weekday \u201c{day}\u201d. Use one of: {choices}.", "Unbekannter Wochentag \u201e{day}\u201c. Erlaubt: {choices}.")
    target = tmp_path / "xx" / "LC_MESSAGES"
    target.mkdir(parents=True)
    with (target / "circlebot.po").open("wb") as handle:
        write_po(handle, catalog)
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    i18n.translations.cache_clear()
    i18n.language.cache_clear()
    yield "xx"
    i18n.translations.cache_clear()
    i18n.language.cache_clear()


def test_messages_render_in_another_language_without_touching_the_logic(pseudo_locale):
    assert render(help_message().title, pseudo_locale) == "Circlebot-Befehle"
    with pytest.raises(Exception) as raised:
        parse("/circle new Crew career UTC someday 17:00")
    assert render(raised.value.text, pseudo_locale).startswith("Unbekannter Wochentag \u201esomeday\u201c. Erlaubt: mon, tue")
    # Untranslated sentences fall back to English.
    assert render(_("Only you see this."), pseudo_locale) == "Only you see this."


def test_nested_parameters_render():
    assert render(_("{a} and {b}", a=_("x {n}", n=3), b="y")) == "x 3 and y"


def test_every_language_the_bot_speaks_ships_a_catalog():
    assert shipped_languages() == sorted(set(LANGUAGES) - {"en"})


@pytest.mark.parametrize("locale", sorted(set(LANGUAGES) - {"en"}))
def test_each_catalog_is_complete_current_and_keeps_every_placeholder(locale):
    found = language_problems(locale)
    assert not found, (
        f"{locale}: {len(found)} problems, e.g. {found[:5]}; run pybabel update (README, Languages) and translate"
    )


def test_the_catalog_check_finds_missing_fuzzy_stale_and_changed_placeholders():
    source = Catalog()
    for msgid in ("Week {week}", "Hello {name}", "Thanks", "Bye", "Kept"):
        source.add(msgid)
    translated = Catalog(locale="es")
    translated.add("Week {week}", "Semana {semana}")  # a renamed placeholder
    translated.add("Hello {name}", "Hola {name}", flags=["fuzzy"])
    translated.add("Thanks", "")
    translated.add("Kept", "Guardado")
    translated.add("Gone", "Ido")  # no longer in the template
    translated.obsolete["Old"] = translated["Gone"]
    assert problems(source, translated) == [
        "placeholders differ: 'Week {week}' -> 'Semana {semana}'",
        "fuzzy: 'Hello {name}'",
        "missing: 'Thanks'",
        "missing: 'Bye'",
        "stale: 'Gone'",
        "stale (obsolete): 'Old'",
    ]


def test_a_translation_with_broken_braces_is_reported():
    source, translated = Catalog(), Catalog(locale="de")
    source.add("{n} meetings")
    translated.add("{n} meetings", "{n Treffen")
    assert problems(source, translated) == ["placeholders differ: '{n} meetings' -> '{n Treffen'"]


def test_the_shipped_catalogs_translate_the_bot():
    i18n.translations.cache_clear()
    assert render(help_message().title, "es") == "Comandos de Circlebot"
    assert render(help_message().title, "de") == "Circlebot-Befehle"
    # A refusal from circlebot/service.py, outside bot/ and adapters/.
    busy = _("The circle is busy right now; please try again in a moment.")
    assert render(busy, "es") == "El círculo está ocupado ahora mismo; vuelve a intentarlo en un momento."


def test_a_platforms_locale_reads_its_language_and_any_other_reads_english():
    title = help_message().title
    assert [render(title, locale) for locale in ("es-ES", "es_MX", "de-AT", "en-GB", "fr", "", "pt-BR")] == [
        "Comandos de Circlebot", "Comandos de Circlebot", "Circlebot-Befehle",
        "Circlebot commands", "Circlebot commands", "Circlebot commands", "Circlebot commands",
    ]
