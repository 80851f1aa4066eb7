"""Every sentence the bot says comes from the one message catalog."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from bot import i18n
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


@pytest.fixture
def pseudo_locale(tmp_path, monkeypatch):
    """A compiled 'xx' catalog that translates two sentences."""
    catalog = Catalog(locale="de")
    catalog.add("Circlebot commands", "Circlebot-Befehle")
    catalog.add("Unknown weekday \u201c{day}\u201d. Use one of: {choices}.", "Unbekannter Wochentag \u201e{day}\u201c. Erlaubt: {choices}.")
    target = tmp_path / "xx" / "LC_MESSAGES"
    target.mkdir(parents=True)
    with (target / "circlebot.mo").open("wb") as handle:
        write_mo(handle, catalog)
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    i18n.translations.cache_clear()
    yield "xx"
    i18n.translations.cache_clear()


def test_messages_render_in_another_language_without_touching_the_logic(pseudo_locale):
    assert render(help_message().title, pseudo_locale) == "Circlebot-Befehle"
    with pytest.raises(Exception) as raised:
        parse("/circle new Crew career UTC someday 17:00")
    assert render(raised.value.text, pseudo_locale).startswith("Unbekannter Wochentag \u201esomeday\u201c. Erlaubt: mon, tue")
    # Untranslated sentences fall back to English.
    assert render(_("Only you see this."), pseudo_locale) == "Only you see this."


def test_nested_parameters_render():
    assert render(_("{a} and {b}", a=_("x {n}", n=3), b="y")) == "x 3 and y"
