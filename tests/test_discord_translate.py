"""Discord interaction payloads -> the core's grammar, and /circle's definition within Discord's limits."""

from __future__ import annotations

import re

import pytest

from adapters.discord.commands import (
    ADMIN_GROUP, DATA_GROUP, DISCORD_LOCALES, MODERATOR_GROUP, definition, definition_hash, group_of,
)
from adapters.discord.translate import answers, grammar_line, language, may_open_form
from bot.actions import Action, Verb, encode_action
from bot.inputs import Pressed, Submitted, Typed
from bot import commands as c
from bot.grammar import SUBCOMMANDS, parse
from bot.people import LANGUAGES


def invoked(sub: str, group: str | None = None, **options) -> dict:
    """``data`` of an APPLICATION_COMMAND interaction, as Discord sends it."""
    kinds = {str: 3, int: 4, bool: 5}
    given = [{"type": kinds[type(v)], "name": k, "value": v} for k, v in options.items()]
    leaf = {"type": 1, "name": sub, "options": given}
    top = {"type": 2, "name": group, "options": [leaf]} if group else leaf
    return {"id": "1", "name": "circle", "type": 1, "options": [top]}


def test_every_subcommand_of_the_grammar_is_defined_once_within_discords_limits():
    circle, _report = definition()
    defined = []
    for option in circle["options"]:
        assert len(option["options"]) <= 25 and len(option["description"]) <= 100
        for sub in option["options"] if option["type"] == 2 else [option]:
            defined.append(sub["name"])
            assert re.fullmatch(r"[-_a-z0-9]{1,32}", sub["name"]) and 1 <= len(sub["description"]) <= 100
            required = [o.get("required", False) for o in sub["options"]]
            assert required == sorted(required, reverse=True)  # Discord wants required options first
    assert sorted(defined) == sorted(SUBCOMMANDS) and len(circle["options"]) <= 25
    assert group_of("start") == MODERATOR_GROUP and group_of("checkin") is None and group_of("match") == ADMIN_GROUP
    assert group_of("export") == group_of("forget-me") == DATA_GROUP and group_of("calendar") is None
    assert definition_hash() == definition_hash() and counted_characters(circle) <= 8000


def counted_characters(node: dict) -> int:
    """What Discord counts against a command's 8,000 characters: names, descriptions and values, each in its
    longest localization, through every option and choice."""
    total = 0
    for field in ("name", "description", "value"):
        if field in node:
            total += max(len(str(text)) for text in [node[field], *node.get(f"{field}_localizations", {}).values()])
    return total + sum(counted_characters(child) for key in ("options", "choices") for child in node.get(key, ()))


def described(node: dict):
    yield node
    for key in ("options", "choices"):
        for child in node.get(key, ()):
            yield from described(child)


def test_the_command_reads_in_every_language_the_bot_speaks():
    assert set(DISCORD_LOCALES) == set(LANGUAGES) - {"en"}
    every_locale = {locale for locales in DISCORD_LOCALES.values() for locale in locales}
    circle, _report = definition()
    for node in described(circle):
        if "description" in node:  # every description is translated, within Discord's 100 characters
            localized = node["description_localizations"]
            assert set(localized) == every_locale, (node["description"], localized)
            assert all(1 <= len(text) <= 100 and text != node["description"] for text in localized.values())
    new = next(option for option in circle["options"] if option["name"] == "new")
    day = next(option for option in new["options"] if option["name"] == "day")
    assert [choice["name_localizations"]["de"] for choice in day["choices"]][:2] == ["Montag", "Dienstag"]
    assert day["description_localizations"]["es-ES"] == "día de la semana de la reunión"


@pytest.mark.parametrize(
    ("data", "line", "command"),
    [
        (invoked("new", name="Bob's crew", kit="career", timezone="Europe/London", day="tue", time="17:45", places=4),
         "new 'Bob'\"'\"'s crew' career Europe/London tue 17:45 4", c.NewCircle),
        (invoked("join", circle="tuesday-crew"), "join tuesday-crew", c.Join),
        (invoked("checkin", answers="Met everyone | I'll call Sam"), "checkin Met everyone | I'll call Sam",
         c.CheckInCommand),
        (invoked("checkin", circle="crew"), "checkin #crew", c.CheckInCommand),
        (invoked("pause", MODERATOR_GROUP, circle="crew", weeks=2), "pause #crew for 2w", c.Pause),
        (invoked("remove", MODERATOR_GROUP, member="4242"), "remove <@4242>", c.Remove),
        (invoked("forget-me", DATA_GROUP, confirm=True), "forget-me confirm", c.ForgetMe),
        (invoked("forget-me", DATA_GROUP, confirm=False), "forget-me", c.ForgetMe),
        (invoked("rsvp", answer="no"), "rsvp no", c.Attend),
        (invoked("me", "data", timezone="America/New_York"), "me timezone America/New_York", c.Me),
        (invoked("signup", hours="starter tue 17-20, thu 18-21 moderate yes"),
         "signup starter tue 17-20, thu 18-21 moderate yes", c.SignUp),
        (invoked("signup", hours="cancel"), "signup cancel", c.LeavePool),
        (invoked("signup"), "signup", c.MySignup),
        (invoked("match", ADMIN_GROUP), "match", c.Match),
        (invoked("match", ADMIN_GROUP, when="every mon 09:00 Europe/London"), "match every mon 09:00 Europe/London",
         c.MatchSchedule),
        (invoked("comod", MODERATOR_GROUP, circle="crew", member="4242"), "comod #crew <@4242>", c.CoModerator),
        (invoked("comod", MODERATOR_GROUP, member="4242", remove=True), "comod remove <@4242>", c.CoModerator),
        (invoked("faq", words="how do I leave?"), "faq how do I leave?", c.Faq),
        (invoked("guide", circle="crew", section="2"), "guide #crew 2", c.Guide),
    ],
)
def test_a_typed_invocation_becomes_the_line_the_core_parses(data, line, command):
    assert grammar_line(data) == line
    assert isinstance(parse(line), command)


def test_languages_and_modal_answers_come_from_the_payload():
    assert [language(x) for x in ("es-ES", "en-GB", "de", "fr", None)] == ["es", "en", "de", None, None]
    rows = [{"type": 1, "components": [{"type": 4, "custom_id": f"a{i}", "value": v}]}
            for i, v in ((1, "second"), (0, "first"))]
    assert answers({"custom_id": "x", "components": rows}) == ("first", "second")


def test_only_a_check_in_without_answers_may_open_a_form():
    form = encode_action(Action(Verb.CHECKIN, "c1", 2))
    assert may_open_form(Typed("checkin")) and may_open_form(Typed("checkin #crew")) and may_open_form(Pressed(form))
    assert not may_open_form(Typed("checkin fine | ok")) and not may_open_form(Typed("info"))
    assert not may_open_form(Pressed(encode_action(Action(Verb.RSVP_YES, "c1", 2)))) and not may_open_form(Pressed("x"))
    assert not may_open_form(Submitted(form, ("a",)))
