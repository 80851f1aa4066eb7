"""The core's messages and forms as Discord JSON: within Discord's limits and the spec's request schemas."""

from __future__ import annotations

import pytest
from fakes.discord_spec import DiscordSpec, discord_spec_path

from adapters.discord.render import modal, posts
from bot.actions import Action, Verb, decode_action
from bot.circle import UserRef
from bot.effects import Button, FormField, Message, OpenForm
from bot.i18n import _

MESSAGES = "/api/v10/channels/1/messages"
CALLBACK = "/api/v10/interactions/1/token/callback"


@pytest.fixture(scope="module")
def spec() -> DiscordSpec:
    return DiscordSpec(discord_spec_path())


def test_a_weekly_post_has_its_week_a_progress_bar_and_buttons_carrying_actions(spec):
    check_in = Action(Verb.CHECKIN, "tuesday-crew", 3)
    message = Message((_("Goal: {goal}", goal="one small step"),), title=_("Week {week} of {total}: {theme}",
                      week=3, total=8, theme="Asking for help"), buttons=(Button(_("Check in"), check_in),))
    (post,) = posts(message, "en")
    assert post.payload["content"].startswith("**Week 3 of 8: Asking for help**\n")
    assert "3/8" in post.payload["content"]
    (button,) = post.payload["components"][0]["components"]
    assert decode_action(button["custom_id"]) == check_in and len(button["custom_id"]) <= 100
    assert spec.check("POST", MESSAGES, [], post.payload)[1] == []


def test_long_text_continues_in_further_messages_with_the_buttons_on_the_last(spec):
    lines = tuple(f"line {n}: " + "words " * 30 for n in range(40))
    message = Message(lines, buttons=(Button("Yes", Action(Verb.RSVP_YES, "crew", 1)),))
    sent = posts(message, "en", ephemeral=True)
    assert len(sent) > 1 and all(len(p.payload["content"]) <= 2000 for p in sent)
    assert "".join(p.payload["content"].replace("\n", "") for p in sent) == "".join(lines)
    assert [bool(p.payload.get("components")) for p in sent] == [False] * (len(sent) - 1) + [True]
    assert all(p.payload["flags"] == 64 and spec.check("POST", MESSAGES, [], p.payload)[1] == [] for p in sent)


def test_a_form_is_a_modal_within_limits_with_long_questions_whole_as_placeholders(spec):
    question = "What is one thing you will do toward your goal before the next meeting?"
    form = OpenForm(UserRef("discord", "1", "2"), "crew", _("Check-in for week {week}", week=2),
                    (FormField("q0", "How did it go?"), FormField("q1", question, multiline=False)),
                    Action(Verb.SUBMIT_CHECKIN, "crew", 2))
    shown = modal(form, "en", "custom")
    first, second = (row["components"][0] for row in shown["components"])
    assert first["label"] == "How did it go?" and "placeholder" not in first and first["style"] == 2
    assert len(second["label"]) <= 45 and second["placeholder"] == question and second["style"] == 1
    assert spec.check("POST", CALLBACK, [], {"type": 9, "data": shown})[1] == []


def test_more_than_five_questions_are_split_across_pages():
    fields = tuple(FormField(f"q{n}", f"Question {n}") for n in range(7))
    form = OpenForm(UserRef("discord", "1", "2"), "crew", _("Check-in"), fields, Action(Verb.SUBMIT_CHECKIN, "crew", 1))
    pages = [modal(form, "en", "c", page) for page in (0, 1)]
    assert [len(p["components"]) for p in pages] == [5, 2]
    assert pages[1]["components"][0]["components"][0]["custom_id"] == "a5" and pages[1]["title"].endswith("(2/2)")
