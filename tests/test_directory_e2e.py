"""The directory end to end: typed in the console, through the service, and as Discord's options."""

from __future__ import annotations

from dataclasses import replace

from dbfixtures import database_url, engine, pg_schema  # noqa: F401  (fixtures)
from test_console import run_console
from test_discord_translate import invoked
from test_service import person, say, service  # noqa: F401  (service is a fixture)
from test_workspace_commands import decoded  # noqa: F401  (a fixture)

from adapters.discord.commands import definition
from adapters.discord.translate import grammar_line
from bot import commands as c
from bot.directory import LIST_PAGE
from bot.grammar import parse


def test_the_console_lists_open_circles_filtered_in_the_readers_zone():
    script = "\n".join([
        '/circle new "Kiwis" career Pacific/Auckland mon 08:00',
        "/as carol", '/circle new "Londoners" starter Europe/London wed 19:00',
        "/as dan", '/circle new "Full" starter UTC wed 19:00 2',
        "/as erin", "/circle join full",
        "/as bob", "/circle me timezone America/Los_Angeles",
        "/circle list day sun", "/circle list band europe", "/circle list band mars", "/circle list kit career day fri",
    ]) + "\n"
    out = run_console(script)
    # The console starts on Mon 1 Feb 2027: the kiwis meet Mon 8 Feb 08:00 in Auckland, Sun 7 Feb 11:00 in Los Angeles.
    assert ("#kiwis \u2014 \u201cKiwis\u201d, Career Circle, English, 4 of 5 places free, next meeting "
            "Sun 7 Feb 2027 11:00 (America/Los_Angeles)") in out
    assert "Open to join, meeting on Sundays:" in out and "Open to join, in Europe and Africa:" in out
    assert "Unknown time-zone band \u201cmars\u201d. Use one of: americas, europe, asia, near." in out
    assert "No open circle here is on the Career Circle kit, meeting on Fridays." in out
    assert "#full \u2014" not in out  # two places, both taken


def test_pages_follow_one_another_full_reading_only_what_they_show(service, decoded):  # noqa: F811
    dubai = (3, 7, 11, 15, 22)  # UTC+4: storage finds them for Europe (an hour to spare), the exact check leaves them out
    for n in range(LIST_PAGE + 5):
        say(service, person(f"host{n}"), f'/circle new "Open {n:02d}" starter Europe/Berlin thu 17:00')
        if n in dubai:
            say(service, person(f"host{n}"), f'/circle new "Open {n:02d} Dubai" starter Asia/Dubai thu 17:00')
    bob = replace(person("bob"), tz="Europe/Paris")
    decoded.clear()
    first = say(service, bob, "/circle list band europe day thu")
    assert len(decoded) == LIST_PAGE + 4  # this page's circles and the four left out among them, no more
    assert "Next page: /circle list band europe day thu after open-19" in first
    decoded.clear()
    second = say(service, bob, "/circle list band europe day thu after open-19")
    assert len(decoded) == 6
    shown = [line.split()[0] for text in (first, second) for line in text.splitlines() if line.startswith("#")]
    assert shown == [f"#open-{n:02d}" for n in range(LIST_PAGE + 5)]  # every page full, none twice, none left out
    assert "Next page" not in second and "Your circles:" not in second


def test_discords_list_options_become_the_grammar_line():
    line = grammar_line(invoked("list", kit="career", band="near", language="es", day="tue", after="crew-2"))
    assert line == "list kit career band near language es day tue after crew-2"
    assert parse(line) == c.ListCircles(kit="career", band="near", language="es", day=1, after="crew-2")
    assert grammar_line(invoked("list")) == "list"


def test_discords_list_offers_its_filters_as_options_with_translated_choices():
    (circle,) = definition()
    listing = next(option for option in circle["options"] if option["name"] == "list")
    options = {option["name"]: option for option in listing["options"]}
    assert list(options) == ["kit", "band", "language", "day", "after"]
    assert not any(option["required"] for option in options.values())
    assert options["kit"]["autocomplete"] is True
    assert [choice["value"] for choice in options["band"]["choices"]] == ["americas", "europe", "asia", "near"]
    assert options["band"]["choices"][1]["name_localizations"]["de"] == "Europa und Afrika"
    assert [choice["value"] for choice in options["day"]["choices"]] == ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    assert options["after"]["max_length"] == 40
