"""Slack payloads (the shapes Slack documents and sends) become core requests; core effects become Block Kit."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from adapters.slack import render as r
from adapters.slack import translate as t
from bot.actions import Action, Verb, decode_action, encode_action
from bot.circle import UserRef
from bot.effects import Button, FormField, Message, OpenForm
from bot.i18n import _
from bot.inputs import Pressed, Submitted, Typed
from tests.fakes.slack_checks import block_problems, view_problems

PAYLOADS = Path(__file__).parent / "payloads" / "slack"


def payload(name: str) -> dict:
    text = (PAYLOADS / name).read_text()
    return dict(parse_qsl(text.strip())) if name.endswith(".form") else json.loads(text)


@pytest.fixture
def steve():
    return t.actor_of("T0001", "U2147483697", "steve", payload("users_info.json")["user"])


def test_users_info_gives_name_zone_language_and_admin(steve):
    assert steve.user == UserRef("slack", "T0001", "U2147483697")
    assert (steve.name, steve.tz, steve.locale, steve.is_admin) == ("steve.e", "America/Los_Angeles", "de_DE", True)
    unknown = t.actor_of("T0001", "U9", "nobody", None)
    assert (unknown.name, unknown.tz, unknown.locale, unknown.is_admin) == ("nobody", None, None, False)


def test_a_slash_command_is_typed_text_with_mentions_as_user_ids(steve):
    body = payload("slash_command.form")
    request = t.from_command(body, steve)
    assert request.input == Typed("remove U0BOB123 #crew")
    assert request.channel == "C2147483705"
    assert request.request_id == "13345224609.738474920.8088930838d88f008e0"


@pytest.mark.parametrize("text, expected", [
    ("remove <@U0BOB123|bob>", "remove U0BOB123"),
    ("remove <@U0BOB123>", "remove U0BOB123"),
    ("attended <@U1|ann> <@W2|bo>", "attended U1 W2"),
    ("info <#C0CREW1|crew>", "info #crew"),
    ("info <#C0CREW1|>", "info #C0CREW1"),
    ('new "Tea & talk" starter UTC tue 17:00', 'new "Tea & talk" starter UTC tue 17:00'),
    ("place <https://zoom.us/j/123|zoom.us/j/123>", "place https://zoom.us/j/123"),
    ("place <https://meet.example.com/crew>", "place https://meet.example.com/crew"),
])
def test_mentions_in_command_text(text, expected):
    assert t.command_text(text) == expected


def test_a_button_in_a_message_is_pressed_in_its_channel(steve):
    request = t.from_action(payload("block_actions_message.json"), steve)
    assert request.input == Pressed("cb1|ry|crew|3|")
    assert decode_action(request.input.action) == Action(Verb.RSVP_YES, "crew", 3)
    assert request.channel == "C0CREW1"
    assert request.request_id == "12321423423.333649436676.d8c1bb837935619ccad0f624c448ffb3"


def test_a_button_on_the_home_tab_has_no_channel(steve):
    request = t.from_action(payload("block_actions_home.json"), steve)
    assert request.input == Pressed("cb1|ci|crew|3|")
    assert request.channel is None


def test_a_form_submission_carries_its_action_and_one_answer_per_field_in_order(steve):
    request = t.from_submission(payload("view_submission.json"), steve)
    assert request.input == Submitted("cb1|sc|crew|3|", ("Better than I thought", "", "Call my sister"))
    assert request.request_id.startswith("12466734323.")


def test_a_weekly_post_renders_within_block_kit_limits():
    action = Action(Verb.CHECKIN, "crew", 3)
    message = Message(
        (_("Goal: {goal}", goal="x" * 5000), "Prompt <b> & more"),
        title=_("Week {week} of {total}: {title}", week=3, total=8, title="T" * 200),
        buttons=(Button(_("Check in"), action), Button("I'll be there", Action(Verb.RSVP_YES, "crew", 3))),
    )
    blocks = r.message_blocks(message, "en")
    assert block_problems(blocks, r.MESSAGE_BLOCKS) == []
    kinds = [b["type"] for b in blocks]
    assert kinds[:2] == ["header", "context"] and kinds[-1] == "actions" and set(kinds[2:-1]) == {"section"}
    assert blocks[1]["elements"][0]["text"].endswith(" 3/8")
    assert "Prompt &lt;b&gt; &amp; more" in blocks[-2]["text"]["text"]
    assert "".join(b["text"]["text"] for b in blocks[2:-1]).count("x") == 5000  # long text is split, not cut
    buttons = blocks[-1]["elements"]
    assert buttons[0]["action_id"] == buttons[0]["value"] == encode_action(action)


def test_a_form_is_a_modal_with_one_input_per_field_and_its_action_in_private_metadata():
    form = OpenForm(UserRef("slack", "T1", "U1"), "crew", _("Week {week} check-in \u2014 {circle}", week=3, circle="Crew"),
                    (FormField("went", "How did it go?"), FormField("commit", "Your commitment", multiline=False,
                                                                    required=False)),
                    Action(Verb.SUBMIT_CHECKIN, "crew", 3), intro=_("Only your circle sees this."))
    view = r.form_view(form, "en")
    assert view_problems(view) == []
    assert len(view["title"]["text"]) <= 24
    assert decode_action(view["private_metadata"]) == Action(Verb.SUBMIT_CHECKIN, "crew", 3)
    inputs = [b for b in view["blocks"] if b["type"] == "input"]
    assert [(b["block_id"], b["optional"], b["element"]["multiline"]) for b in inputs] == [
        ("field-0", False, True), ("field-1", True, False)]


def test_home_tab_keeps_to_a_hundred_blocks_with_unique_ids():
    many = [Message(tuple(f"line {n}" for n in range(3)), title=_("Circle {n}", n=i),
                    buttons=(Button("Check in", Action(Verb.CHECKIN, f"c{i}", 1)),)) for i in range(40)]
    view = r.home_view(many, "en")
    assert view_problems(view) == []
    assert len(view["blocks"]) <= 100


@pytest.mark.parametrize("name, attempt, expected", [
    ("tuesday-crew", 0, "tuesday-crew"),
    ("Tea & Talk!", 0, "tea-talk"),
    ("\u00c9quipe", 1, "equipe-2"),
    ("x" * 100, 1, "x" * 78 + "-2"),
    ("!!!", 0, "circle"),
])
def test_channel_names_are_valid_for_slack(name, attempt, expected):
    assert r.channel_name(name, attempt) == expected


def test_outbox_key_is_read_back_only_from_our_metadata():
    assert r.outbox_key({"metadata": r.outbox_metadata("crew/exercise:3/0")}) == "crew/exercise:3/0"
    assert r.outbox_key({"metadata": {"event_type": "other", "event_payload": {"key": "k"}}}) is None
    assert r.outbox_key({"text": "no metadata"}) is None


def test_commands_the_bot_teaches_show_as_code():
    from bot.i18n import hint

    message = Message((_("Answer with {command}.", command=hint("checkin", circle="crew")),))
    assert "Answer with `/circle checkin #crew`." in r.message_blocks(message, "en")[0]["text"]["text"]
